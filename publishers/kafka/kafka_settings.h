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

#endif
