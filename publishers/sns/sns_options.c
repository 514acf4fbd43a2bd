/* The sns backend's options: the publisher's `aws:` block. Linked into
 * every program (config checks, docs), so it depends only on common/. */
#include <stddef.h>

#include "fce_sns.h"

static const struct fce_option sns_options[] = {
    FCE_AWS_OPTIONS("256KiB", "256KiB", "topic"),
    {.key = "subject",
     .type = FCE_OPT_BOOL,
     .offset = FCE_AWS_SETTING(subject),
     .default_value = "true",
     .help = "Set the SNS Subject to the request's protobuf full name, such "
             "as flyteidl.admin.NodeExecutionEventRequest"},
    {0},
};

const struct fce_backend_type fce_sns_type = {
    .name = "sns",
    .config_key = "aws",
    .summary = "Publishes structured CloudEvents to an AWS SNS topic",
    .options = sns_options,
    .options_size = sizeof(struct fce_aws_settings),
};
