# Unit tests of the configuration loader, with every linked backend's
# option table (OPTION_SRCS) so FlyteAdmin's blocks resolve.
$(eval $(call fce_test,unit-config,tests/unit/config/test_config.c \
    $(OPTION_SRCS),fce_common fce_shm,$(SYS_LIBS)))
