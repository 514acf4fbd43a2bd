# libFuzzer target over validation, the ingest record, rendering and the
# neutral record. Seeds: tests/fuzz/seeds/ce_event/ (the corpus). It
# builds the codec sources it needs rather than all of libfce_common, which
# also holds the configuration loader and its dependencies.
CE_FUZZ_SRCS := tests/fuzz/ce_event/fuzz_ce_event.c common/fce_event.c \
    common/fce_pbscan.c common/fce_text.c common/fce_utf8.c common/fce_ce.c \
    common/fce_json.c common/fce_json_parse.c common/fce_base64.c \
    common/fce_buf.c
$(eval $(call fce_fuzz,ce_event,$(CE_FUZZ_SRCS),fce_proto,-lprotobuf-c))
