# The sqs backend as a library for unit tests; fce-publisher links the
# same sources as objects (publishers/module.mk).
SQS_SRCS := $(sort $(wildcard publishers/sqs/*.c))
$(eval $(call fce_lib,fce_sqs,$(SQS_SRCS)))
