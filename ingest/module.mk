# fce-ingest: the HTTP/1.1 and stream protocol server (see ingest/ingest.h).
INGEST_SRCS := $(sort $(wildcard ingest/*.c))
# Everything but the loops and main(): what unit tests drive without sockets.
INGEST_CORE_SRCS := ingest/http.c ingest/conn.c ingest/serve_http.c \
    ingest/serve_stream.c ingest/metrics.c
$(eval $(call fce_bin,fce-ingest,$(INGEST_SRCS) $(OPTION_SRCS),\
    fce_common fce_proto fce_shm,$(SYS_LIBS)))

# The HTTP parser and the stream codec are pure functions over buffers, so
# libFuzzer drives them directly.
$(eval $(call fce_fuzz,ingest_http,tests/fuzz/ingest_http.c ingest/http.c,,))
$(eval $(call fce_fuzz,ingest_stream,tests/fuzz/ingest_stream.c \
    common/fce_stream.c common/fce_buf.c common/fce_option_parse.c,,))
