# The stream protocol codec and client helpers, and frames through an
# ingest connection into a real ring, without sockets.
$(eval $(call fce_test,unit-stream,tests/unit/stream/test_stream.c \
    $(INGEST_CORE_SRCS),fce_common fce_proto fce_shm,$(SYS_LIBS)))
$(BUILD)/obj/tests/unit/stream/%.o: EXTRA_CFLAGS := -Iingest
