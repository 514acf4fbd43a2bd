/*
 * fce_gcp_key: Google credential files and the JSON Web Tokens signed with
 * a service-account key.
 *
 * A credential file is what GOOGLE_APPLICATION_CREDENTIALS names: a
 * service-account key ("type": "service_account", with client_email,
 * private_key as PEM PKCS#8 RSA, private_key_id and token_uri) or a gcloud
 * user credential ("type": "authorized_user", with client_id,
 * client_secret and refresh_token). Other types (external_account for
 * workload identity federation, impersonated_service_account) are rejected
 * with a message that names the type.
 *
 * Tokens are RS256 (RSASSA-PKCS1-v1_5 with SHA-256) JWTs: the assertion of
 * the OAuth 2.0 JWT-bearer grant (RFC 7523), sent to token_uri, or a
 * self-signed JWT sent to the API directly as the bearer token.
 *
 * No function here logs. Thread-compatible.
 */
#ifndef FCE_GCP_KEY_H
#define FCE_GCP_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "fce_buf.h"

#define FCE_GCP_DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"

/* The longest lifetime Google accepts for an assertion or a self-signed
 * JWT, in seconds. */
#define FCE_GCP_JWT_MAX_LIFETIME 3600

enum fce_gcp_key_type {
    FCE_GCP_KEY_SERVICE_ACCOUNT,
    FCE_GCP_KEY_AUTHORIZED_USER,
};

/* A parsed credential file. Strings are malloc'd and NUL-terminated; those
 * that a type does not use are NULL. */
struct fce_gcp_key {
    enum fce_gcp_key_type type;
    char *project_id; /* may be NULL in either type */
    char *token_uri;  /* the file's, or FCE_GCP_DEFAULT_TOKEN_URI */
    /* service_account */
    char *client_email;
    char *private_key_id; /* the JWT "kid"; may be NULL */
    EVP_PKEY *private_key;
    /* authorized_user; client_secret and refresh_token are secrets */
    char *client_id;
    char *client_secret;
    char *refresh_token;
};

/*
 * Parses a credential file's JSON text into *key (which the caller
 * zero-initialises). Returns 0, or -EINVAL with a message in err that names
 * the problem and the member ("client_email missing"); *key is then
 * cleared. The message never contains key material.
 */
int fce_gcp_key_parse(const char *json, size_t len, struct fce_gcp_key *key,
                      char *err, size_t err_size);

/* Reads and parses the file at path. Returns 0, -EINVAL as above, or the
 * negative errno of open or read, with the path in err. */
int fce_gcp_key_load(const char *path, struct fce_gcp_key *key, char *err,
                     size_t err_size);

/* Frees what fce_gcp_key_parse() filled and zeroes the struct, wiping the
 * secrets first. */
void fce_gcp_key_clear(struct fce_gcp_key *key);

/* Appends the unpadded base64url form (RFC 4648 section 5) of data.
 * Returns 0 or -ENOMEM. */
int fce_gcp_base64url(const void *data, size_t len, struct fce_buf *out);

/*
 * Appends a signed JWT: base64url of the header {"alg":"RS256",
 * "typ":"JWT","kid":key_id}, '.', base64url of claims (a JSON object),
 * '.', base64url of the RS256 signature over the first two parts. key_id
 * may be NULL (no "kid"). Returns 0, -ENOMEM, or -EINVAL when OpenSSL
 * cannot sign with the key.
 */
int fce_gcp_jwt_sign(EVP_PKEY *private_key, const char *key_id,
                     const char *claims, size_t claims_len,
                     struct fce_buf *out);

/*
 * Appends the assertion of a JWT-bearer grant for a service-account key:
 * claims iss = client_email, scope (space-separated), aud = token_uri,
 * iat = now, exp = now + lifetime (clamped to 1..FCE_GCP_JWT_MAX_LIFETIME).
 * now is Unix seconds. Returns as fce_gcp_jwt_sign(), or -EINVAL when key
 * is not a service-account key.
 */
int fce_gcp_jwt_grant_assertion(const struct fce_gcp_key *key,
                                const char *scope, int64_t now,
                                int64_t lifetime, struct fce_buf *out);

/*
 * Appends a self-signed JWT for calling an API directly (AIP-4111):
 * iss = sub = client_email, aud = audience (a service URL such as
 * "https://pubsub.googleapis.com/"), iat, exp as above.
 */
int fce_gcp_jwt_self_signed(const struct fce_gcp_key *key, const char *audience,
                            int64_t now, int64_t lifetime, struct fce_buf *out);

#endif
