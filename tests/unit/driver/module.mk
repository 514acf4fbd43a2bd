$(eval $(call fce_test,unit-driver,tests/unit/driver/test_driver.c \
    $(PUBLISHER_DRIVER_SRCS),fce_common fce_proto fce_shm,$(SYS_LIBS)))
