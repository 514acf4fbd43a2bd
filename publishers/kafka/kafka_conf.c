/*
 * The kafka backend's settings turned into a librdkafka configuration, and
 * the delivery-error classification. The settings checks and the version
 * parser live in kafka_options.c, which every program links.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fce_buf.h"
#include "fce_config.h"
#include "fce_kafka.h"

enum fce_outcome fce_kafka_outcome(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return FCE_OUTCOME_DELIVERED;
    /* TODO(kafka): a broker's MSG_SIZE_TOO_LARGE fails the whole message
     * set, so records that would fit alone are dead-lettered with it;
     * retrying them one per request would save those. */
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return FCE_OUTCOME_REJECTED;
    default:
        return FCE_OUTCOME_RETRY;
    }
}

static int set(rd_kafka_conf_t *conf, const char *origin, const char *key,
               const char *name, const char *value, char *err, size_t size)
{
    char why[256];

    if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) ==
        RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, size, "%s.kafka.%s: %s", origin, key, why);
    return -EINVAL;
}

static int set_brokers(rd_kafka_conf_t *conf,
                       const struct fce_kafka_settings *settings,
                       const char *origin, char *err, size_t size)
{
    struct fce_buf list = FCE_BUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < settings->brokers.count && rc == 0; i++) {
        if (i > 0)
            rc = fce_buf_append(&list, ",", 1);
        if (rc == 0)
            rc = fce_buf_append_str(&list, settings->brokers.items[i]);
    }
    if (rc == 0)
        rc = fce_buf_append(&list, "", 1);
    if (rc == 0)
        rc = set(conf, origin, "brokers", "bootstrap.servers", list.data, err,
                 size);
    fce_buf_free(&list);
    return rc;
}

/* The version was checked by fce_kafka_settings_check(). */
static int set_version(rd_kafka_conf_t *conf, const char *version,
                       const char *origin, char *err, size_t size)
{
    if (!version || !version[0])
        return 0; /* negotiate with the broker only */
    /* librdkafka asks the broker for its versions (api.version.request,
     * on by default) and falls back to this one when it cannot. */
    return set(conf, origin, "version", "broker.version.fallback", version, err,
               size);
}

/* Reads the password file; surrounding whitespace is not part of it. */
static int read_password(const char *path, char **password)
{
    FILE *file = fopen(path, "re");
    char buffer[4096];
    size_t len, start = 0;

    if (!file)
        return -errno;
    len = fread(buffer, 1, sizeof(buffer) - 1, file);
    fclose(file);
    buffer[len] = '\0';
    while (start < len && isspace((unsigned char)buffer[start]))
        start++;
    while (len > start && isspace((unsigned char)buffer[len - 1]))
        buffer[--len] = '\0';
    *password = strdup(buffer + start);
    explicit_bzero(buffer, sizeof(buffer));
    return *password ? 0 : -ENOMEM;
}

static int set_sasl(rd_kafka_conf_t *conf, const struct fce_kafka_sasl *sasl,
                    const char *origin, char *err, size_t size)
{
    static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256",
                                             "SCRAM-SHA-512"};
    char *password = NULL;
    int rc;

    if (sasl->password_path && sasl->password_path[0]) {
        rc = read_password(sasl->password_path, &password);
        if (rc) {
            snprintf(err, size,
                     "%s.kafka.saslConfig.passwordPath: cannot read '%s': "
                     "%s; point it at the file that holds the password",
                     origin, sasl->password_path, strerror(-rc));
            return rc == -ENOMEM ? rc : -EINVAL;
        }
    }
    if (sasl->mechanism < 0 || sasl->mechanism > 2) {
        snprintf(err, size, "%s.kafka.saslConfig.mechanism: invalid value",
                 origin);
        rc = -EINVAL;
        goto cleanup;
    }

    rc = set(conf, origin, "saslConfig.mechanism", "sasl.mechanisms",
             mechanisms[sasl->mechanism], err, size);
    if (rc == 0 && sasl->user)
        rc = set(conf, origin, "saslConfig.user", "sasl.username", sasl->user,
                 err, size);
    if (rc == 0 && (password || sasl->password))
        rc = set(conf, origin, "saslConfig.password", "sasl.password",
                 password ? password : sasl->password, err, size);

cleanup:
    if (password) {
        explicit_bzero(password, strlen(password));
        free(password);
    }
    return rc;
}

