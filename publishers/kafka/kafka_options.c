/*
 * The kafka backend's options (the `kafka:` block of a publisher, or of
 * FlyteAdmin's cloudEvents block) and the checks that both the config
 * loader and the backend's open run on them. librdkafka is only asked
 * whether it accepts the properties, so every program that links the
 * option tables can validate configurations.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "fce_config.h"
#include "kafka_settings.h"

int fce_kafka_version_parse(const char *text, unsigned parts[4])
{
    size_t wanted, count = 0;
    const char *p = text;

    if (!text || strlen(text) < 5)
        return -EINVAL;
    /* Before 1.0, Kafka versions had four parts: 0.10.2.1. */
    wanted = text[0] == '0' ? 4 : 3;
    memset(parts, 0, 4 * sizeof(parts[0]));

    while (count < wanted) {
        unsigned long value;
        char *end;

        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        errno = 0;
        value = strtoul(p, &end, 10);
        if (errno || value > 65535)
            return -EINVAL;
        parts[count++] = (unsigned)value;
        p = end;
        if (count < wanted && *p++ != '.')
            return -EINVAL;
    }
    if (*p != '\0' || (wanted == 4 && parts[0] != 0))
        return -EINVAL;
    if (wanted == 3) {
        /* Store 2.1.0 as 2.1.0.0, so both forms compare part by part. */
        parts[3] = 0;
    }
    return 0;
}

bool fce_kafka_version_has_headers(const unsigned parts[4])
{
    return parts[0] > 0 || parts[1] >= 11;
}

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

static bool has_property(const struct fce_props *props, const char *key)
{
    for (size_t i = 0; i < props->count; i++)
        if (strcmp(props->keys[i], key) == 0)
            return true;
    return false;
}

/* Checks one "host:port" or "[v6]:port" of a broker list. Returns NULL or
 * what is wrong with it. */
static const char *broker_problem(const char *broker, size_t len)
{
    const char *colon = NULL;

    for (size_t i = 0; i < len; i++) {
        if (isspace((unsigned char)broker[i]) ||
            iscntrl((unsigned char)broker[i]))
            return "contains a space or a control character";
        if (broker[i] == ':')
            colon = broker + i;
    }
    if (!colon)
        return "has no port";
    if (colon == broker ||
        (colon == broker + 2 && broker[0] == '[' && broker[1] == ']'))
        return "has no host";

    const char *end = broker + len;
    long port = 0;
    const char *p = colon + 1;
    for (; p < end && isdigit((unsigned char)*p) && port <= 65535; p++)
        port = port * 10 + (*p - '0');
    if (p == colon + 1 || p != end || port < 1 || port > 65535)
        return "has no port 1..65535 after the last ':'";
    return NULL;
}

/* Checks brokers: each item may itself be a comma-separated list, as
 * librdkafka's bootstrap.servers is. */
static void check_brokers(const struct fce_kafka_settings *settings,
                          const char *path, struct fce_diag *diag)
{
    char key[FCE_KAFKA_PATH_MAX];

    snprintf(key, sizeof(key), "%s.brokers", path);
    if (settings->brokers.count == 0 &&
        !has_property(&settings->properties, "bootstrap.servers")) {
        fce_diag_error(diag, key,
                       "missing; list the bootstrap brokers as host:port");
        return;
    }
    for (size_t i = 0; i < settings->brokers.count; i++) {
        const char *item = settings->brokers.items[i];
        const char *part = item;
        do {
            size_t len = strcspn(part, ",");
            const char *why = broker_problem(part, len);
            if (why)
                fce_diag_error(diag, key,
                               "'%.*s' %s; give host:port, such as "
                               "kafka-0:9092",
                               (int)len, part, why);
            part += len;
        } while (*part++ == ',');
    }
}

static void check_version(const char *version, const char *path,
                          struct fce_diag *diag)
{
    char key[FCE_KAFKA_PATH_MAX];
    unsigned parts[4];

    if (!version || !version[0])
        return; /* negotiate with the broker only */
    snprintf(key, sizeof(key), "%s.version", path);
    if (fce_kafka_version_parse(version, parts) != 0)
        fce_diag_error(diag, key,
                       "invalid value '%s'; use A.B.C such as 3.7.0, or "
                       "0.A.B.C for versions before 1.0",
                       version);
    else if (!fce_kafka_version_has_headers(parts))
        fce_diag_error(diag, key,
                       "'%s' is older than 0.11.0.0, which record headers "
                       "need; set the brokers' real version",
                       version);
}

/* Sets every property on a scratch librdkafka configuration, so that an
 * unknown name or a bad value is reported now, not at the publisher's
 * open. librdkafka's message names the property and the problem. */
static void check_properties(const struct fce_props *props, const char *path,
                             struct fce_diag *diag)
{
    char key[FCE_KAFKA_PATH_MAX], why[256];
    rd_kafka_conf_t *scratch;

    if (props->count == 0)
        return;
    scratch = rd_kafka_conf_new();
    if (!scratch) {
        fce_diag_error(diag, path, "out of memory checking properties");
        return;
    }
    for (size_t i = 0; i < props->count; i++) {
        if (rd_kafka_conf_set(scratch, props->keys[i], props->values[i], why,
                              sizeof(why)) == RD_KAFKA_CONF_OK)
            continue;
        snprintf(key, sizeof(key), "%s.properties.%s", path, props->keys[i]);
        fce_diag_error(diag, key, "%s", why);
    }
    rd_kafka_conf_destroy(scratch);
}

void fce_kafka_settings_check(const struct fce_kafka_settings *settings,
                              const char *path, struct fce_diag *diag)
{
    const struct fce_kafka_tls *tls = &settings->tls;
    bool has_cert = tls->cert_path && tls->cert_path[0];
    bool has_key = tls->key_path && tls->key_path[0];
    char key[FCE_KAFKA_PATH_MAX];

    check_brokers(settings, path, diag);
    check_version(settings->version, path, diag);
    if (tls->enabled && has_cert != has_key) {
        snprintf(key, sizeof(key), "%s.tlsConfig", path);
        fce_diag_error(diag, key,
                       "certPath and keyPath go together; set both for a "
                       "client certificate, or neither");
    }
    check_properties(&settings->properties, path, diag);
}

static void validate(const void *settings,
                     const struct fce_publisher_config *publisher,
                     struct fce_diag *diag)
{
    char path[FCE_KAFKA_PATH_MAX];

    snprintf(path, sizeof(path), "%s.kafka", publisher->origin);
    fce_kafka_settings_check(settings, path, diag);
}

const struct fce_backend_type fce_kafka_type = {
    .name = "kafka",
    .config_key = "kafka",
    .summary = "Produces CloudEvents to a Kafka topic with librdkafka",
    .options = kafka_options,
    .options_size = sizeof(struct fce_kafka_settings),
    .validate = validate,
};
