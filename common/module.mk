COMMON_SRCS := $(sort $(wildcard common/*.c))
$(eval $(call fce_lib,fce_common,$(COMMON_SRCS)))
