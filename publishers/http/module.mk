# The HTTP client shared by the HTTP backends (SNS, SQS, Pub/Sub).
HTTP_SRCS := $(sort $(wildcard publishers/http/*.c))
$(eval $(call fce_lib,fce_http,$(HTTP_SRCS)))
