#include "fce_aws_creds.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fce_aws_parse.h"
#include "fce_sigv4.h"
#include "http/fce_http.h"

#define DEFAULT_REFRESH_WINDOW_MS (10 * 60 * 1000)
#define RETRY_FAILED_REFRESH_MS   (30 * 1000)
#define MAX_FILE_BYTES            (1024 * 1024)

struct fce_aws_creds {
    struct fce_aws_creds_options options;
    struct fce_aws_credentials current;
    bool have;
    int64_t fetched_ms;
    int64_t refresh_at_ms;   /* 0: never */
    int64_t next_attempt_ms; /* after a failed refresh */
    uint64_t fetch_count;
};

static void set_err(char *err, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *format, ...)
{
    if (!err || !size)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(err, size, format, args);
    va_end(args);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int64_t real_now_ms(void *arg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    (void)arg;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(const struct fce_aws_creds *c)
{
    return c->options.now_ms ? c->options.now_ms(c->options.clock_arg)
                             : real_now_ms(NULL);
}

static void free_secret(char **s)
{
    if (*s) {
        OPENSSL_cleanse(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

static void creds_clear(struct fce_aws_credentials *c)
{
    free(c->access_key_id);
    c->access_key_id = NULL;
    free_secret(&c->secret_access_key);
    free_secret(&c->session_token);
    c->expires_unix_ms = 0;
    c->source = NULL;
}

/* Fills *out from copies of the three strings. token may be NULL. */
static int creds_set(struct fce_aws_credentials *out, const char *key_id,
                     const char *secret, const char *token, const char *source)
{
    memset(out, 0, sizeof(*out));
    out->access_key_id = strdup(key_id);
    out->secret_access_key = strdup(secret);
    out->session_token = token && *token ? strdup(token) : NULL;
    out->source = source;
    if (!out->access_key_id || !out->secret_access_key ||
        (token && *token && !out->session_token)) {
        creds_clear(out);
        return -ENOMEM;
    }
    return 0;
}

int fce_aws_creds_open(const struct fce_aws_creds_options *options,
                       struct fce_aws_creds **creds)
{
    struct fce_aws_creds *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    if (options)
        c->options = *options;
    if (!c->options.refresh_window_ms)
        c->options.refresh_window_ms = DEFAULT_REFRESH_WINDOW_MS;
    if (!c->options.timeout_ms)
        c->options.timeout_ms = 2000;
    *creds = c;
    return 0;
}

void fce_aws_creds_close(struct fce_aws_creds *creds)
{
    if (!creds)
        return;
    creds_clear(&creds->current);
    free(creds);
}

uint64_t fce_aws_creds_fetch_count(const struct fce_aws_creds *creds)
{
    return creds->fetch_count;
}

void fce_aws_creds_invalidate(struct fce_aws_creds *creds)
{
    creds->refresh_at_ms = 1; /* due at once */
    creds->next_attempt_ms = 0;
}

/* ---- files ---- */

static int read_text_file(const char *path, struct fce_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    char chunk[4096];
    size_t n;
    int rc = 0;
    fce_buf_reset(out);
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = fce_buf_append(out, chunk, n);
        if (rc == 0 && out->len > MAX_FILE_BYTES)
            rc = -EFBIG;
    }
    if (rc == 0 && ferror(f))
        rc = -EIO;
    fclose(f);
    if (rc == 0)
        rc = fce_buf_append(out, "", 1);
    if (rc == 0)
        out->len--;
    return rc;
}

static void trim(char **start, char **end)
{
    while (*start < *end && strchr(" \t\r", **start))
        (*start)++;
    while (*end > *start && strchr(" \t\r", (*end)[-1]))
        (*end)--;
}

/* Keys of one INI section that the chain reads. */
struct profile {
    char *key_id, *secret, *token;
    bool unsupported; /* role_arn, credential_process, sso_* */
    bool found;
};

static void profile_clear(struct profile *p)
{
    free(p->key_id);
    free_secret(&p->secret);
    free_secret(&p->token);
    memset(p, 0, sizeof(*p));
}

static void profile_take(struct profile *p, const char *key, const char *v)
{
    char **slot = NULL;
    if (strcmp(key, "aws_access_key_id") == 0)
        slot = &p->key_id;
    else if (strcmp(key, "aws_secret_access_key") == 0)
        slot = &p->secret;
    else if (strcmp(key, "aws_session_token") == 0 ||
             strcmp(key, "aws_security_token") == 0)
        slot = &p->token;
    else if (strcmp(key, "role_arn") == 0 ||
             strcmp(key, "credential_process") == 0 ||
             strncmp(key, "sso_", 4) == 0)
        p->unsupported = true;
    if (slot) {
        free_secret(slot);
        *slot = strdup(v);
    }
}

/* Does this "[...]" header name the wanted profile? The config file
 * writes "[profile NAME]" except for "[default]". */
static bool section_matches(char *name, const char *profile, bool config)
{
    if (config && strncmp(name, "profile", 7) == 0 &&
        (name[7] == ' ' || name[7] == '\t')) {
        name += 8;
        while (*name == ' ' || *name == '\t')
            name++;
        return strcmp(name, profile) == 0;
    }
    return strcmp(name, profile) == 0 &&
           (!config || strcmp(profile, "default") == 0);
}

static void parse_ini(char *text, const char *profile, bool config,
                      struct profile *out)
{
    bool in_section = false;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *start = line, *end = line + strlen(line);
        trim(&start, &end);
        if (start == end || *start == '#' || *start == ';')
            continue;
        *end = '\0';
        if (*start == '[') {
            char *close = strchr(start, ']');
            if (!close)
                continue;
            char *name = start + 1, *name_end = close;
            trim(&name, &name_end);
            *name_end = '\0';
            in_section = section_matches(name, profile, config);
            out->found |= in_section;
            continue;
        }
        char *eq = strchr(start, '=');
        if (!in_section || !eq)
            continue;
        char *key = start, *key_end = eq, *value = eq + 1, *value_end = end;
        trim(&key, &key_end);
        trim(&value, &value_end);
        *key_end = '\0';
        *value_end = '\0';
        profile_take(out, key, value);
    }
}

static const char *home_file(const char *variable, const char *relative,
                             char *path, size_t size)
{
    const char *set = env(variable);
    if (set)
        return set;
    const char *home = env("HOME");
    if (!home)
        return NULL;
    snprintf(path, size, "%s/%s", home, relative);
    return path;
}

/* Reads one shared file into *p. A missing file is not an error. */
static int read_profile_file(const char *path, const char *profile, bool config,
                             struct profile *p, char *err, size_t err_size)
{
    struct fce_buf text = FCE_BUF_INIT;
    int rc = read_text_file(path, &text);
    if (rc == -ENOENT) {
        rc = 0;
    } else if (rc < 0) {
        set_err(err, err_size, "cannot read AWS shared file %s: %s", path,
                strerror(-rc));
        rc = -EINVAL;
    } else {
        parse_ini(text.data, profile, config, p);
    }
    if (text.data)
        OPENSSL_cleanse(text.data, text.cap);
    fce_buf_free(&text);
    return rc;
}

/* Returns 1 with credentials, 0 when the files give none, or an error. */
static int from_shared_files(struct fce_aws_credentials *out, char *err,
                             size_t err_size)
{
    const char *explicit_profile = env("AWS_PROFILE");
    if (!explicit_profile)
        explicit_profile = env("AWS_DEFAULT_PROFILE");
    const char *profile = explicit_profile ? explicit_profile : "default";
    char cred_buf[4096], config_buf[4096];
    const char *cred_path =
        home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", cred_buf,
                  sizeof(cred_buf));
    const char *config_path = home_file("AWS_CONFIG_FILE", ".aws/config",
                                        config_buf, sizeof(config_buf));
    struct profile p = {0};
    int rc = 0;

    if (cred_path)
        rc = read_profile_file(cred_path, profile, false, &p, err, err_size);
    if (rc == 0 && !(p.key_id && p.secret) && config_path)
        rc = read_profile_file(config_path, profile, true, &p, err, err_size);
    if (rc < 0)
        goto cleanup;

    if (p.key_id && p.secret) {
        rc = creds_set(out, p.key_id, p.secret, p.token, "shared-file");
        rc = rc == 0 ? 1 : rc;
    } else if (p.found && p.unsupported) {
        set_err(err, err_size,
                "AWS profile %s uses role_arn, credential_process or SSO, "
                "which this service does not support; give it "
                "aws_access_key_id and aws_secret_access_key, or use web "
                "identity or container credentials",
                profile);
        rc = -EINVAL;
    } else if (p.found && (p.key_id || p.secret)) {
        set_err(err, err_size,
                "AWS profile %s has only one of aws_access_key_id and "
                "aws_secret_access_key; set both",
                profile);
        rc = -EINVAL;
    } else if (explicit_profile && !p.found) {
        set_err(err, err_size,
                "AWS profile %s not found in %s or %s; check AWS_PROFILE",
                profile, cred_path ? cred_path : "(no credentials file)",
                config_path ? config_path : "(no config file)");
        rc = -EINVAL;
    }

cleanup:
    profile_clear(&p);
    return rc;
}

/* ---- environment ---- */

static int from_environment(struct fce_aws_credentials *out, char *err,
                            size_t err_size)
{
    const char *key_id = env("AWS_ACCESS_KEY_ID");
    const char *secret = env("AWS_SECRET_ACCESS_KEY");
    const char *token = env("AWS_SESSION_TOKEN");
    if (!token)
        token = env("AWS_SECURITY_TOKEN");
    if (!key_id && !secret)
        return 0;
    if (!key_id || !secret) {
        set_err(err, err_size, "%s is set but %s is not; set both or neither",
                key_id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                key_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return -EINVAL;
    }

    int rc = creds_set(out, key_id, secret, token, "environment");
    if (rc < 0)
        return rc;
    const char *expiry = env("AWS_CREDENTIAL_EXPIRATION");
    if (expiry &&
        fce_aws_parse_time(expiry, strlen(expiry), &out->expires_unix_ms) < 0)
        out->expires_unix_ms = 0;
    return 1;
}

/* ---- HTTP helpers ---- */

/* Maps a fetch result to the errno contract of fce_aws_creds_get(). */
static int fetch_failure(const struct fce_http_response *r, const char *what,
                         const char *url, char *err, size_t err_size)
{
    if (r->status == 0) {
        set_err(err, err_size, "%s request to %s failed: %s", what, url,
                r->error_text[0] ? r->error_text : strerror(-r->error));
        return -EAGAIN;
    }
    int n = (int)(r->body.len < 200 ? r->body.len : 200);
    set_err(err, err_size, "%s at %s answered HTTP %ld: %.*s", what, url,
            r->status, n, r->body.data ? r->body.data : "");
    return r->status >= 500 || r->status == 429 ? -EAGAIN : -EACCES;
}

/* Reads the credentials members of a container or IMDS JSON document. */
static int creds_from_json(struct fce_slice doc, const char *source,
                           struct fce_aws_credentials *out, char *err,
                           size_t err_size)
{
    struct fce_buf key = FCE_BUF_INIT, secret = FCE_BUF_INIT,
                   token = FCE_BUF_INIT, expiry = FCE_BUF_INIT;
    int rc = fce_aws_json_get_string(doc, "AccessKeyId", &key);
    if (rc == 0)
        rc = fce_aws_json_get_string(doc, "SecretAccessKey", &secret);
    if (rc == 0 && fce_aws_json_get_string(doc, "Token", &token) == -EPROTO)
        rc = -EPROTO;
    if (rc < 0) {
        set_err(err, err_size,
                "%s credentials response is not JSON with AccessKeyId and "
                "SecretAccessKey",
                source);
        rc = -EACCES;
        goto cleanup;
    }

    rc = creds_set(out, key.data, secret.data, token.len ? token.data : NULL,
                   source);
    if (rc == 0 && fce_aws_json_get_string(doc, "Expiration", &expiry) == 0 &&
        fce_aws_parse_time(expiry.data, expiry.len, &out->expires_unix_ms) < 0)
        out->expires_unix_ms = 0;
    rc = rc == 0 ? 1 : rc;

cleanup:
    if (secret.data)
        OPENSSL_cleanse(secret.data, secret.cap);
    if (token.data)
        OPENSSL_cleanse(token.data, token.cap);
    fce_buf_free(&key);
    fce_buf_free(&secret);
    fce_buf_free(&token);
    fce_buf_free(&expiry);
    return rc;
}

/* ---- web identity (STS AssumeRoleWithWebIdentity) ---- */

static int append_param(struct fce_buf *body, const char *name,
                        const char *value)
{
    int rc = fce_buf_printf(body, "%s%s=", body->len ? "&" : "", name);
    if (rc == 0)
        rc = fce_sigv4_uri_encode(body, value, strlen(value), false);
    return rc;
}

static const char *region_of(const struct fce_aws_creds *c)
{
    if (c->options.region && *c->options.region)
        return c->options.region;
    const char *r = env("AWS_REGION");
    if (!r)
        r = env("AWS_DEFAULT_REGION");
    return r ? r : "us-east-1";
}

static int sts_error(const struct fce_http_response *r, const char *url,
                     char *err, size_t err_size)
{
    if (r->status == 0)
        return fetch_failure(r, "STS AssumeRoleWithWebIdentity", url, err,
                             err_size);
    struct fce_slice doc = {r->body.data, r->body.len};
    struct fce_buf code = FCE_BUF_INIT, message = FCE_BUF_INIT;
    fce_aws_xml_get_text(doc, "Code", &code);
    fce_aws_xml_get_text(doc, "Message", &message);
    set_err(err, err_size,
            "STS AssumeRoleWithWebIdentity at %s failed: HTTP %ld %s: %s", url,
            r->status, code.len ? code.data : "(no code)",
            message.len ? message.data : "(no message)");
    bool transient =
        r->status >= 500 || r->status == 429 ||
        (code.data && (strcmp(code.data, "IDPCommunicationError") == 0 ||
                       strstr(code.data, "Throttl")));
    fce_buf_free(&code);
    fce_buf_free(&message);
    return transient ? -EAGAIN : -EACCES;
}

static int sts_parse(const struct fce_http_response *r,
                     struct fce_aws_credentials *out, char *err,
                     size_t err_size)
{
    struct fce_slice doc = {r->body.data, r->body.len}, section;
    struct fce_buf key = FCE_BUF_INIT, secret = FCE_BUF_INIT,
                   token = FCE_BUF_INIT, expiry = FCE_BUF_INIT;
    int rc = fce_aws_xml_element(doc, "Credentials", &section);
    if (rc == 0)
        rc = fce_aws_xml_get_text(section, "AccessKeyId", &key);
    if (rc == 0)
        rc = fce_aws_xml_get_text(section, "SecretAccessKey", &secret);
    if (rc == 0)
        rc = fce_aws_xml_get_text(section, "SessionToken", &token);
    if (rc == 0)
        rc = fce_aws_xml_get_text(section, "Expiration", &expiry);
    if (rc == 0)
        rc = creds_set(out, key.data, secret.data, token.data, "web-identity");
    if (rc == 0 &&
        fce_aws_parse_time(expiry.data, expiry.len, &out->expires_unix_ms) < 0)
        out->expires_unix_ms = 0;
    if (rc < 0 && rc != -ENOMEM) {
        set_err(err, err_size,
                "STS AssumeRoleWithWebIdentity answered without "
                "Credentials/AccessKeyId, SecretAccessKey, SessionToken and "
                "Expiration");
        rc = -EACCES;
    }
    if (secret.data)
        OPENSSL_cleanse(secret.data, secret.cap);
    if (token.data)
        OPENSSL_cleanse(token.data, token.cap);
    fce_buf_free(&key);
    fce_buf_free(&secret);
    fce_buf_free(&token);
    fce_buf_free(&expiry);
    return rc < 0 ? rc : 1;
}

static int sts_body(const char *role_arn, const char *token, int64_t now,
                    struct fce_buf *body)
{
    const char *session = env("AWS_ROLE_SESSION_NAME");
    char generated[64];
    if (!session) {
        snprintf(generated, sizeof(generated), "flyte-cloudevents-%lld",
                 (long long)(now / 1000));
        session = generated;
    }
    int rc = append_param(body, "Action", "AssumeRoleWithWebIdentity");
    if (rc == 0)
        rc = append_param(body, "Version", "2011-06-15");
    if (rc == 0)
        rc = append_param(body, "RoleArn", role_arn);
    if (rc == 0)
        rc = append_param(body, "RoleSessionName", session);
    if (rc == 0)
        rc = append_param(body, "WebIdentityToken", token);
    return rc;
}

static int from_web_identity(struct fce_aws_creds *c,
                             struct fce_aws_credentials *out, char *err,
                             size_t err_size)
{
    const char *role_arn = env("AWS_ROLE_ARN");
    const char *token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!role_arn && !token_file)
        return 0;
    if (!role_arn || !token_file) {
        set_err(err, err_size,
                "web identity needs both AWS_ROLE_ARN and "
                "AWS_WEB_IDENTITY_TOKEN_FILE; %s is missing",
                role_arn ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN");
        return -EINVAL;
    }

    struct fce_buf token = FCE_BUF_INIT, body = FCE_BUF_INIT;
    struct fce_http_response response;
    char url[1024];
    fce_http_response_init(&response);
    int rc = read_text_file(token_file, &token);
    if (rc < 0) {
        set_err(err, err_size,
                "cannot read the web identity token file %s "
                "(AWS_WEB_IDENTITY_TOKEN_FILE): %s",
                token_file, strerror(-rc));
        rc = rc == -ENOMEM ? rc : -EINVAL;
        goto cleanup;
    }
    while (token.len && strchr(" \t\r\n", token.data[token.len - 1]))
        token.data[--token.len] = '\0';

    const char *endpoint = c->options.sts_endpoint;
    if (!endpoint || !*endpoint)
        endpoint = env("AWS_ENDPOINT_URL_STS");
    if (endpoint)
        snprintf(url, sizeof(url), "%s", endpoint);
    else
        snprintf(url, sizeof(url), "https://sts.%s.amazonaws.com/",
                 region_of(c));

    rc = sts_body(role_arn, token.data, now_ms(c), &body);
    if (rc < 0)
        goto cleanup;
    const char *headers[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "Accept: application/xml"};
    struct fce_http_request request = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .header_count = 2,
        .body = body.data,
        .body_len = body.len,
        .timeout_ms =
            c->options.timeout_ms > 5000 ? c->options.timeout_ms : 5000,
    };
    fce_http_fetch(&request, &response);
    if (response.status != 200)
        rc = sts_error(&response, url, err, err_size);
    else
        rc = sts_parse(&response, out, err, err_size);

cleanup:
    if (token.data)
        OPENSSL_cleanse(token.data, token.cap);
    if (body.data)
        OPENSSL_cleanse(body.data, body.cap);
    if (response.body.data)
        OPENSSL_cleanse(response.body.data, response.body.cap);
    fce_buf_free(&token);
    fce_buf_free(&body);
    fce_http_response_free(&response);
    return rc;
}

/* ---- container credentials (EKS Pod Identity, ECS) ---- */

/* The SDKs accept a full URI only over https or to a host that no other
 * tenant can own: loopback, or the ECS and EKS agent addresses. */
static bool container_host_allowed(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = false;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto cleanup;

    if (strcasecmp(scheme, "https") == 0) {
        ok = true;
    } else if (strcasecmp(scheme, "http") == 0) {
        ok = strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0 ||
             strcasecmp(host, "localhost") == 0 ||
             strcmp(host, "169.254.170.2") == 0 ||
             strcmp(host, "169.254.170.23") == 0 ||
             strcasecmp(host, "[fd00:ec2::23]") == 0;
    }

cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

static int container_token(struct fce_buf *header, char *err, size_t err_size)
{
    const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *value = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    struct fce_buf text = FCE_BUF_INIT;
    int rc = 0;
    if (file) {
        rc = read_text_file(file, &text);
        if (rc < 0) {
            set_err(err, err_size,
                    "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: "
                    "%s",
                    file, strerror(-rc));
            fce_buf_free(&text);
            return rc == -ENOMEM ? rc : -EINVAL;
        }
        while (text.len && strchr(" \t\r\n", text.data[text.len - 1]))
            text.data[--text.len] = '\0';
        value = text.data;
    }
    if (value && strpbrk(value, "\r\n")) {
        set_err(err, err_size,
                "the container authorization token contains a line break; "
                "fix %s",
                file ? file : "AWS_CONTAINER_AUTHORIZATION_TOKEN");
        rc = -EINVAL;
    } else if (value) {
        rc = fce_buf_printf(header, "Authorization: %s", value);
    }
    if (text.data)
        OPENSSL_cleanse(text.data, text.cap);
    fce_buf_free(&text);
    return rc;
}

static int container_url(const struct fce_aws_creds *c, char *url, size_t size,
                         char *err, size_t err_size)
{
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (relative) {
        const char *base = c->options.container_host ? c->options.container_host
                                                     : "http://169.254.170.2";
        snprintf(url, size, "%s%s%s", base, relative[0] == '/' ? "" : "/",
                 relative);
        return 1;
    }
    if (!full)
        return 0;
    if (!container_host_allowed(full)) {
        set_err(err, err_size,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI %s is not allowed: use "
                "https, a loopback address, or the EKS or ECS agent "
                "address",
                full);
        return -EINVAL;
    }
    snprintf(url, size, "%s", full);
    return 1;
}

static int from_container(struct fce_aws_creds *c,
                          struct fce_aws_credentials *out, char *err,
                          size_t err_size)
{
    char url[2048];
    int rc = container_url(c, url, sizeof(url), err, err_size);
    if (rc <= 0)
        return rc;

    struct fce_buf auth = FCE_BUF_INIT;
    struct fce_http_response response;
    fce_http_response_init(&response);
    rc = container_token(&auth, err, err_size);
    if (rc < 0)
        goto cleanup;

    const char *headers[] = {auth.data, "Accept: application/json"};
    struct fce_http_request request = {
        .method = "GET",
        .url = url,
        .headers = auth.len ? headers : headers + 1,
        .header_count = auth.len ? 2 : 1,
        .timeout_ms = c->options.timeout_ms,
    };
    /* Three attempts, as the SDKs make, for an agent that is starting. */
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt)
            usleep(200 * 1000);
        fce_http_response_free(&response);
        fce_http_fetch(&request, &response);
        if (response.status == 200 ||
            (response.status && response.status < 500))
            break;
    }
    if (response.status != 200) {
        rc = fetch_failure(&response, "container credentials", url, err,
                           err_size);
        goto cleanup;
    }
    rc = creds_from_json(
        (struct fce_slice){response.body.data, response.body.len}, "container",
        out, err, err_size);

cleanup:
    if (auth.data)
        OPENSSL_cleanse(auth.data, auth.cap);
    if (response.body.data)
        OPENSSL_cleanse(response.body.data, response.body.cap);
    fce_buf_free(&auth);
    fce_http_response_free(&response);
    return rc;
}

/* ---- EC2 instance metadata (IMDSv2) ---- */

static int imds_call(const char *method, const char *url, const char *header,
                     uint64_t timeout_ms, struct fce_http_response *response)
{
    const char *headers[] = {header};
    struct fce_http_request request = {
        .method = method,
        .url = url,
        .headers = headers,
        .header_count = 1,
        .body = NULL,
        .timeout_ms = timeout_ms,
    };
    fce_http_response_free(response);
    return fce_http_fetch(&request, response);
}

static int from_imds(struct fce_aws_creds *c, struct fce_aws_credentials *out,
                     char *err, size_t err_size)
{
    const char *disabled = env("AWS_EC2_METADATA_DISABLED");
    if (disabled && strcasecmp(disabled, "true") == 0)
        return 0;
    const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!base)
        base = "http://169.254.169.254";
    size_t base_len = strlen(base);
    while (base_len && base[base_len - 1] == '/')
        base_len--;

    char url[2048], header[256];
    struct fce_http_response r;
    struct fce_buf role = FCE_BUF_INIT;
    fce_http_response_init(&r);
    int rc = 0;

    snprintf(url, sizeof(url), "%.*s/latest/api/token", (int)base_len, base);
    imds_call("PUT", url, "x-aws-ec2-metadata-token-ttl-seconds: 21600",
              c->options.timeout_ms < 1000 ? c->options.timeout_ms : 1000, &r);
    if (r.status != 200 || r.body.len == 0 || r.body.len > 200 ||
        memchr(r.body.data, '\n', r.body.len)) {
        /* No IMDSv2 here: not an error, the chain just ends. */
        goto cleanup;
    }
    snprintf(header, sizeof(header), "x-aws-ec2-metadata-token: %.*s",
             (int)r.body.len, r.body.data);

    snprintf(url, sizeof(url),
             "%.*s/latest/meta-data/iam/security-credentials/", (int)base_len,
             base);
    imds_call("GET", url, header, c->options.timeout_ms, &r);
    if (r.status != 200 || r.body.len == 0) {
        rc = r.status == 404
                 ? 0
                 : fetch_failure(&r, "IMDS role", url, err, err_size);
        goto cleanup;
    }
    size_t role_len = 0;
    while (role_len < r.body.len && r.body.data[role_len] != '\r' &&
           r.body.data[role_len] != '\n')
        role_len++;
    fce_buf_append(&role, r.body.data, role_len);
    fce_buf_append(&role, "", 1);

    snprintf(url, sizeof(url),
             "%.*s/latest/meta-data/iam/security-credentials/%s", (int)base_len,
             base, role.data);
    imds_call("GET", url, header, c->options.timeout_ms, &r);
    if (r.status != 200) {
        rc = fetch_failure(&r, "IMDS credentials", url, err, err_size);
        goto cleanup;
    }
    rc = creds_from_json((struct fce_slice){r.body.data, r.body.len}, "imds",
                         out, err, err_size);

cleanup:
    OPENSSL_cleanse(header, sizeof(header));
    if (r.body.data)
        OPENSSL_cleanse(r.body.data, r.body.cap);
    fce_http_response_free(&r);
    fce_buf_free(&role);
    return rc;
}

