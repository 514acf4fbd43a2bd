# CloudEvent rendering: JSON, base64, time, binary headers, the neutral
# record, the corpus and random requests.
$(eval $(call fce_test,unit-ce,tests/unit/ce/test_ce.c \
    tests/unit/event/corpus.c,fce_common fce_proto,$(SYS_LIBS) -lcjson))
