# The Pub/Sub backend through its vtable against the fake Pub/Sub server
# of tests/helpers/fake-gcp (REST) and a gRPC front for it (gRPC), plus
# its renderers, the gRPC wire format, the topic check and the classes.
PUBSUB_TEST_SRCS := $(sort $(wildcard publishers/pubsub/*.c) \
    $(wildcard publishers/gcp/*.c)) publishers/http/fce_http.c
$(eval $(call fce_test,unit-pubsub,tests/unit/pubsub/test_pubsub.c \
    tests/unit/gcp/fake_gcp.c tests/unit/pubsub/grpc_front.c \
    $(PUBSUB_TEST_SRCS),fce_common fce_proto,$(SYS_LIBS)))
