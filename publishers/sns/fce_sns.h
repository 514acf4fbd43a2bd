/*
 * The sns backend: publishes structured CloudEvents to an SNS topic
 * (topicName is the topic ARN) with Publish and PublishBatch over the AWS
 * Query protocol. FlyteAdmin's `type: aws` maps to it. Settings: struct
 * fce_aws_settings from the `aws:` block.
 */
#ifndef FCE_SNS_H
#define FCE_SNS_H

#include "aws/fce_aws_settings.h"
#include "fce_option.h"

#define FCE_SNS_MAX_MESSAGE_BYTES 262144 /* 256 KiB, message + attributes */
#define FCE_SNS_MAX_BATCH_ENTRIES 10

extern const struct fce_backend_type fce_sns_type;

#endif
