$(eval $(call fce_test,unit-kafka,tests/unit/kafka/test_kafka.c \
    publishers/kafka/kafka_conf.c publishers/kafka/kafka_options.c \
    publishers/kafka/kafka_values.c,\
    fce_common,$(SYS_LIBS)))

$(BUILD)/obj/tests/unit/kafka/%.o: EXTRA_CFLAGS := -Ipublishers/kafka
