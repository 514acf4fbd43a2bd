/*
 * Opening the Pub/Sub backend: the settings checked once more (the config
 * loader knows only their types), the publish URL, the credential source
 * and the HTTP client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fce_log.h"
#include "pubsub_internal.h"

/* Appends text percent-encoded for one URL path segment. */
static int append_segment(struct fce_buf *out, const char *text)
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

/* Appends the API base URL without a trailing slash. */
static int append_base(struct fce_buf *url, const char *endpoint,
                       const char *emulator)
{
    int rc;
    if (emulator)
        rc = fce_buf_printf(url, "http://%s", emulator);
    else if (strstr(endpoint, "://"))
        rc = fce_buf_append_str(url, endpoint);
    else
        rc = fce_buf_printf(url, "https://%s", endpoint);
    while (rc == 0 && url->len && url->data[url->len - 1] == '/')
        url->len--;
    return rc;
}

static int build_url(struct pubsub *ps, const char *emulator)
{
    const struct fce_pubsub_settings *s = ps->settings;
    struct fce_buf url = FCE_BUF_INIT;
    int rc = append_base(
        &url, s->endpoint ? s->endpoint : FCE_PUBSUB_GLOBAL_ENDPOINT, emulator);
    if (rc == 0)
        rc = fce_buf_append_str(&url, "/v1/projects/");
    if (rc == 0)
        rc = append_segment(&url, s->project_id);
    if (rc == 0)
        rc = fce_buf_append_str(&url, "/topics/");
    if (rc == 0)
        rc = append_segment(&url, ps->ctx.publisher->topic);
    if (rc == 0)
        rc = fce_buf_append(&url, ":publish", strlen(":publish") + 1);
    if (rc < 0) {
        fce_buf_free(&url);
        return rc;
    }
    ps->url = url.data;
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
}

static const enum fce_gcp_auth_mode auth_modes[] = {
    [FCE_PUBSUB_AUTH_AUTO] = FCE_GCP_AUTH_AUTO,
    [FCE_PUBSUB_AUTH_JWT_GRANT] = FCE_GCP_AUTH_JWT_GRANT,
    [FCE_PUBSUB_AUTH_SELF_SIGNED] = FCE_GCP_AUTH_SELF_SIGNED,
    [FCE_PUBSUB_AUTH_METADATA] = FCE_GCP_AUTH_METADATA,
    [FCE_PUBSUB_AUTH_NONE] = FCE_GCP_AUTH_NONE,
};

static int open_auth(struct pubsub *ps, const char *emulator, char *err,
                     size_t err_size)
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
    if (emulator && s->auth == FCE_PUBSUB_AUTH_AUTO)
        options.mode = FCE_GCP_AUTH_NONE;
    return fce_gcp_auth_open(&options, &ps->auth, err, err_size);
}

static int open_http(struct pubsub *ps)
{
    const struct fce_pubsub_settings *s = ps->settings;
    struct fce_http_options options = {
        .connect_timeout_ms = s->connect_timeout_ms,
        .timeout_ms = s->request_timeout_ms,
        .max_in_flight = (size_t)s->max_in_flight,
        .ca_file = s->ca_file && *s->ca_file ? s->ca_file : NULL,
        .user_agent = "flyte-cloudevents pubsub",
    };
    return fce_http_open(&options, &ps->http);
}

static void log_opened(const struct pubsub *ps, const char *emulator)
{
    const char *endpoint = ps->settings->endpoint ? ps->settings->endpoint
                                                  : FCE_PUBSUB_GLOBAL_ENDPOINT;
    fce_info("pubsub", "publisher opened",
             "publisher=%s url=%s mode=%s ordering=%s auth=%s", ps->name,
             fce_log_quote(ps->url),
             ps->mode == FCE_CONTENT_BINARY ? "binary" : "structured",
             ps->ordering ? "on" : "off",
             fce_log_quote(fce_gcp_auth_describe(ps->auth)));
    if (ps->ordering && !emulator && is_global(endpoint))
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

    const char *emulator = emulator_host(ps->settings);
    rc = build_url(ps, emulator);
    if (rc == 0)
        rc = open_auth(ps, emulator, err, sizeof(err));
    if (rc == 0)
        rc = open_http(ps);
    if (rc == 0)
        rc = pubsub_keys_init(ps);
    if (rc == 0)
        log_opened(ps, emulator);

cleanup:
    if (rc < 0)
        fce_error("pubsub", "cannot open the publisher",
                  "publisher=%s error=%s", ps->name,
                  fce_log_quote(err[0] ? err : strerror(-rc)));
    return rc;
}
