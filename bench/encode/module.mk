# make bench-encode: events per second over the corpus mix, validation and
# JSON rendering, for this project's renderer and the same rendering built
# on cJSON, with OpenSSL's EVP_EncodeBlock of the same bytes as the floor.
$(eval $(call fce_bin,bench-encode,bench/encode/bench_encode.c \
    tests/unit/event/corpus.c,fce_common fce_proto,$(SYS_LIBS) -lcjson))

bench-encode: $(BUILD)/bin/bench-encode
	$(Q)FCE_TOP=$(CURDIR) $(BUILD)/bin/bench-encode

BENCH_TARGETS += bench-encode
