# Test helpers of the publisher and Kafka tests (not installed):
#   $(BUILD)/helpers/mock-kafka  librdkafka's mock cluster as a process
#   $(BUILD)/helpers/ce-feed     writes CloudEvent records into a ring
MOCK_KAFKA_DIR := tests/helpers/mock-kafka

define fce_helper
ALL_SRCS += $(2)
$(BUILD)/helpers/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(2)) \
                       $(foreach l,$(3),$(BUILD)/lib/lib$(l).a)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $(SYS_LIBS)
BINS += $(BUILD)/helpers/$(1)
endef

$(eval $(call fce_helper,mock-kafka,$(MOCK_KAFKA_DIR)/mock_kafka.c,))
$(eval $(call fce_helper,ce-feed,$(MOCK_KAFKA_DIR)/ce_feed.c,\
    fce_common fce_proto fce_shm))
