# make bench-pubsub: fce-publisher against the official Node.js client,
# both publishing to the Pub/Sub emulator (bench/pubsub/run.sh).
BENCH_TARGETS += bench-pubsub
bench-pubsub: $(BUILD)/bin/fce-publisher $(BUILD)/bin/fce $(BUILD)/helpers/ce-feed
	$(Q)BUILD=$(BUILD) bench/pubsub/run.sh
