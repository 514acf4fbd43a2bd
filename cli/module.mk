# The fce tool: every cli/*.c file is a subcommand (see cli/fce_cli.h).
$(eval $(call fce_bin,fce,$(sort $(wildcard cli/*.c)) $(OPTION_SRCS),\
    fce_common fce_proto fce_shm,$(SYS_LIBS)))
