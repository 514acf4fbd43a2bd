# SigV4 against the AWS Signature Version 4 test suite in tests/data/sigv4.
$(eval $(call fce_test,unit-sigv4,tests/unit/sigv4/test_sigv4.c,\
    fce_aws fce_http fce_common fce_proto,$(SYS_LIBS)))
