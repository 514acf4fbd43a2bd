# flyte-cloudevents: non-recursive build. Every folder contributes a module.mk
# that appends to the variables below; all output goes to build/.
#
#   make                    build everything (installs missing packages first)
#   make test               run every test, ending with "N passed, N failed"
#   make run                start the demo pipeline (see README.md)
#   make SANITIZE=address,undefined   build an instrumented tree in build-san/
#   make style              check the code against .clang-format
#   make bench              run every benchmark in bench/
#   V=1                     print full commands

.DEFAULT_GOAL := all

CC       ?= cc
PROTOC_C ?= protoc-c

ifeq ($(SANITIZE),)
BUILD    ?= build
else
BUILD    ?= build-san
endif

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wvla -Wno-unused-parameter -Werror
CPPFLAGS_ALL := -std=c11 -D_GNU_SOURCE -Ishm -Icommon -Ipublishers \
                -I$(BUILD)/gen $(CPPFLAGS)
CFLAGS_ALL   := $(CFLAGS) $(WARN) -MMD -MP
LDFLAGS_ALL  := $(LDFLAGS)

ifneq ($(SANITIZE),)
CFLAGS_ALL  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
               -fno-sanitize-recover=all
LDFLAGS_ALL += -fsanitize=$(SANITIZE)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Variables the module.mk files append to.
BINS        :=
BENCH_TARGETS :=
LIBS        :=
UNIT_TESTS  :=
FUZZ_TARGETS :=
GEN_SRCS    :=

# Packages: scripts/deps installs what is missing and is silent otherwise.
# FCE_SKIP_DEPS=1 skips the check (for builds without root).
DEPS_STAMP := $(BUILD)/.deps-checked
$(DEPS_STAMP): scripts/deps
	$(Q)mkdir -p $(@D)
	$(Q)if [ "$(FCE_SKIP_DEPS)" != 1 ]; then scripts/deps; fi
	$(Q)touch $@

# $(call fce_lib,NAME,SOURCES): a static library build/lib/libNAME.a.
define fce_lib
ALL_SRCS += $(2)
$(BUILD)/lib/lib$(1).a: $(patsubst %.c,$(BUILD)/obj/%.o,$(2))
LIBS += $(BUILD)/lib/lib$(1).a
FUZZ_SRCS_$(1) := $(2)
endef

# $(call fce_bin,NAME,SOURCES,LIBRARIES,LDLIBS): a program in build/bin/.
# LIBRARIES are names given to fce_lib, users before the libraries they use.
define fce_bin
ALL_SRCS += $(2)
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(2)) \
                   $(foreach l,$(3),$(BUILD)/lib/lib$(l).a)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $(4)
BINS += $(BUILD)/bin/$(1)
endef

# $(call fce_test,NAME,SOURCES,LIBRARIES,LDLIBS): a unit test program in
# build/tests/, run by tests/run. cmocka tests print TAP (CMOCKA_MESSAGE_OUTPUT).
define fce_test
ALL_SRCS += $(2)
$(BUILD)/tests/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(2)) \
                     $(foreach l,$(3),$(BUILD)/lib/lib$(l).a)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $(4) -lcmocka
UNIT_TESTS += $(BUILD)/tests/$(1)
endef

# $(call fce_fuzz,NAME,SOURCES,LIBRARIES,LDLIBS): a libFuzzer target in
# build-fuzz/, built with clang and its own instrumented copy of every object.
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all
define fce_fuzz
$(FUZZ_BUILD)/fuzz/$(1): $(2) $(foreach l,$(3),$$(FUZZ_SRCS_$(l))) | $(GEN_SRCS)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  FUZZ    $$@")
	$$(Q)clang $$(CPPFLAGS_ALL) $$(FUZZ_CFLAGS) -fsanitize=fuzzer \
	    -Wno-unused-command-line-argument -o $$@ $$^ $(4)
FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz/$(1)
endef

# System libraries: every program links what it uses of these.
SYS_LIBS := -Wl,--as-needed -lrdkafka -lcurl -lssl -lcrypto -luring \
            -lyaml -lprotobuf-c -lpthread -lm

# Each backend's option table, linked as objects (not from an archive) so
# the weak references in publishers/backend_types.c resolve.
OPTION_SRCS := publishers/backend_types.c \
               $(sort $(wildcard publishers/*/*_options.c))

# Every module.mk up to three folders deep (tests/unit/ring/module.mk...).
MODULE_MKS := $(sort $(filter-out build% tests/npm%, \
    $(wildcard */module.mk */*/module.mk */*/*/module.mk)))
include $(MODULE_MKS)

OBJS_ALL := $(patsubst %.c,$(BUILD)/obj/%.o,$(ALL_SRCS))

# EXTRA_CFLAGS may be set per target or pattern by a module.mk.
$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP) $(GEN_SRCS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(EXTRA_CFLAGS) -c -o $@ $<

$(BUILD)/lib/%.a:
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

all: $(BINS)

.PHONY: all test unit-test fuzz style format bench run clean deps $(BENCH_TARGETS)

deps:
	scripts/deps

unit-test: $(UNIT_TESTS)

test: all $(UNIT_TESTS) $(FUZZ_TARGETS)
	$(Q)BUILD=$(BUILD) tests/run

fuzz: $(FUZZ_TARGETS)
	$(Q)BUILD=$(BUILD) FCE_FUZZ_SECONDS=$${FCE_FUZZ_SECONDS:-300} tests/fuzz/run

STYLE_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
style:
	$(Q)clang-format --dry-run --Werror $(STYLE_SRCS)

format:
	$(Q)clang-format -i $(STYLE_SRCS)

# Each bench/*/module.mk adds a bench-NAME target to BENCH_TARGETS.
bench: $(BENCH_TARGETS)

run: all
	$(Q)scripts/demo

clean:
	rm -rf build build-san

-include $(OBJS_ALL:.o=.d)
