SHM_SRCS := $(sort $(wildcard shm/*.c))
$(eval $(call fce_lib,fce_shm,$(SHM_SRCS)))
