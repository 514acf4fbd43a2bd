/*
 * fce_aws_creds: AWS credentials resolved in the order of the AWS SDKs for
 * JavaScript and Go, cached, and refreshed before they expire.
 *
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *      AWS_SESSION_TOKEN (or the older AWS_SECURITY_TOKEN)
 *   2. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
 *      AWS_CONFIG_FILE (~/.aws/config), profile AWS_PROFILE or
 *      AWS_DEFAULT_PROFILE or "default"; static keys only
 *   3. web identity (EKS IRSA): AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE
 *      -> STS AssumeRoleWithWebIdentity (unsigned), the token file re-read
 *      on every refresh; AWS_ROLE_SESSION_NAME optional
 *   4. container (EKS Pod Identity, ECS):
 *      AWS_CONTAINER_CREDENTIALS_FULL_URI or ..._RELATIVE_URI, with
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or ..._TOKEN
 *   5. EC2 IMDSv2: token PUT, then the role name and its credentials;
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the address,
 *      AWS_EC2_METADATA_DISABLED=true skips it
 *
 * The first source that is configured decides: a source whose variables
 * are set but that fails (bad token file, STS error) is an error, not a
 * reason to fall through to the next one, except IMDS, which is tried
 * only when nothing else is configured.
 *
 * Temporary credentials are refreshed when their remaining lifetime falls
 * below refresh_window_ms or a fifth of the lifetime they were issued
 * with, whichever is smaller, so credentials that are short-lived from the
 * start are refreshed too. When a refresh fails while the old credentials
 * are still valid, they stay in use and the refresh is tried again later.
 *
 * Fetches are synchronous (fce_http_fetch) with short timeouts and run on
 * the caller's thread: one refresh per credential lifetime. Not
 * thread-safe: one cache belongs to one publisher thread. Nothing here
 * logs; errors come back as text that never contains a secret.
 */
#ifndef FCE_AWS_CREDS_H
#define FCE_AWS_CREDS_H

#include <stddef.h>
#include <stdint.h>

struct fce_aws_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;     /* NULL for long-term keys */
    int64_t expires_unix_ms; /* 0: never expires */
    const char *source;      /* "environment", "shared-file", "web-identity",
                              * "container", "imds" */
};

/* Settings; every field may be left zero. */
struct fce_aws_creds_options {
    const char *region;         /* STS region; default AWS_REGION, then
                                 * AWS_DEFAULT_REGION, then us-east-1 */
    const char *sts_endpoint;   /* default AWS_ENDPOINT_URL_STS, then
                                 * https://sts.<region>.amazonaws.com */
    const char *container_host; /* base URL for the relative container URI;
                                 * default http://169.254.170.2 */
    uint64_t refresh_window_ms; /* default 600000 (10 minutes) */
    uint64_t timeout_ms;        /* per fetch; default 2000, STS 5000 */
    /* Clock in Unix milliseconds, for tests; NULL: the real clock. */
    int64_t (*now_ms)(void *clock_arg);
    void *clock_arg;
};

struct fce_aws_creds;

/* Creates an empty cache (nothing is fetched yet). Returns 0 or -ENOMEM. */
int fce_aws_creds_open(const struct fce_aws_creds_options *options,
                       struct fce_aws_creds **creds);

void fce_aws_creds_close(struct fce_aws_creds *creds);

/*
 * Returns usable credentials in *out, resolving them on first use and
 * refreshing them when they are due. The pointer stays valid until the
 * next call on this cache. Returns 0, or a negative errno with a message
 * in err (naming the source, the variable or file, and what to do):
 *   -ENOENT   no source is configured
 *   -EINVAL   a source is configured wrongly (bad file, bad URI)
 *   -EACCES   the service refused (STS error, 4xx from an endpoint)
 *   -EAGAIN   a transient failure (timeout, 5xx); retry later
 */
int fce_aws_creds_get(struct fce_aws_creds *creds,
                      const struct fce_aws_credentials **out, char *err,
                      size_t err_size);

/* Forces a refresh on the next fce_aws_creds_get(), after the service
 * answered ExpiredToken. */
void fce_aws_creds_invalidate(struct fce_aws_creds *creds);

/* Number of successful fetches from any source, for tests and metrics. */
uint64_t fce_aws_creds_fetch_count(const struct fce_aws_creds *creds);

#endif
