/*
 * The kafka backend's options (the `kafka:` block of a publisher, or of
 * FlyteAdmin's cloudEvents block). No library dependencies, so every
 * program can validate configurations.
 */
#include <stddef.h>

#include "kafka_settings.h"

const char *const fce_kafka_partitioners[] = {
    "murmur2_random", "murmur2", "consistent_random",
    "consistent",     "fnv1a",   "fnv1a_random",
    "random",         NULL};

static const char *const key_choices[] = {"partitionKey", "id", "none", NULL};

static const char *const mechanism_choices[] = {"PLAIN", "SCRAM-SHA-256",
                                                "SCRAM-SHA-512", NULL};

#define SASL(field)  offsetof(struct fce_kafka_sasl, field)
#define TLS(field)   offsetof(struct fce_kafka_tls, field)
#define KAFKA(field) offsetof(struct fce_kafka_settings, field)

static const struct fce_option sasl_options[] = {
    {.key = "enabled",
     .type = FCE_OPT_BOOL,
     .offset = SASL(enabled),
     .help = "Authenticate with SASL",
     .flags = FCE_OPT_FLYTE},
    {.key = "user",
     .type = FCE_OPT_STRING,
     .offset = SASL(user),
     .help = "SASL user name",
     .flags = FCE_OPT_FLYTE},
    {.key = "password",
     .type = FCE_OPT_SECRET,
     .offset = SASL(password),
     .help = "SASL password; used when passwordPath is empty",
     .flags = FCE_OPT_FLYTE},
    {.key = "passwordPath",
     .type = FCE_OPT_STRING,
     .offset = SASL(password_path),
     .help = "File that holds the SASL password (surrounding whitespace "
             "is removed)",
     .flags = FCE_OPT_FLYTE},
    {.key = "handshake",
     .type = FCE_OPT_BOOL,
     .offset = SASL(handshake),
     .help = "Accepted for FlyteAdmin compatibility; librdkafka always "
             "sends the SASL handshake, which current brokers require",
     .flags = FCE_OPT_FLYTE},
    {.key = "mechanism",
     .type = FCE_OPT_ENUM,
     .offset = SASL(mechanism),
     .default_value = "PLAIN",
     .help = "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
     .choices = mechanism_choices,
     .flags = FCE_OPT_FLYTE},
    {0},
};

static const struct fce_option tls_options[] = {
    {.key = "enabled",
     .type = FCE_OPT_BOOL,
     .offset = TLS(enabled),
     .help = "Connect to the brokers with TLS",
     .flags = FCE_OPT_FLYTE},
    {.key = "insecureSkipVerify",
     .type = FCE_OPT_BOOL,
     .offset = TLS(insecure_skip_verify),
     .help = "Skip verifying the broker certificate and host name "
             "(logged as a warning; for tests only)",
     .flags = FCE_OPT_FLYTE},
    {.key = "certPath",
     .type = FCE_OPT_STRING,
     .offset = TLS(cert_path),
     .help = "Client certificate (PEM); needs keyPath",
     .flags = FCE_OPT_FLYTE},
    {.key = "keyPath",
     .type = FCE_OPT_STRING,
     .offset = TLS(key_path),
     .help = "Private key of the client certificate (PEM); needs certPath",
     .flags = FCE_OPT_FLYTE},
    {.key = "caPath",
     .type = FCE_OPT_STRING,
     .offset = TLS(ca_path),
     .help = "CA certificates (PEM) that sign the broker certificates; "
             "default: the system trust store"},
    {0},
};

static const struct fce_option kafka_options[] = {
    {.key = "brokers",
     .type = FCE_OPT_STRING_LIST,
     .offset = KAFKA(brokers),
     .help = "Bootstrap brokers as host:port",
     .flags = FCE_OPT_FLYTE},
    {.key = "version",
     .type = FCE_OPT_STRING,
     .offset = KAFKA(version),
     .help = "Kafka version of the brokers, A.B.C (0.A.B.C before 1.0), at "
             "least 0.11.0.0 for record headers; the client negotiates "
             "versions and uses this one only when the broker cannot tell. "
             "Empty: negotiate only",
     .flags = FCE_OPT_FLYTE},
    {.key = "saslConfig",
     .type = FCE_OPT_SECTION,
     .offset = KAFKA(sasl),
     .help = "SASL authentication",
     .section = sasl_options,
     .flags = FCE_OPT_FLYTE},
    {.key = "tlsConfig",
     .type = FCE_OPT_SECTION,
     .offset = KAFKA(tls),
     .help = "TLS to the brokers",
     .section = tls_options,
     .flags = FCE_OPT_FLYTE},
    {.key = "properties",
     .type = FCE_OPT_PROPERTIES,
     .offset = KAFKA(properties),
     .help = "librdkafka configuration properties, applied after every "
             "other setting (for example linger.ms: \"20\")"},
    {.key = "key",
     .type = FCE_OPT_ENUM,
     .offset = KAFKA(key),
     .default_value = "partitionKey",
     .help = "Record key: partitionKey (project/domain/name, keeps an "
             "execution's events in order), id (the CloudEvent id, as "
             "FlyteAdmin does) or none",
     .choices = key_choices},
    {.key = "partitioner",
     .type = FCE_OPT_ENUM,
     .offset = KAFKA(partitioner),
     .default_value = "murmur2_random",
     .help = "librdkafka partitioner: murmur2_random (as Java clients), "
             "fnv1a (as FlyteAdmin's Go client), murmur2, "
             "consistent_random, consistent, fnv1a_random or random",
     .choices = fce_kafka_partitioners},
    {0},
};

const struct fce_backend_type fce_kafka_type = {
    .name = "kafka",
    .config_key = "kafka",
    .summary = "Produces CloudEvents to a Kafka topic with librdkafka",
    .options = kafka_options,
    .options_size = sizeof(struct fce_kafka_settings),
};
