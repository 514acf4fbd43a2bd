# bench-ingest: wrk against fce-ingest and against nginx answering 204, in
# one run, plus the stream protocol's events per second (bench/ingest/run).
INGEST_DRAIN := $(BUILD)/bench/ingest-drain
$(INGEST_DRAIN): $(BUILD)/obj/bench/ingest/drain.o \
                 $(BUILD)/lib/libfce_common.a $(BUILD)/lib/libfce_proto.a \
                 $(BUILD)/lib/libfce_shm.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(SYS_LIBS)
ALL_SRCS += bench/ingest/drain.c

# The end-to-end ingest tests use the consumer too, so make builds it.
all: $(INGEST_DRAIN)

BENCH_TARGETS += bench-ingest
bench-ingest: all $(INGEST_DRAIN)
	$(Q)BUILD=$(BUILD) bench/ingest/run
