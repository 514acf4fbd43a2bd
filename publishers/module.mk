# fce-publisher: the driver plus every backend's sources. Backends are
# linked as objects, not from an archive, so the weak references in
# backends.c and backend_types.c resolve to whatever folders exist.
PUBLISHER_DRIVER_SRCS := publishers/window.c publishers/backoff.c \
                         publishers/dead_letter.c publishers/driver.c
PUBLISHER_SRCS := $(sort $(PUBLISHER_DRIVER_SRCS) publishers/backends.c \
    publishers/publisher_main.c $(OPTION_SRCS) \
    $(wildcard publishers/*/*.c))

$(eval $(call fce_bin,fce-publisher,$(PUBLISHER_SRCS),\
    fce_common fce_proto fce_shm,$(SYS_LIBS)))
