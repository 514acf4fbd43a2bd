# protoc-c turns proto/**/*.proto into $(BUILD)/gen/**/*.pb-c.{c,h} at build
# time; generated code is not committed. Include as "flyteidl/admin/event.pb-c.h".
PROTO_FILES := $(sort $(shell find proto -name '*.proto'))
PROTO_C := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTO_FILES))
PROTO_H := $(PROTO_C:.c=.h)
GEN_SRCS += $(PROTO_C) $(PROTO_H)

# One protoc-c run generates every file, so the outputs stay consistent.
$(PROTO_H): $(PROTO_C)
$(PROTO_C) &: $(PROTO_FILES) | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/gen
	@$(if $(Q),echo "  PROTOC  proto/")
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(BUILD)/gen $(PROTO_FILES)

# protoc-c's output is not written for this project's warning set.
$(BUILD)/obj/$(BUILD)/gen/%.o: EXTRA_CFLAGS := -Wno-error \
    -Wno-missing-prototypes -Wno-unused-parameter

$(eval $(call fce_lib,fce_proto,$(PROTO_C)))
