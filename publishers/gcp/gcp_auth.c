#include "fce_gcp_auth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "fce_buf.h"
#include "fce_gcp_json.h"
#include "fce_gcp_key.h"
#include "fce_log.h"
#include "http/fce_http.h"

#define FETCH_TIMEOUT_DEFAULT_MS 10000
#define REFRESH_MARGIN_MAX_MS    (5 * 60 * 1000)
#define BACKOFF_FIRST_MS         1000
#define BACKOFF_MAX_MS           30000
/* A token response without expires_in is taken to last this long. */
#define DEFAULT_EXPIRES_IN_S 3600
#define TOKEN_MAX            8192

struct fce_gcp_auth {
    enum fce_gcp_auth_mode mode;
    struct fce_gcp_key key;
    char *metadata_url;
    char *scope;
    char *audience;
    int64_t jwt_lifetime_s;
    uint64_t timeout_ms;

    char *header; /* "Authorization: Bearer <token>", a secret */
    uint64_t generation;
    uint64_t expires_ms; /* monotonic time the token stops being valid */
    uint64_t refresh_ms; /* monotonic time to fetch its successor */
    uint64_t next_attempt_ms;
    uint64_t backoff_ms;
    struct fce_gcp_auth_stats stats;
    char description[300];
};

/* A fetched token before it replaces the cached one. */
struct token {
    char *value; /* a secret */
    uint64_t expires_in_s;
};

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void free_secret(char *secret)
{
    if (secret) {
        OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
    }
}

/* Appends text percent-encoded for application/x-www-form-urlencoded. */
static int append_form_value(struct fce_buf *out, const char *text)
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

