# Google auth: JSON reader, JWT signing, credential files, and token
# fetches against the fake servers of tests/helpers/fake-gcp.
GCP_SRCS := $(sort $(wildcard publishers/gcp/*.c)) publishers/http/fce_http.c
$(eval $(call fce_test,unit-gcp,tests/unit/gcp/test_gcp.c \
    tests/unit/gcp/fake_gcp.c $(GCP_SRCS),fce_common,$(SYS_LIBS)))
