# make bench-kafka: events/s from a full ring to the mock cluster, side by
# side with kcat (bench/kafka/run.sh). kafka-ring-wait times the drain.
KAFKA_RING_WAIT_SRCS := bench/kafka/ring_wait.c
ALL_SRCS += $(KAFKA_RING_WAIT_SRCS)
$(BUILD)/bench/kafka-ring-wait: \
        $(patsubst %.c,$(BUILD)/obj/%.o,$(KAFKA_RING_WAIT_SRCS)) \
        $(BUILD)/lib/libfce_shm.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^
BINS += $(BUILD)/bench/kafka-ring-wait

BENCH_TARGETS += bench-kafka
bench-kafka: $(BUILD)/bin/fce-publisher $(BUILD)/bench/kafka-ring-wait \
             $(BUILD)/helpers/mock-kafka $(BUILD)/helpers/ce-feed
	$(Q)BUILD=$(BUILD) bench/kafka/run.sh