/* Appends name=value& pairs; pairs is NULL-terminated. */
static int build_form(struct fce_buf *out, const char *const *pairs)
{
    for (size_t i = 0; pairs[i]; i += 2) {
        int rc = fce_buf_printf(out, "%s%s=", i ? "&" : "", pairs[i]);
        if (rc == 0)
            rc = append_form_value(out, pairs[i + 1]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Copies an OAuth error body's "error" and "error_description" into err. */
static void describe_oauth_error(const struct fce_http_response *response,
                                 char *err, size_t err_size)
{
    const char *body = response->body.data ? response->body.data : "";
    size_t len = response->body.len;
    char code[64] = "", text[160] = "";
    struct fce_gcp_json_value value;

    if (fce_gcp_json_validate(body, len) == 0) {
        if (fce_gcp_json_find(body, len, "error", &value) == 0)
            fce_gcp_json_string(&value, code, sizeof(code));
        if (fce_gcp_json_find(body, len, "error_description", &value) == 0 ||
            fce_gcp_json_find(body, len, "error.message", &value) == 0)
            fce_gcp_json_string(&value, text, sizeof(text));
    }
    snprintf(err, err_size, "HTTP %ld%s%s%s%s", response->status,
             code[0] ? " " : "", code, text[0] ? ": " : "", text);
}

/* Reads access_token and expires_in from a token response body. */
static int parse_token(const struct fce_http_response *response,
                       struct token *token, char *err, size_t err_size)
{
    const char *body = response->body.data ? response->body.data : "";
    size_t len = response->body.len;
    struct fce_gcp_json_value value;
    if (fce_gcp_json_validate(body, len) < 0) {
        snprintf(err, err_size, "token response is not JSON");
        return -EPROTO;
    }

    if (fce_gcp_json_find(body, len, "access_token", &value) < 0 ||
        fce_gcp_json_strdup(&value, &token->value) <= 0 ||
        strlen(token->value) > TOKEN_MAX || strpbrk(token->value, " \r\n")) {
        free_secret(token->value);
        token->value = NULL;
        snprintf(err, err_size, "token response has no valid access_token");
        return -EPROTO;
    }

    unsigned long long expires_in = DEFAULT_EXPIRES_IN_S;
    if (fce_gcp_json_find(body, len, "expires_in", &value) == 0 &&
        fce_gcp_json_uint(&value, &expires_in) < 0) {
        snprintf(err, err_size, "token response has an invalid expires_in");
        return -EPROTO;
    }
    token->expires_in_s = expires_in ? expires_in : 1;
    return 0;
}

/* Runs one token request and parses a 200 response. */
static int fetch_token(struct fce_gcp_auth *auth,
                       const struct fce_http_request *request,
                       struct token *token, char *err, size_t err_size)
{
    struct fce_http_response response;
    fce_http_response_init(&response);
    int rc = fce_http_fetch(request, &response);
    if (rc < 0) {
        snprintf(err, err_size, "%s: %s", request->url, response.error_text);
        goto cleanup;
    }
    if (response.status != 200) {
        char detail[240];
        describe_oauth_error(&response, detail, sizeof(detail));
        snprintf(err, err_size, "%s: %s", request->url, detail);
        rc = -EACCES;
        goto cleanup;
    }
    if (auth->mode == FCE_GCP_AUTH_METADATA) {
        size_t n = 0;
        const char *flavor = fce_http_header(&response, "Metadata-Flavor", &n);
        if (!flavor || n != 6 || strncasecmp(flavor, "Google", 6) != 0) {
            snprintf(err, err_size,
                     "%s: response lacks Metadata-Flavor: Google, so it "
                     "is not a metadata server",
                     request->url);
            rc = -EPROTO;
            goto cleanup;
        }
    }
    rc = parse_token(&response, token, err, err_size);

cleanup:
    /* The body holds the token. */
    if (response.body.data)
        OPENSSL_cleanse(response.body.data, response.body.len);
    fce_http_response_free(&response);
    return rc;
}

static int post_form(struct fce_gcp_auth *auth, const char *const *pairs,
                     struct token *token, char *err, size_t err_size)
{
    static const char *const headers[] = {
        "Content-Type: application/x-www-form-urlencoded",
        "Accept: application/json",
    };
    struct fce_buf body = FCE_BUF_INIT;
    int rc = build_form(&body, pairs);
    if (rc == 0) {
        struct fce_http_request request = {
            .method = "POST",
            .url = auth->key.token_uri,
            .headers = headers,
            .header_count = 2,
            .body = body.data,
            .body_len = body.len,
            .timeout_ms = auth->timeout_ms,
        };
        rc = fetch_token(auth, &request, token, err, err_size);
    }
    if (body.data)
        OPENSSL_cleanse(body.data, body.len);
    fce_buf_free(&body);
    return rc;
}

static int fetch_grant(struct fce_gcp_auth *auth, struct token *token,
                       char *err, size_t err_size)
{
    if (auth->key.type == FCE_GCP_KEY_AUTHORIZED_USER) {
        const char *const pairs[] = {
            "grant_type",
            "refresh_token",
            "client_id",
            auth->key.client_id,
            "client_secret",
            auth->key.client_secret,
            "refresh_token",
            auth->key.refresh_token,
            NULL,
        };
        return post_form(auth, pairs, token, err, err_size);
    }

    struct fce_buf jwt = FCE_BUF_INIT;
    int rc = fce_gcp_jwt_grant_assertion(&auth->key, auth->scope,
                                         (int64_t)time(NULL),
                                         auth->jwt_lifetime_s, &jwt);
    if (rc == 0)
        rc = fce_buf_append(&jwt, "", 1); /* NUL-terminate */
    if (rc < 0) {
        snprintf(err, err_size, "signing the JWT assertion failed");
    } else {
        const char *const pairs[] = {
            "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion",  jwt.data,
            NULL,
        };
        rc = post_form(auth, pairs, token, err, err_size);
    }
    fce_buf_free(&jwt);
    return rc;
}

static int fetch_metadata(struct fce_gcp_auth *auth, struct token *token,
                          char *err, size_t err_size)
{
    static const char *const headers[] = {"Metadata-Flavor: Google"};
    struct fce_http_request request = {
        .method = "GET",
        .url = auth->metadata_url,
        .headers = headers,
        .header_count = 1,
        .timeout_ms = auth->timeout_ms,
    };
    return fetch_token(auth, &request, token, err, err_size);
}

static int sign_self(struct fce_gcp_auth *auth, struct token *token, char *err,
                     size_t err_size)
{
    struct fce_buf jwt = FCE_BUF_INIT;
    int rc =
        fce_gcp_jwt_self_signed(&auth->key, auth->audience, (int64_t)time(NULL),
                                auth->jwt_lifetime_s, &jwt);
    if (rc == 0)
        rc = fce_buf_append(&jwt, "", 1);
    if (rc < 0) {
        snprintf(err, err_size, "signing the self-signed JWT failed");
        fce_buf_free(&jwt);
        return rc;
    }
    token->value = jwt.data; /* ownership moves to the token */
    token->expires_in_s = (uint64_t)auth->jwt_lifetime_s;
    return 0;
}

static int obtain(struct fce_gcp_auth *auth, struct token *token, char *err,
                  size_t err_size)
{
    switch (auth->mode) {
    case FCE_GCP_AUTH_JWT_GRANT:
        return fetch_grant(auth, token, err, err_size);
    case FCE_GCP_AUTH_SELF_SIGNED:
        return sign_self(auth, token, err, err_size);
    case FCE_GCP_AUTH_METADATA:
        return fetch_metadata(auth, token, err, err_size);
    default:
        return -EINVAL;
    }
}

/* Stores a new token and schedules its refresh. */
static int install(struct fce_gcp_auth *auth, struct token *token, uint64_t now)
{
    struct fce_buf line = FCE_BUF_INIT;
    int rc = fce_buf_printf(&line, "Authorization: Bearer %s", token->value);
    free_secret(token->value);
    if (rc < 0)
        return rc;

    free_secret(auth->header);
    auth->header = line.data;
    auth->generation++;

    uint64_t lifetime_ms = token->expires_in_s * 1000;
    uint64_t margin = lifetime_ms / 4;
    if (margin > REFRESH_MARGIN_MAX_MS)
        margin = REFRESH_MARGIN_MAX_MS;
    auth->expires_ms = now + lifetime_ms;
    auth->refresh_ms = auth->expires_ms - margin;
    auth->backoff_ms = 0;
    auth->next_attempt_ms = 0;
    auth->stats.fetches++;
    fce_info("gcp", "obtained an access token",
             "source=%s expires_in_s=%" PRIu64,
             fce_log_quote(auth->description), token->expires_in_s);
    return 0;
}

static void note_failure(struct fce_gcp_auth *auth, uint64_t now,
                         const char *err)
{
    static struct fce_log_limit limit;
    auth->stats.failures++;
    auth->backoff_ms =
        auth->backoff_ms ? auth->backoff_ms * 2 : BACKOFF_FIRST_MS;
    if (auth->backoff_ms > BACKOFF_MAX_MS)
        auth->backoff_ms = BACKOFF_MAX_MS;
    auth->next_attempt_ms = now + auth->backoff_ms;

    bool valid = auth->header && now < auth->expires_ms;
    fce_log_limited(&limit, 10000, FCE_LOG_WARN, "gcp",
                    valid ? "token refresh failed; the current token is "
                            "still valid"
                          : "token fetch failed; publishing waits for a token",
                    "error=%s retry_in_ms=%" PRIu64, fce_log_quote(err),
                    auth->backoff_ms);
}

int fce_gcp_auth_header(struct fce_gcp_auth *auth, const char **header,
                        uint64_t *generation, char *err, size_t err_size)
{
    *header = NULL;
    *generation = 0;
    if (err_size)
        err[0] = '\0';
    if (auth->mode == FCE_GCP_AUTH_NONE)
        return 0;

    uint64_t now = monotonic_ms();
    if ((!auth->header || now >= auth->refresh_ms) &&
        now >= auth->next_attempt_ms) {
        struct token token = {0};
        char why[300] = "";
        int rc = obtain(auth, &token, why, sizeof(why));
        if (rc == 0)
            rc = install(auth, &token, monotonic_ms());
        if (rc < 0) {
            snprintf(err, err_size, "%s", why[0] ? why : strerror(-rc));
            note_failure(auth, now, err);
        }
    }

    if (!auth->header || monotonic_ms() >= auth->expires_ms) {
        if (err_size && !err[0])
            snprintf(err, err_size, "no valid token; waiting to retry");
        return -EAGAIN;
    }
    *header = auth->header;
    *generation = auth->generation;
    return 0;
}

void fce_gcp_auth_invalidate(struct fce_gcp_auth *auth, uint64_t generation)
{
    if (generation != auth->generation || !auth->header)
        return;
    /* Fetch at once, but a rejected token is no longer used either. */
    auth->refresh_ms = 0;
    auth->expires_ms = 0;
    auth->next_attempt_ms = 0;
}

static int set_metadata_url(struct fce_gcp_auth *auth, const char *host,
                            const char *scope)
{
    if (!host || !*host)
        host = getenv("GCE_METADATA_HOST");
    if (!host || !*host)
        host = getenv("GCE_METADATA_ROOT");
    if (!host || !*host)
        host = FCE_GCP_METADATA_HOST;

    struct fce_buf url = FCE_BUF_INIT;
    int rc = fce_buf_printf(&url,
                            "http://%s/computeMetadata/v1/instance/"
                            "service-accounts/default/token?scopes=",
                            host);
    /* The metadata server takes scopes comma-separated. */
    for (const char *p = scope; rc == 0 && *p; p++)
        rc = fce_buf_append(&url, *p == ' ' ? "," : p, 1);
    if (rc == 0)
        rc = fce_buf_append(&url, "", 1);
    if (rc < 0) {
        fce_buf_free(&url);
        return rc;
    }
    auth->metadata_url = url.data;
    snprintf(auth->description, sizeof(auth->description), "metadata server %s",
             host);
    return 0;
}

/* Loads the credential file and settles JWT grant or self-signed. */
static int open_key_file(struct fce_gcp_auth *auth, const char *path,
                         enum fce_gcp_auth_mode mode, char *err,
                         size_t err_size)
{
    int rc = fce_gcp_key_load(path, &auth->key, err, err_size);
    if (rc < 0)
        return rc == -ENOMEM ? rc : -EINVAL;

    auth->mode = mode == FCE_GCP_AUTH_AUTO ? FCE_GCP_AUTH_JWT_GRANT : mode;
    if (auth->mode == FCE_GCP_AUTH_SELF_SIGNED &&
        auth->key.type != FCE_GCP_KEY_SERVICE_ACCOUNT) {
        snprintf(err, err_size,
                 "%s: a self-signed JWT needs a service_account key, not "
                 "authorized_user; set auth to jwtGrant or auto",
                 path);
        return -EINVAL;
    }

    const char *who = auth->key.client_email ? auth->key.client_email
                                             : "gcloud user credentials";
    if (auth->mode == FCE_GCP_AUTH_SELF_SIGNED)
        snprintf(auth->description, sizeof(auth->description),
                 "%s, self-signed JWT for %s", who, auth->audience);
    else
        snprintf(auth->description, sizeof(auth->description),
                 "%s, token from %s", who, auth->key.token_uri);
    return 0;
}

static int resolve(struct fce_gcp_auth *auth,
                   const struct fce_gcp_auth_options *options, char *err,
                   size_t err_size)
{
    enum fce_gcp_auth_mode mode = options->mode;
    if (mode == FCE_GCP_AUTH_NONE) {
        auth->mode = mode;
        snprintf(auth->description, sizeof(auth->description), "none");
        return 0;
    }
    if (mode == FCE_GCP_AUTH_METADATA) {
        auth->mode = mode;
        return set_metadata_url(auth, options->metadata_host, auth->scope);
    }

    const char *path = options->credentials_file;
    if (!path || !*path)
        path = getenv("GOOGLE_APPLICATION_CREDENTIALS");
    if (path && *path)
        return open_key_file(auth, path, mode, err, err_size);
    if (mode != FCE_GCP_AUTH_AUTO) {
        snprintf(err, err_size,
                 "no credential file: set credentialsFile or "
                 "GOOGLE_APPLICATION_CREDENTIALS to a service-account key, "
                 "or set auth to metadata");
        return -EINVAL;
    }
    auth->mode = FCE_GCP_AUTH_METADATA;
    return set_metadata_url(auth, options->metadata_host, auth->scope);
}

int fce_gcp_auth_open(const struct fce_gcp_auth_options *options,
                      struct fce_gcp_auth **out, char *err, size_t err_size)
{
    struct fce_gcp_auth *auth = calloc(1, sizeof(*auth));
    if (!auth)
        return -ENOMEM;

    int rc = -ENOMEM;
    auth->scope =
        strdup(options->scope ? options->scope : FCE_GCP_SCOPE_PUBSUB);
    auth->audience = strdup(options->audience ? options->audience : "");
    if (!auth->scope || !auth->audience)
        goto cleanup;
    auth->jwt_lifetime_s = options->jwt_lifetime_s
                               ? (int64_t)options->jwt_lifetime_s
                               : FCE_GCP_JWT_MAX_LIFETIME;
    if (auth->jwt_lifetime_s > FCE_GCP_JWT_MAX_LIFETIME)
        auth->jwt_lifetime_s = FCE_GCP_JWT_MAX_LIFETIME;
    auth->timeout_ms = options->fetch_timeout_ms ? options->fetch_timeout_ms
                                                 : FETCH_TIMEOUT_DEFAULT_MS;

    if (options->mode == FCE_GCP_AUTH_SELF_SIGNED && !auth->audience[0]) {
        snprintf(err, err_size, "a self-signed JWT needs an audience");
        rc = -EINVAL;
        goto cleanup;
    }
    rc = resolve(auth, options, err, err_size);

cleanup:
    if (rc < 0) {
        if (rc == -ENOMEM && err_size)
            snprintf(err, err_size, "out of memory");
        fce_gcp_auth_close(auth);
        return rc;
    }
    *out = auth;
    return 0;
}

void fce_gcp_auth_close(struct fce_gcp_auth *auth)
{
    if (!auth)
        return;
    fce_gcp_key_clear(&auth->key);
    free(auth->metadata_url);
    free(auth->scope);
    free(auth->audience);
    free_secret(auth->header);
    free(auth);
}

enum fce_gcp_auth_mode fce_gcp_auth_source(const struct fce_gcp_auth *auth)
{
    return auth->mode;
}

const char *fce_gcp_auth_describe(const struct fce_gcp_auth *auth)
{
    return auth->description;
}

void fce_gcp_auth_stats(const struct fce_gcp_auth *auth,
                        struct fce_gcp_auth_stats *stats)
{
    *stats = auth->stats;
}
