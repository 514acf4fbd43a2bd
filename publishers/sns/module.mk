# The sns backend as a library for unit tests; fce-publisher links the
# same sources as objects (publishers/module.mk).
SNS_SRCS := $(sort $(wildcard publishers/sns/*.c))
$(eval $(call fce_lib,fce_sns,$(SNS_SRCS)))
