# AWS credentials and the sns and sqs backends against the fake endpoints
# in tests/helpers/fake-aws (a Python server this program starts).
$(eval $(call fce_test,unit-aws,tests/unit/aws/test_aws.c,\
    fce_sns fce_sqs fce_aws fce_http fce_common fce_proto,$(SYS_LIBS)))