static int set_tls(rd_kafka_conf_t *conf, const struct fce_kafka_tls *tls,
                   const char *origin, char *err, size_t size)
{
    bool has_cert = tls->cert_path && tls->cert_path[0];
    bool has_key = tls->key_path && tls->key_path[0];
    int rc = 0;

    /* fce_kafka_settings_check() rejects certPath without keyPath and the
     * reverse. */
    if (tls->ca_path && tls->ca_path[0])
        rc = set(conf, origin, "tlsConfig.caPath", "ssl.ca.location",
                 tls->ca_path, err, size);
    if (rc == 0 && has_cert)
        rc = set(conf, origin, "tlsConfig.certPath", "ssl.certificate.location",
                 tls->cert_path, err, size);
    if (rc == 0 && has_key)
        rc = set(conf, origin, "tlsConfig.keyPath", "ssl.key.location",
                 tls->key_path, err, size);
    if (rc == 0 && tls->insecure_skip_verify)
        rc = set(conf, origin, "tlsConfig.insecureSkipVerify",
                 "enable.ssl.certificate.verification", "false", err, size);
    if (rc == 0 && tls->insecure_skip_verify)
        rc = set(conf, origin, "tlsConfig.insecureSkipVerify",
                 "ssl.endpoint.identification.algorithm", "none", err, size);
    return rc;
}

static int set_security(rd_kafka_conf_t *conf,
                        const struct fce_kafka_settings *settings,
                        const char *origin, char *err, size_t size)
{
    bool sasl = settings->sasl.enabled, tls = settings->tls.enabled;
    const char *protocol = sasl ? (tls ? "SASL_SSL" : "SASL_PLAINTEXT")
                                : (tls ? "SSL" : "PLAINTEXT");
    int rc = set(conf, origin, "saslConfig", "security.protocol", protocol, err,
                 size);

    if (rc == 0 && sasl)
        rc = set_sasl(conf, &settings->sasl, origin, err, size);
    if (rc == 0 && tls)
        rc = set_tls(conf, &settings->tls, origin, err, size);
    return rc;
}

static int set_properties(rd_kafka_conf_t *conf, const struct fce_props *props,
                          const char *origin, char *err, size_t size)
{
    char why[256];

    for (size_t i = 0; i < props->count; i++) {
        if (rd_kafka_conf_set(conf, props->keys[i], props->values[i], why,
                              sizeof(why)) != RD_KAFKA_CONF_OK) {
            snprintf(err, size, "%s.kafka.properties.%s: %s", origin,
                     props->keys[i], why);
            return -EINVAL;
        }
    }
    return 0;
}

/* Runs the shared settings check and puts its first problem into err. */
static int check_settings(const struct fce_kafka_settings *settings,
                          const char *origin, char *err, size_t size)
{
    struct fce_diag diag = {0};
    char path[FCE_KAFKA_PATH_MAX];
    static const char prefix[] = "error: ";

    snprintf(path, sizeof(path), "%s.kafka", origin);
    fce_kafka_settings_check(settings, path, &diag);
    int rc = diag.error_count ? -EINVAL : 0;
    if (rc && diag.count) {
        const char *first = diag.messages[0];
        if (strncmp(first, prefix, sizeof(prefix) - 1) == 0)
            first += sizeof(prefix) - 1;
        snprintf(err, size, "%s", first);
    } else if (rc) {
        snprintf(err, size, "%s: invalid settings (out of memory)", path);
    }
    fce_diag_free(&diag);
    return rc;
}

int fce_kafka_conf_build(const struct fce_kafka_settings *settings,
                         const char *origin, const char *client_id,
                         rd_kafka_conf_t **result, char *err, size_t size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int partitioner = settings->partitioner;
    int rc;

    if (!conf)
        return -ENOMEM;
    rc = check_settings(settings, origin, err, size);
    if (rc)
        goto cleanup;
    if (partitioner < 0 || partitioner > 6)
        partitioner = 0;

    rc = set_brokers(conf, settings, origin, err, size);
    if (rc == 0)
        rc = set(conf, origin, "brokers", "client.id", client_id, err, size);
    if (rc == 0)
        rc = set(conf, origin, "brokers", "enable.idempotence", "true", err,
                 size);
    if (rc == 0)
        rc = set(conf, origin, "brokers", "acks", "all", err, size);
    if (rc == 0)
        rc = set(conf, origin, "partitioner", "partitioner",
                 fce_kafka_partitioners[partitioner], err, size);
    if (rc == 0)
        rc = set_version(conf, settings->version, origin, err, size);
    if (rc == 0)
        rc = set_security(conf, settings, origin, err, size);
    if (rc == 0)
        rc = set_properties(conf, &settings->properties, origin, err, size);

cleanup:
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    *result = conf;
    return 0;
}
