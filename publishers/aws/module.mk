# AWS support shared by the SNS and SQS backends: SigV4 signing,
# credential providers, retry classification and request helpers.
AWS_SRCS := $(sort $(wildcard publishers/aws/*.c))
$(eval $(call fce_lib,fce_aws,$(AWS_SRCS)))
