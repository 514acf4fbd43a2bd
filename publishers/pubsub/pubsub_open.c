/*
 * Opening the Pub/Sub backend: the settings checked once more (the config
 * loader knows only their types), the topic name, the credential source
 * and the transport.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fce_log.h"
#include "pubsub_internal.h"

int pubsub_append_segment(struct fce_buf *out, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        int rc;
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
            rc = fce_buf_append(out, p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = fce_buf_append(out, esc, 3);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The emulator address: the emulatorHost setting, else
 * PUBSUB_EMULATOR_HOST, else NULL. */
static const char *emulator_host(const struct fce_pubsub_settings *settings)
{
    if (settings->emulator_host && *settings->emulator_host)
        return settings->emulator_host;
    const char *env = getenv("PUBSUB_EMULATOR_HOST");
    return env && *env ? env : NULL;
}

int pubsub_base_url(const struct pubsub *ps, struct fce_buf *url)
{
    const char *endpoint = ps->settings->endpoint ? ps->settings->endpoint
                                                  : FCE_PUBSUB_GLOBAL_ENDPOINT;
    int rc;
    if (ps->emulator)
        rc = fce_buf_printf(url, "http://%s", ps->emulator);
    else if (strstr(endpoint, "://"))
        rc = fce_buf_append_str(url, endpoint);
    else
        rc = fce_buf_printf(url, "https://%s", endpoint);
    while (rc == 0 && url->len && url->data[url->len - 1] == '/')
        url->len--;
    if (rc == 0)
        rc = fce_buf_append(url, "", 1); /* NUL, not counted in len */
    if (rc == 0)
        url->len--;
    return rc;
}

/* projects/P/topics/T, the name both transports send. */
static int build_topic_path(struct pubsub *ps)
{
    struct fce_buf path = FCE_BUF_INIT;
    int rc = fce_buf_printf(&path, "projects/%s/topics/%s",
                            ps->settings->project_id, ps->ctx.publisher->topic);
    if (rc < 0) {
        fce_buf_free(&path);
        return rc;
    }
    ps->topic_path = path.data;
    return 0;
}

static bool is_global(const char *endpoint)
{
    const char *host = strstr(endpoint, "://");
    host = host ? host + 3 : endpoint;
    size_t n = strcspn(host, ":/");
    return n == strlen("pubsub.googleapis.com") &&
           strncmp(host, "pubsub.googleapis.com", n) == 0;
}

static int check_settings(const struct pubsub *ps, char *err, size_t err_size)
{
    const struct fce_pubsub_settings *s = ps->settings;
    const char *project = s->project_id;
    if (!project || !*project || strchr(project, '/')) {
        snprintf(err, err_size,
                 "gcp.projectId \"%.64s\" is invalid; set the GCP project "
                 "id (not projects/P)",
                 project ? project : "");
        return -EINVAL;
    }
    if (fce_pubsub_topic_check(ps->ctx.publisher->topic, err, err_size) < 0)
        return -EINVAL;
    if (s->max_request_bytes > FCE_PUBSUB_MAX_REQUEST_BYTES ||
        s->max_request_bytes < 1024) {
        snprintf(err, err_size,
                 "gcp.maxRequestBytes %llu is outside 1024..%d; the service "
                 "rejects requests above %d bytes",
                 (unsigned long long)s->max_request_bytes,
                 FCE_PUBSUB_MAX_REQUEST_BYTES, FCE_PUBSUB_MAX_REQUEST_BYTES);
        return -EINVAL;
    }
    return 0;
}

static void set_limits(struct pubsub *ps)
{
    const struct fce_pubsub_settings *s = ps->settings;
    ps->limits.max_request_bytes = s->max_request_bytes;
    ps->limits.max_message_bytes = s->max_message_bytes;
    ps->limits.max_attributes = (size_t)s->max_attributes;
    ps->limits.max_attribute_key = (size_t)s->max_attribute_key_bytes;
    ps->limits.max_attribute_value = (size_t)s->max_attribute_value_bytes;
    ps->limits.max_ordering_key = (size_t)s->max_ordering_key_bytes;
    ps->max_messages = (size_t)s->max_messages;
    ps->max_pending = (size_t)s->max_pending;
    ps->resume_ms = s->ordering_resume_ms;
    ps->mode = ps->ctx.publisher->content_mode;
    ps->ordering = s->ordering;
    ps->transport = s->transport == FCE_PUBSUB_TRANSPORT_REST
                        ? &pubsub_rest_transport
                        : &pubsub_grpc_transport;
}

