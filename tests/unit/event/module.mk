# Validation, ids, partition keys and the ingest record, over the corpus
# in tests/data/corpus and hand-built requests.
$(eval $(call fce_test,unit-event,tests/unit/event/test_event.c \
    tests/unit/event/corpus.c,fce_common fce_proto,$(SYS_LIBS) -lcjson))
