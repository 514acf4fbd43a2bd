# The HTTP head parser and HTTP requests through a connection into a real
# ring, without sockets (ingest/ingest.h).
$(eval $(call fce_test,unit-http,tests/unit/http/test_http.c \
    $(INGEST_CORE_SRCS),fce_common fce_proto fce_shm,$(SYS_LIBS)))
$(BUILD)/obj/tests/unit/http/%.o: EXTRA_CFLAGS := -Iingest
