/*
 * The options of the `gcp:` block. Linked into every program (config
 * checks and docs), so this file depends on nothing but common/.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fce_pubsub.h"

#define SETTING(field) offsetof(struct fce_pubsub_settings, field)

static const char *const auth_choices[] = {
    "auto", "jwtGrant", "selfSignedJwt", "metadata", "none", NULL,
};

static const char *const transport_choices[] = {
    [FCE_PUBSUB_TRANSPORT_GRPC] = "grpc",
    [FCE_PUBSUB_TRANSPORT_REST] = "rest",
    NULL,
};

static const struct fce_option pubsub_options[] = {
    {.key = "projectId",
     .type = FCE_OPT_STRING,
     .offset = SETTING(project_id),
     .help = "GCP project id that owns the topic.",
     .flags = FCE_OPT_REQUIRED | FCE_OPT_FLYTE},
    {.key = "endpoint",
     .type = FCE_OPT_STRING,
     .offset = SETTING(endpoint),
     .default_value = FCE_PUBSUB_GLOBAL_ENDPOINT,
     .help = "Pub/Sub API base URL or host, e.g. a regional "
             "us-east4-pubsub.googleapis.com; use a regional endpoint "
             "with orderingKeys."},
    {.key = "emulatorHost",
     .type = FCE_OPT_STRING,
     .offset = SETTING(emulator_host),
     .help = "host:port of a Pub/Sub emulator, reached over plain HTTP "
             "without credentials; empty: PUBSUB_EMULATOR_HOST, if set."},
    {.key = "transport",
     .type = FCE_OPT_ENUM,
     .offset = SETTING(transport),
     .default_value = "grpc",
     .choices = transport_choices,
     .help = "Wire protocol: grpc (Publish over HTTP/2 with protobuf "
             "bodies, several calls on one connection) or rest (JSON over "
             "HTTP/1.1); both reach the service and the emulator."},
    {.key = "orderingKeys",
     .type = FCE_OPT_BOOL,
     .offset = SETTING(ordering),
     .default_value = "false",
     .help = "Send the partition key (project/domain/name of the "
             "execution) as the ordering key, keeping each execution's "
             "events in order."},
    {.key = "auth",
     .type = FCE_OPT_ENUM,
     .offset = SETTING(auth),
     .default_value = "auto",
     .choices = auth_choices,
     .help = "Credential source: auto (credentialsFile or "
             "GOOGLE_APPLICATION_CREDENTIALS, else the metadata server), "
             "jwtGrant, selfSignedJwt, metadata or none."},
    {.key = "credentialsFile",
     .type = FCE_OPT_STRING,
     .offset = SETTING(credentials_file),
     .help = "Service-account key file (JSON); empty: "
             "GOOGLE_APPLICATION_CREDENTIALS."},
    {.key = "metadataHost",
     .type = FCE_OPT_STRING,
     .offset = SETTING(metadata_host),
     .help = "host[:port] of the metadata server; empty: GCE_METADATA_HOST, "
             "else metadata.google.internal."},
    {.key = "scopes",
     .type = FCE_OPT_STRING,
     .offset = SETTING(scope),
     .default_value = "https://www.googleapis.com/auth/pubsub",
     .help = "OAuth scopes requested for the token, space-separated."},
    {.key = "jwtAudience",
     .type = FCE_OPT_STRING,
     .offset = SETTING(audience),
     .default_value = FCE_PUBSUB_AUDIENCE,
     .help = "Audience of a self-signed JWT; stays the global service URL "
             "for regional endpoints."},
    {.key = "jwtLifetime",
     .type = FCE_OPT_DURATION,
     .offset = SETTING(jwt_lifetime_ms),
     .default_value = "1h",
     .help = "Lifetime of a JWT assertion or self-signed JWT, at most 1h."},
    {.key = "maxMessages",
     .type = FCE_OPT_INT,
     .offset = SETTING(max_messages),
     .default_value = "1000",
     .min = 1,
     .max = FCE_PUBSUB_MAX_MESSAGES,
     .help = "Messages per publish request, at most 1000."},
    {.key = "maxRequestBytes",
     .type = FCE_OPT_SIZE,
     .offset = SETTING(max_request_bytes),
     .default_value = "10000000",
     .help = "Bytes of one publish request: the JSON with base64 data "
             "(rest) or the PublishRequest (grpc); at most 10000000."},
    {.key = "maxMessageBytes",
     .type = FCE_OPT_SIZE,
     .offset = SETTING(max_message_bytes),
     .default_value = "10000000",
     .help = "Bytes of one message (data, attributes and ordering key); "
             "a larger message is dead-lettered."},
    {.key = "maxAttributes",
     .type = FCE_OPT_INT,
     .offset = SETTING(max_attributes),
     .default_value = "100",
     .min = 1,
     .max = 10000,
     .help = "Attributes per message; more are dead-lettered."},
    {.key = "maxAttributeKeyBytes",
     .type = FCE_OPT_INT,
     .offset = SETTING(max_attribute_key_bytes),
     .default_value = "256",
     .min = 1,
     .max = 1 << 20,
     .help = "Bytes of one attribute name."},
    {.key = "maxAttributeValueBytes",
     .type = FCE_OPT_INT,
     .offset = SETTING(max_attribute_value_bytes),
     .default_value = "1024",
     .min = 1,
     .max = 1 << 20,
     .help = "Bytes of one attribute value."},
    {.key = "maxOrderingKeyBytes",
     .type = FCE_OPT_INT,
     .offset = SETTING(max_ordering_key_bytes),
     .default_value = "1024",
     .min = 1,
     .max = 1 << 20,
     .help = "Bytes of an ordering key."},
    {.key = "maxInFlight",
     .type = FCE_OPT_INT,
     .offset = SETTING(max_in_flight),
     .default_value = "8",
     .min = 1,
     .max = 256,
     .help = "Publish requests running at once (at most one per ordering "
             "key)."},
    {.key = "maxPending",
     .type = FCE_OPT_INT,
     .offset = SETTING(max_pending),
     .default_value = "20000",
     .min = 1,
     .max = 10000000,
     .help = "Records the backend holds, sent or waiting; beyond it the "
             "publisher stops handing it records."},
    {.key = "requestTimeout",
     .type = FCE_OPT_DURATION,
     .offset = SETTING(request_timeout_ms),
     .default_value = "60s",
     .help = "Time one publish request may take before it is retried."},
    {.key = "connectTimeout",
     .type = FCE_OPT_DURATION,
     .offset = SETTING(connect_timeout_ms),
     .default_value = "10s",
     .help = "Time to connect (TCP and TLS) to the endpoint."},
    {.key = "tokenTimeout",
     .type = FCE_OPT_DURATION,
     .offset = SETTING(token_timeout_ms),
     .default_value = "10s",
     .help = "Time one token fetch may take."},
    {.key = "orderingResumeTimeout",
     .type = FCE_OPT_DURATION,
     .offset = SETTING(ordering_resume_ms),
     .default_value = "10m",
     .help = "With orderingKeys, how long later events of a key wait for "
             "an earlier failed event to be retried before they are sent "
             "anyway."},
    {.key = "caFile",
     .type = FCE_OPT_STRING,
     .offset = SETTING(ca_file),
     .help = "PEM bundle of trusted CAs; empty: the system store."},
    {0},
};

const struct fce_backend_type fce_pubsub_type = {
    .name = "pubsub",
    .config_key = "gcp",
    .summary = "GCP Pub/Sub over gRPC or REST (FlyteAdmin's type gcp)",
    .options = pubsub_options,
    .options_size = sizeof(struct fce_pubsub_settings),
};

static bool topic_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (ch && strchr("-_.~+%", ch));
}

int fce_pubsub_topic_check(const char *topic, char *err, size_t err_size)
{
    size_t len = topic ? strlen(topic) : 0;
    const char *problem = NULL;
    if (len < 3 || len > 255)
        problem = "must be 3 to 255 characters";
    else if (!((topic[0] >= 'a' && topic[0] <= 'z') ||
               (topic[0] >= 'A' && topic[0] <= 'Z')))
        problem = "must start with a letter";
    else if (strncmp(topic, "goog", 4) == 0)
        problem = "must not start with \"goog\"";
    for (size_t i = 0; !problem && i < len; i++)
        if (!topic_char(topic[i]))
            problem = "may contain only letters, digits and - _ . ~ + %";

    if (!problem)
        return 0;
    snprintf(err, err_size,
             "topic id \"%.64s\" is invalid: it %s; set topicName to the "
             "topic id alone (not projects/P/topics/T)",
             topic ? topic : "", problem);
    return -EINVAL;
}
