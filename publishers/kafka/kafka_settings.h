/*
 * The kafka backend's settings, filled by the config loader from the
 * option table in kafka_options.c. Free of librdkafka so that every
 * program can link the option table.
 */
#ifndef FCE_KAFKA_SETTINGS_H
#define FCE_KAFKA_SETTINGS_H

#include <stdbool.h>

#include "fce_option.h"

enum fce_kafka_key {
    FCE_KAFKA_KEY_PARTITION, /* project/domain/name of the execution */
    FCE_KAFKA_KEY_ID,        /* the CloudEvent id, as FlyteAdmin does */
    FCE_KAFKA_KEY_NONE,      /* no key: the partitioner spreads records */
};

enum fce_kafka_mechanism {
    FCE_KAFKA_SASL_PLAIN,
    FCE_KAFKA_SASL_SCRAM_SHA_256,
    FCE_KAFKA_SASL_SCRAM_SHA_512,
};

/* saslConfig, as FlyteAdmin spells it. */
struct fce_kafka_sasl {
    bool enabled;
    char *user;
    char *password;      /* used when password_path is empty */
    char *password_path; /* file whose trimmed contents are the password */
    bool handshake;      /* accepted; librdkafka always sends it */
    int mechanism;       /* enum fce_kafka_mechanism */
};

/* tlsConfig, as FlyteAdmin spells it, plus caPath. */
struct fce_kafka_tls {
    bool enabled;
    bool insecure_skip_verify;
    char *cert_path;
    char *key_path;
    char *ca_path;
};

struct fce_kafka_settings {
    struct fce_strlist brokers;
    char *version;
    struct fce_kafka_sasl sasl;
    struct fce_kafka_tls tls;
    struct fce_props properties; /* librdkafka properties, applied last */
    int key;                     /* enum fce_kafka_key */
    int partitioner;             /* index into fce_kafka_partitioners */
};

/* librdkafka partitioner names, in the order of the partitioner choices;
 * NULL-terminated. murmur2_random is the default (Java clients' choice),
 * fnv1a matches FlyteAdmin's Go client (sarama's hash partitioner). */
extern const char *const fce_kafka_partitioners[];

extern const struct fce_backend_type fce_kafka_type;

/* Longest key path in messages, "publishers[63].kafka.properties.x...". */
#define FCE_KAFKA_PATH_MAX 256

/*
 * Parses a Kafka version the way FlyteAdmin's client (sarama) does: at
 * least 5 characters, "0.A.B.C" when it starts with 0, else "A.B.C", digits
 * only. Fills parts (the missing fourth part is 0). Returns 0 or -EINVAL.
 */
int fce_kafka_version_parse(const char *text, unsigned parts[4]);

/* Whether a parsed version has record headers (0.11.0.0 or later), which
 * both content modes need. */
bool fce_kafka_version_has_headers(const unsigned parts[4]);

struct fce_diag;

/*
 * Checks settings as the producer needs them: brokers given as host:port
 * with a port 1..65535 (or bootstrap.servers among the properties), a
 * version that parses and has record headers, certPath with keyPath, and
 * every property accepted by librdkafka. Reports each problem into diag
 * under path ("publishers[0].kafka"). The config loader (through the
 * backend type's validate callback) and fce_kafka_conf_build() both call
 * it. Never logs, never reads the files the settings name.
 */
void fce_kafka_settings_check(const struct fce_kafka_settings *settings,
                              const char *path, struct fce_diag *diag);

#endif