/* ---- the chain ---- */

static int resolve(struct fce_aws_creds *c, struct fce_aws_credentials *out,
                   char *err, size_t err_size)
{
    int rc = from_environment(out, err, err_size);
    if (rc == 0)
        rc = from_shared_files(out, err, err_size);
    if (rc == 0)
        rc = from_web_identity(c, out, err, err_size);
    if (rc == 0)
        rc = from_container(c, out, err, err_size);
    if (rc == 0)
        rc = from_imds(c, out, err, err_size);
    if (rc == 0) {
        set_err(err, err_size,
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, a profile in ~/.aws/credentials, "
                "IRSA (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE), EKS Pod "
                "Identity, or run on EC2 with an instance role");
        rc = -ENOENT;
    }
    return rc < 0 ? rc : 0;
}

/* TODO(aws): credentials that arrive already expired are fetched again on
 * every call; IMDS's static-stability extension is not implemented. */
static int64_t refresh_time(const struct fce_aws_creds *c, int64_t now)
{
    int64_t expires = c->current.expires_unix_ms;
    if (!expires)
        return 0;
    int64_t lifetime = expires - now;
    int64_t window = (int64_t)c->options.refresh_window_ms;
    if (lifetime / 5 < window)
        window = lifetime > 0 ? lifetime / 5 : 0;
    return expires - window;
}

