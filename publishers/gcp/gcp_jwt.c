#include "fce_gcp_key.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fce_gcp_json.h"

int fce_gcp_base64url(const void *data, size_t len, struct fce_buf *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789-_";
    int rc = fce_buf_reserve(out, (len + 2) / 3 * 4);
    if (rc < 0)
        return rc;

    const unsigned char *in = data;
    char *w = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v =
            (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *w++ = alphabet[v >> 18];
        *w++ = alphabet[(v >> 12) & 63];
        *w++ = alphabet[(v >> 6) & 63];
        *w++ = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        *w++ = alphabet[v >> 18];
        *w++ = alphabet[(v >> 12) & 63];
        if (i + 1 < len)
            *w++ = alphabet[(v >> 6) & 63];
    }
    out->len = (size_t)(w - out->data);
    return 0;
}

/* Signs the bytes signing_input with RS256 into sig (at least
 * EVP_PKEY_get_size() bytes). Returns the signature length or -EINVAL. */
static long sign_rs256(EVP_PKEY *private_key, const char *signing_input,
                       size_t len, unsigned char *sig, size_t sig_size)
{
    long rc = -EINVAL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        return -ENOMEM;

    size_t sig_len = sig_size;
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, private_key) == 1 &&
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)signing_input,
                       len) == 1)
        rc = (long)sig_len;
    EVP_MD_CTX_free(md);
    return rc;
}

int fce_gcp_jwt_sign(EVP_PKEY *private_key, const char *key_id,
                     const char *claims, size_t claims_len, struct fce_buf *out)
{
    struct fce_buf header = FCE_BUF_INIT;
    unsigned char sig[1024];
    size_t start = out->len;
    int rc = fce_buf_append_str(&header, "{\"alg\":\"RS256\",\"typ\":\"JWT\"");
    if (rc == 0 && key_id) {
        rc = fce_buf_append_str(&header, ",\"kid\":");
        if (rc == 0)
            rc = fce_gcp_json_append_string(&header, key_id, strlen(key_id));
    }
    if (rc == 0)
        rc = fce_buf_append(&header, "}", 1);
    if (rc < 0)
        goto cleanup;

    rc = fce_gcp_base64url(header.data, header.len, out);
    if (rc == 0)
        rc = fce_buf_append(out, ".", 1);
    if (rc == 0)
        rc = fce_gcp_base64url(claims, claims_len, out);
    if (rc < 0)
        goto cleanup;

    if ((size_t)EVP_PKEY_get_size(private_key) > sizeof(sig)) {
        rc = -EINVAL; /* RSA keys above 8192 bits */
        goto cleanup;
    }
    long sig_len = sign_rs256(private_key, out->data + start, out->len - start,
                              sig, sizeof(sig));
    if (sig_len < 0) {
        rc = (int)sig_len;
        goto cleanup;
    }
    rc = fce_buf_append(out, ".", 1);
    if (rc == 0)
        rc = fce_gcp_base64url(sig, (size_t)sig_len, out);

cleanup:
    if (rc < 0)
        out->len = start;
    fce_buf_free(&header);
    return rc;
}

static int64_t clamp_lifetime(int64_t lifetime)
{
    if (lifetime < 1)
        return 1;
    return lifetime > FCE_GCP_JWT_MAX_LIFETIME ? FCE_GCP_JWT_MAX_LIFETIME
                                               : lifetime;
}

/* Appends ,"name":"value" to a claims object under construction. */
static int add_claim(struct fce_buf *claims, const char *name,
                     const char *value)
{
    int rc =
        fce_buf_printf(claims, "%s\"%s\":", claims->len > 1 ? "," : "", name);
    if (rc == 0)
        rc = fce_gcp_json_append_string(claims, value, strlen(value));
    return rc;
}

/* Finishes a claims object with iat and exp and signs it. */
static int sign_claims(const struct fce_gcp_key *key, struct fce_buf *claims,
                       int64_t now, int64_t lifetime, struct fce_buf *out)
{
    int rc = fce_buf_printf(claims, ",\"iat\":%" PRId64 ",\"exp\":%" PRId64 "}",
                            now, now + clamp_lifetime(lifetime));
    if (rc == 0)
        rc = fce_gcp_jwt_sign(key->private_key, key->private_key_id,
                              claims->data, claims->len, out);
    return rc;
}

int fce_gcp_jwt_grant_assertion(const struct fce_gcp_key *key,
                                const char *scope, int64_t now,
                                int64_t lifetime, struct fce_buf *out)
{
    if (key->type != FCE_GCP_KEY_SERVICE_ACCOUNT || !key->private_key)
        return -EINVAL;

    struct fce_buf claims = FCE_BUF_INIT;
    int rc = fce_buf_append(&claims, "{", 1);
    if (rc == 0)
        rc = add_claim(&claims, "iss", key->client_email);
    if (rc == 0)
        rc = add_claim(&claims, "scope", scope);
    if (rc == 0)
        rc = add_claim(&claims, "aud", key->token_uri);
    if (rc == 0)
        rc = sign_claims(key, &claims, now, lifetime, out);
    fce_buf_free(&claims);
    return rc;
}

int fce_gcp_jwt_self_signed(const struct fce_gcp_key *key, const char *audience,
                            int64_t now, int64_t lifetime, struct fce_buf *out)
{
    if (key->type != FCE_GCP_KEY_SERVICE_ACCOUNT || !key->private_key)
        return -EINVAL;

    struct fce_buf claims = FCE_BUF_INIT;
    int rc = fce_buf_append(&claims, "{", 1);
    if (rc == 0)
        rc = add_claim(&claims, "iss", key->client_email);
    if (rc == 0)
        rc = add_claim(&claims, "sub", key->client_email);
    if (rc == 0)
        rc = add_claim(&claims, "aud", audience);
    if (rc == 0)
        rc = sign_claims(key, &claims, now, lifetime, out);
    fce_buf_free(&claims);
    return rc;
}
