/*
 * The settings of the sns and sqs backends: the publisher's `aws:` block,
 * FlyteAdmin's `region` plus this project's keys. Both option tables
 * (publishers/sns/sns_options.c, publishers/sqs/sqs_options.c) fill this
 * struct; only the defaults of the limits differ.
 */
#ifndef FCE_AWS_SETTINGS_H
#define FCE_AWS_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "fce_option.h"

enum fce_aws_fifo {
    FCE_AWS_FIFO_AUTO, /* FIFO when the topic or queue name ends in .fifo */
    FCE_AWS_FIFO_ON,
    FCE_AWS_FIFO_OFF,
};

struct fce_aws_settings {
    char *region;       /* empty: from the ARN or queue URL, AWS_REGION */
    char *endpoint;     /* base URL override (fauxqs, VPC endpoint) */
    char *sts_endpoint; /* STS base URL for web identity */
    char *ca_file;      /* PEM bundle for TLS; empty: system store */
    int64_t max_batch_entries;  /* entries per batch request, 1..10 */
    uint64_t max_request_bytes; /* sum of message bytes per request */
    uint64_t max_message_bytes; /* one message with its attributes */
    int64_t max_in_flight;      /* requests at once */
    uint64_t request_timeout_ms;
    uint64_t connect_timeout_ms;
    struct fce_strlist message_attributes; /* CloudEvent attribute names */
    int fifo;                              /* enum fce_aws_fifo */
    bool content_based_deduplication;      /* omit MessageDeduplicationId */
    bool subject;                          /* SNS Subject = request name */
};

static const char *const fce_aws_fifo_choices[] = {"auto", "true", "false",
                                                   NULL};

#define FCE_AWS_SETTING(field) offsetof(struct fce_aws_settings, field)

/*
 * The option entries of both backends. max_message and max_request are
 * the default limits as option text ("256KiB"), and kind names the
 * destination ("topic" or "queue") in help texts.
 */
#define FCE_AWS_OPTIONS(max_message, max_request, kind)                        \
    {.key = "region",                                                          \
     .type = FCE_OPT_STRING,                                                   \
     .offset = FCE_AWS_SETTING(region),                                        \
     .help = "AWS region of the " kind "; empty: the region in its ARN or "    \
             "URL, else AWS_REGION or AWS_DEFAULT_REGION",                     \
     .flags = FCE_OPT_FLYTE},                                                  \
        {.key = "endpoint",                                                    \
         .type = FCE_OPT_STRING,                                               \
         .offset = FCE_AWS_SETTING(endpoint),                                  \
         .help =                                                               \
             "Base URL that replaces the regional AWS endpoint, for a "        \
             "VPC endpoint, LocalStack or fauxqs (http://127.0.0.1:4566)"},    \
        {.key = "stsEndpoint",                                                 \
         .type = FCE_OPT_STRING,                                               \
         .offset = FCE_AWS_SETTING(sts_endpoint),                              \
         .help =                                                               \
             "STS base URL for web identity credentials; empty: "              \
             "AWS_ENDPOINT_URL_STS, else https://sts.REGION.amazonaws.com"},   \
        {.key = "caFile",                                                      \
         .type = FCE_OPT_STRING,                                               \
         .offset = FCE_AWS_SETTING(ca_file),                                   \
         .help = "PEM file of CA certificates for TLS; empty: the system "     \
                 "store"},                                                     \
        {.key = "maxBatchEntries",                                             \
         .type = FCE_OPT_INT,                                                  \
         .offset = FCE_AWS_SETTING(max_batch_entries),                         \
         .default_value = "10",                                                \
         .min = 1,                                                             \
         .max = 10,                                                            \
         .help = "Messages per batch request, 1 to 10"},                       \
        {.key = "maxRequestBytes",                                             \
         .type = FCE_OPT_SIZE,                                                 \
         .offset = FCE_AWS_SETTING(max_request_bytes),                         \
         .default_value = max_request,                                         \
         .help = "Sum of the message bytes of one batch request, "             \
                 "attributes included"},                                       \
        {.key = "maxMessageBytes",                                             \
         .type = FCE_OPT_SIZE,                                                 \
         .offset = FCE_AWS_SETTING(max_message_bytes),                         \
         .default_value = max_message,                                         \
         .help = "Largest message with its attributes, in bytes; a larger "    \
                 "event goes to the dead-letter file without a request. "      \
                 "Raise it only for a " kind " whose limit was raised"},       \
        {.key = "maxInFlight",                                                 \
         .type = FCE_OPT_INT,                                                  \
         .offset = FCE_AWS_SETTING(max_in_flight),                             \
         .default_value = "8",                                                 \
         .min = 1,                                                             \
         .max = 256,                                                           \
         .help = "Requests in flight at once; FIFO " kind "s use 1 to keep "   \
                 "order"},                                                     \
        {.key = "requestTimeout",                                              \
         .type = FCE_OPT_DURATION,                                             \
         .offset = FCE_AWS_SETTING(request_timeout_ms),                        \
         .default_value = "10s",                                               \
         .help = "Time one request may take, connection included"},            \
        {.key = "connectTimeout",                                              \
         .type = FCE_OPT_DURATION,                                             \
         .offset = FCE_AWS_SETTING(connect_timeout_ms),                        \
         .default_value = "3s",                                                \
         .help = "Time to open a connection (TCP and TLS)"},                   \
        {.key = "messageAttributes",                                           \
         .type = FCE_OPT_STRING_LIST,                                          \
         .offset = FCE_AWS_SETTING(message_attributes),                        \
         .help = "CloudEvent attributes copied into message attributes "       \
                 "named ce-NAME for filter policies: any of type, subject, "   \
                 "id, source, time, specversion, partitionkey; at most 10"},   \
        {.key = "fifo",                                                        \
         .type = FCE_OPT_ENUM,                                                 \
         .offset = FCE_AWS_SETTING(fifo),                                      \
         .default_value = "auto",                                              \
         .choices = fce_aws_fifo_choices,                                      \
         .help = "FIFO " kind ": auto (when the name ends in .fifo), true "    \
                 "or false. FIFO sends MessageGroupId = partition key and "    \
                 "MessageDeduplicationId = SHA-256 hex of the CloudEvent id"}, \
    {                                                                          \
        .key = "contentBasedDeduplication", .type = FCE_OPT_BOOL,              \
        .offset = FCE_AWS_SETTING(content_based_deduplication),                \
        .default_value = "false",                                              \
        .help = "Leave MessageDeduplicationId out, for a FIFO " kind " with "  \
                "content-based deduplication"                                  \
    }

#endif
