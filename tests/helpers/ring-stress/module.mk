# The ring stress test's producer and consumer (tests/e2e/ring-stress.sh),
# built with everything else so the test finds it: $(BUILD)/helpers/ring-stress.
RING_STRESS_SRCS := tests/helpers/ring-stress/ring_stress.c
ALL_SRCS += $(RING_STRESS_SRCS)
$(BUILD)/helpers/ring-stress: $(patsubst %.c,$(BUILD)/obj/%.o,$(RING_STRESS_SRCS)) \
                              $(BUILD)/lib/libfce_shm.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^
BINS += $(BUILD)/helpers/ring-stress
