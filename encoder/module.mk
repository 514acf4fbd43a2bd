# fce-encoder: ingest ring -> eventTypes filter -> one neutral CloudEvent
# record per publisher ring.
$(eval $(call fce_bin,fce-encoder,$(sort $(wildcard encoder/*.c)) \
    $(OPTION_SRCS),fce_common fce_proto fce_shm,$(SYS_LIBS)))
