/*
 * The sqs backend: sends structured CloudEvents to an SQS queue
 * (topicName is the queue URL) with SendMessageBatch over AWS JSON 1.0.
 * Settings: struct fce_aws_settings from the `aws:` block.
 */
#ifndef FCE_SQS_H
#define FCE_SQS_H

#include "aws/fce_aws_settings.h"
#include "fce_option.h"

#define FCE_SQS_MAX_MESSAGE_BYTES 1048576 /* 1 MiB since August 2025 */
#define FCE_SQS_MAX_BATCH_ENTRIES 10

extern const struct fce_backend_type fce_sqs_type;

#endif
