# libFuzzer target over the YAML configuration loader. Seeds:
# tests/fuzz/seeds/config_yaml/ (the example configurations). It builds
# the loader's sources and every backend's option table, not all of
# libfce_common. The kafka table checks properties with librdkafka.
CONFIG_FUZZ_SRCS := tests/fuzz/config_yaml/fuzz_config_yaml.c \
    $(sort $(wildcard common/fce_config*.c common/fce_option*.c)) \
    common/fce_buf.c $(OPTION_SRCS)
$(eval $(call fce_fuzz,config_yaml,$(CONFIG_FUZZ_SRCS),,-lyaml -lrdkafka))
