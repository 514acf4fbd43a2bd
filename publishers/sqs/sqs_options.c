/* The sqs backend's options: the publisher's `aws:` block. Linked into
 * every program (config checks, docs), so it depends only on common/. */
#include <stddef.h>

#include "fce_sqs.h"

static const struct fce_option sqs_options[] = {
    FCE_AWS_OPTIONS("1MiB", "1MiB", "queue"),
    {0},
};

const struct fce_backend_type fce_sqs_type = {
    .name = "sqs",
    .config_key = "aws",
    .summary = "Sends structured CloudEvents to an AWS SQS queue",
    .options = sqs_options,
    .options_size = sizeof(struct fce_aws_settings),
};