int fce_aws_creds_get(struct fce_aws_creds *creds,
                      const struct fce_aws_credentials **out, char *err,
                      size_t err_size)
{
    int64_t now = now_ms(creds);
    bool due =
        !creds->have || (creds->refresh_at_ms && now >= creds->refresh_at_ms);
    if (!due || (creds->have && now < creds->next_attempt_ms)) {
        *out = &creds->current;
        return 0;
    }

    struct fce_aws_credentials fresh = {0};
    int rc = resolve(creds, &fresh, err, err_size);
    if (rc < 0) {
        bool still_valid =
            creds->have && (!creds->current.expires_unix_ms ||
                            now < creds->current.expires_unix_ms);
        if (!still_valid)
            return rc;
        /* Keep the old credentials and try again later. */
        int64_t left = creds->current.expires_unix_ms - now;
        int64_t wait = RETRY_FAILED_REFRESH_MS;
        if (creds->current.expires_unix_ms && left / 4 < wait)
            wait = left / 4;
        creds->next_attempt_ms = now + (wait > 100 ? wait : 100);
        *out = &creds->current;
        return 0;
    }

    creds_clear(&creds->current);
    creds->current = fresh;
    creds->have = true;
    creds->fetched_ms = now;
    creds->fetch_count++;
    creds->next_attempt_ms = 0;
    creds->refresh_at_ms = refresh_time(creds, now);
    *out = &creds->current;
    return 0;
}
