# make bench-sns: fce-publisher (sns) against @aws-sdk/client-sns on fauxqs.
BENCH_TARGETS += bench-sns
bench-sns: $(BUILD)/bin/fce-publisher $(BUILD)/bin/fce $(BUILD)/helpers/ce-feed
	$(Q)BUILD=$(BUILD) bench/sns/run.sh
