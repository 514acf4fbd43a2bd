# make bench-ring: records per second between two processes through the
# ring, a pipe and a Unix socketpair (bench/ring/ring_bench.c).
# RING_BENCH_ARGS passes options, e.g. RING_BENCH_ARGS="--scale 0.2".
RING_BENCH_SRCS := bench/ring/ring_bench.c
ALL_SRCS += $(RING_BENCH_SRCS)
$(BUILD)/bench/ring-bench: $(patsubst %.c,$(BUILD)/obj/%.o,$(RING_BENCH_SRCS)) \
                           $(BUILD)/lib/libfce_shm.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^
BINS += $(BUILD)/bench/ring-bench

BENCH_TARGETS += bench-ring
bench-ring: $(BUILD)/bench/ring-bench
	$(Q)$(BUILD)/bench/ring-bench $(RING_BENCH_ARGS)
