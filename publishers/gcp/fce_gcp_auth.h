/*
 * fce_gcp_auth: access tokens for Google APIs, as Application Default
 * Credentials find them, cached and refreshed before they expire.
 *
 * Sources, in the order FCE_GCP_AUTH_AUTO tries them:
 *   1. a credential file: the credentialsFile option, else the file that
 *      GOOGLE_APPLICATION_CREDENTIALS names. A service-account key gets
 *      its token from the JWT-bearer grant at the key's token_uri (or, in
 *      FCE_GCP_AUTH_SELF_SIGNED mode, signs a JWT for the API itself); a
 *      gcloud authorized_user file uses its refresh token.
 *   2. the metadata server of GCE, GKE (Workload Identity) and Cloud Run:
 *      GET http://HOST/computeMetadata/v1/instance/service-accounts/default/
 *      token with "Metadata-Flavor: Google". HOST is the metadataHost
 *      option, else GCE_METADATA_HOST, else GCE_METADATA_ROOT, else
 *      metadata.google.internal. Tests point it at a fake on 127.0.0.1.
 * FCE_GCP_AUTH_NONE sends no Authorization header (the Pub/Sub emulator).
 *
 * A token is refreshed when less than min(5 min, a quarter of its
 * lifetime) remains, so short-lived tokens are renewed too. A failed fetch
 * keeps the old token while it is still valid and is retried with capped
 * backoff (1 s doubling to 30 s). Fetches are synchronous, bounded by
 * fetch_timeout_ms, on the caller's thread, once per token lifetime.
 *
 * Logs fetches (info) and fetch failures (warn, rate-limited) with
 * component=gcp; never logs a token or key material. Not thread-safe.
 */
#ifndef FCE_GCP_AUTH_H
#define FCE_GCP_AUTH_H

#include <stddef.h>
#include <stdint.h>

enum fce_gcp_auth_mode {
    FCE_GCP_AUTH_AUTO,        /* credential file if one is set, else metadata */
    FCE_GCP_AUTH_JWT_GRANT,   /* credential file, OAuth token exchange */
    FCE_GCP_AUTH_SELF_SIGNED, /* service-account key, self-signed JWT */
    FCE_GCP_AUTH_METADATA,    /* metadata server */
    FCE_GCP_AUTH_NONE,        /* no Authorization header */
};

#define FCE_GCP_SCOPE_PUBSUB  "https://www.googleapis.com/auth/pubsub"
#define FCE_GCP_METADATA_HOST "metadata.google.internal"

struct fce_gcp_auth_options {
    enum fce_gcp_auth_mode mode;
    const char *credentials_file; /* NULL: GOOGLE_APPLICATION_CREDENTIALS */
    const char *metadata_host;    /* host[:port]; NULL: see above */
    const char *scope;            /* space-separated; NULL: Pub/Sub's */
    const char *audience;         /* self-signed JWT aud; required there */
    uint64_t jwt_lifetime_s;      /* assertion and self-signed JWT; 0: 3600 */
    uint64_t fetch_timeout_ms;    /* one token fetch; 0: 10000 */
};

struct fce_gcp_auth;

/*
 * Resolves the source and loads the credential file, without fetching a
 * token yet. Returns 0 with *auth set, -EINVAL with a message in err (a
 * missing or invalid credential file, a mode the file does not support),
 * or -ENOMEM.
 */
int fce_gcp_auth_open(const struct fce_gcp_auth_options *options,
                      struct fce_gcp_auth **auth, char *err, size_t err_size);

/* Wipes the cached token and frees the credentials. NULL is allowed. */
void fce_gcp_auth_close(struct fce_gcp_auth *auth);

/* The source in use after AUTO was resolved. */
enum fce_gcp_auth_mode fce_gcp_auth_source(const struct fce_gcp_auth *auth);

/* One line for logs naming the source ("service account a@b.iam..., JWT
 * grant at https://oauth2.googleapis.com/token"); no secrets. */
const char *fce_gcp_auth_describe(const struct fce_gcp_auth *auth);

/*
 * Returns in *header the "Authorization: Bearer ..." line to send now,
 * fetching or refreshing the token first when it is due; *header is NULL
 * in FCE_GCP_AUTH_NONE mode. *generation identifies the token for
 * fce_gcp_auth_invalidate(). The line is valid until the next call.
 * Returns 0, or -EAGAIN when no valid token is available (the last fetch
 * failed; err says why and the next attempt waits for the backoff).
 */
int fce_gcp_auth_header(struct fce_gcp_auth *auth, const char **header,
                        uint64_t *generation, char *err, size_t err_size);

/*
 * Marks the token of generation as rejected (an HTTP 401), so the next
 * fce_gcp_auth_header() fetches a new one at once. Does nothing when a
 * newer token has replaced it already, so many requests failing with the
 * same token cause one fetch.
 */
void fce_gcp_auth_invalidate(struct fce_gcp_auth *auth, uint64_t generation);

/* Tokens fetched or signed and failed fetches since open. */
struct fce_gcp_auth_stats {
    uint64_t fetches;
    uint64_t failures;
};

void fce_gcp_auth_stats(const struct fce_gcp_auth *auth,
                        struct fce_gcp_auth_stats *stats);

#endif