static const enum fce_gcp_auth_mode auth_modes[] = {
    [FCE_PUBSUB_AUTH_AUTO] = FCE_GCP_AUTH_AUTO,
    [FCE_PUBSUB_AUTH_JWT_GRANT] = FCE_GCP_AUTH_JWT_GRANT,
    [FCE_PUBSUB_AUTH_SELF_SIGNED] = FCE_GCP_AUTH_SELF_SIGNED,
    [FCE_PUBSUB_AUTH_METADATA] = FCE_GCP_AUTH_METADATA,
    [FCE_PUBSUB_AUTH_NONE] = FCE_GCP_AUTH_NONE,
};

static int open_auth(struct pubsub *ps, char *err, size_t err_size)
{
    const struct fce_pubsub_settings *s = ps->settings;
    struct fce_gcp_auth_options options = {
        .mode = auth_modes[s->auth],
        .credentials_file = s->credentials_file,
        .metadata_host = s->metadata_host,
        .scope = s->scope,
        .audience = s->audience ? s->audience : FCE_PUBSUB_AUDIENCE,
        .jwt_lifetime_s = s->jwt_lifetime_ms / 1000,
        .fetch_timeout_ms = s->token_timeout_ms,
    };
    /* The emulator takes no credentials, as Google's clients do it. */
    if (ps->emulator && s->auth == FCE_PUBSUB_AUTH_AUTO)
        options.mode = FCE_GCP_AUTH_NONE;
    return fce_gcp_auth_open(&options, &ps->auth, err, err_size);
}

static void log_opened(const struct pubsub *ps)
{
    const char *endpoint = ps->settings->endpoint ? ps->settings->endpoint
                                                  : FCE_PUBSUB_GLOBAL_ENDPOINT;
    fce_info("pubsub", "publisher opened",
             "publisher=%s transport=%s url=%s topic=%s mode=%s ordering=%s "
             "auth=%s",
             ps->name, ps->transport->name, fce_log_quote(ps->url),
             fce_log_quote(ps->topic_path),
             ps->mode == FCE_CONTENT_BINARY ? "binary" : "structured",
             ps->ordering ? "on" : "off",
             fce_log_quote(fce_gcp_auth_describe(ps->auth)));
    if (ps->ordering && !ps->emulator && is_global(endpoint))
        fce_warn("pubsub",
                 "ordering keys with the global endpoint: ordered delivery "
                 "needs every publish of a key to reach one region; set "
                 "gcp.endpoint to a regional endpoint such as "
                 "us-east4-pubsub.googleapis.com",
                 "publisher=%s endpoint=%s", ps->name, fce_log_quote(endpoint));
}

int pubsub_setup(struct pubsub *ps)
{
    char err[512] = "";
    int rc = check_settings(ps, err, sizeof(err));
    if (rc < 0)
        goto cleanup;
    set_limits(ps);

    ps->emulator = emulator_host(ps->settings);
    rc = build_topic_path(ps);
    if (rc == 0)
        ps->limits.request_envelope = ps->transport->envelope_size(ps);
    if (rc == 0)
        rc = open_auth(ps, err, sizeof(err));
    if (rc == 0)
        rc = ps->transport->open(ps, err, sizeof(err));
    if (rc == 0)
        rc = pubsub_keys_init(ps);
    if (rc == 0)
        log_opened(ps);

cleanup:
    if (rc < 0)
        fce_error("pubsub", "cannot open the publisher",
                  "publisher=%s error=%s", ps->name,
                  fce_log_quote(err[0] ? err : strerror(-rc)));
    return rc;
}
