/*
 * fce_sigv4: AWS Signature Version 4 (HMAC-SHA256) with OpenSSL.
 *
 * The signer works on a request as it goes on the wire: method, path and
 * raw query string, the headers the caller sets itself, and the exact body
 * bytes. Headers added later by libcurl (Accept, User-Agent) stay unsigned,
 * which AWS accepts. Temporary credentials need an X-Amz-Security-Token
 * header among the signed headers; add it before signing.
 *
 * The canonical form follows AWS's published rules for services other
 * than S3: the path normalised (dot segments and repeated slashes removed)
 * and URI-encoded once, query pairs percent-decoded, strictly re-encoded
 * and sorted by name then value, header names lower-cased, values trimmed
 * with inner blank runs collapsed, repeated headers joined with commas.
 *
 * No function here logs or keeps global state.
 */
#ifndef FCE_SIGV4_H
#define FCE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fce_buf.h"

#define FCE_SIGV4_DATE_LEN 16 /* "20150830T123600Z" */

struct fce_sigv4_header {
    const char *name;  /* any case; NUL-terminated */
    const char *value; /* as sent; NUL-terminated */
};

struct fce_sigv4_request {
    const char *method; /* "GET", "POST" */
    const char *path;   /* "/" or a path, not encoded; NULL: "/" */
    const char *query;  /* raw query string without '?', or NULL */
    const struct fce_sigv4_header *headers; /* must include host, x-amz-date */
    size_t header_count;
    const void *body;
    size_t body_len;
};

struct fce_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *region;   /* "us-east-1" */
    const char *service;  /* "sns", "sqs", "sts" */
    const char *amz_date; /* X-Amz-Date value, FCE_SIGV4_DATE_LEN chars */
};

/* Formats t as an X-Amz-Date value into out (FCE_SIGV4_DATE_LEN + 1). */
void fce_sigv4_format_date(time_t t, char *out);

/* Writes the lower-case hex SHA-256 of data into hex (65 bytes). */
void fce_sigv4_sha256_hex(const void *data, size_t len, char *hex);

/*
 * Appends the strict URI encoding of text to out: A-Z a-z 0-9 - _ . ~ kept,
 * every other byte as %XX with upper-case hex (space is %20, '+' is %2B).
 * keep_slash keeps '/' as is (for paths). Returns 0 or -ENOMEM.
 */
int fce_sigv4_uri_encode(struct fce_buf *out, const char *text, size_t len,
                         bool keep_slash);

/*
 * Appends the canonical request to creq and the signed-header list
 * ("host;x-amz-date") to signed_headers. Returns 0, -EINVAL for a header
 * without a name or with CR/LF, or -ENOMEM.
 */
int fce_sigv4_canonical_request(const struct fce_sigv4_request *request,
                                struct fce_buf *creq,
                                struct fce_buf *signed_headers);

/* Appends the string to sign for a canonical request. Returns 0 or
 * -ENOMEM; -EINVAL when params->amz_date is malformed. */
int fce_sigv4_string_to_sign(const struct fce_sigv4_params *params,
                             const char *creq, size_t creq_len,
                             struct fce_buf *sts);

/*
 * Derives the signing key: HMAC-SHA256 chained over the date stamp,
 * region, service and "aws4_request", starting from "AWS4" + secret.
 * Returns 0, or -EINVAL for an empty secret or a malformed date.
 */
int fce_sigv4_signing_key(const struct fce_sigv4_params *params,
                          uint8_t key[32]);

/*
 * A cached signing key. The key depends only on the secret, the date,
 * the region and the service, so one derivation serves a whole day.
 */
struct fce_sigv4_key_cache {
    uint8_t key[32];
    char date[9];
    uint8_t secret_hash[32]; /* SHA-256 of the secret, not the secret */
    char scope_tail[128];    /* "region/service" */
    bool valid;
};

/*
 * Signs a request and appends the Authorization header value
 * ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...") to
 * authorization. cache may be NULL. When creq_out or sts_out are not NULL
 * they receive the canonical request and the string to sign (for tests).
 * Returns 0, -EINVAL or -ENOMEM.
 */
int fce_sigv4_sign(const struct fce_sigv4_request *request,
                   const struct fce_sigv4_params *params,
                   struct fce_sigv4_key_cache *cache,
                   struct fce_buf *authorization, struct fce_buf *creq_out,
                   struct fce_buf *sts_out);

#endif
