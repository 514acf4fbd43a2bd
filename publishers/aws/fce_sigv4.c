#include "fce_sigv4.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

void fce_sigv4_format_date(time_t t, char *out)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, FCE_SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

static void to_hex(const uint8_t *bytes, size_t len, char *hex)
{
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = hex_digits[bytes[i] >> 4];
        hex[2 * i + 1] = hex_digits[bytes[i] & 0xf];
    }
    hex[2 * len] = '\0';
}

void fce_sigv4_sha256_hex(const void *data, size_t len, char *hex)
{
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(data ? data : (const void *)"", len, digest);
    to_hex(digest, sizeof(digest), hex);
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '~';
}

int fce_sigv4_uri_encode(struct fce_buf *out, const char *text, size_t len,
                         bool keep_slash)
{
    int rc = fce_buf_reserve(out, len * 3);
    if (rc < 0)
        return rc;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out->data[out->len++] = (char)c;
            continue;
        }
        out->data[out->len++] = '%';
        out->data[out->len++] = hex_upper[c >> 4];
        out->data[out->len++] = hex_upper[c & 0xf];
    }
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX escapes in place; a '%' not followed by two hex digits is
 * kept as a literal percent sign. Returns the new length. */
static size_t percent_decode(char *text, size_t len)
{
    size_t w = 0;
    for (size_t r = 0; r < len; r++) {
        if (text[r] == '%' && r + 2 < len && hex_value(text[r + 1]) >= 0 &&
            hex_value(text[r + 2]) >= 0) {
            text[w++] =
                (char)(hex_value(text[r + 1]) * 16 + hex_value(text[r + 2]));
            r += 2;
            continue;
        }
        text[w++] = text[r];
    }
    return w;
}

/* ---- canonical URI ---- */

/*
 * Removes empty, "." and ".." segments (RFC 3986 section 5.2.4 for the
 * dot segments, plus collapsing repeated slashes as AWS does), keeping a
 * trailing slash. Appends the encoded result to out.
 */
static int canonical_uri(struct fce_buf *out, const char *path)
{
    if (!path || !*path)
        path = "/";
    size_t len = strlen(path);
    const char **starts = calloc(len + 1, sizeof(*starts));
    size_t *lens = calloc(len + 1, sizeof(*lens));
    size_t count = 0;
    int rc = -ENOMEM;
    if (!starts || !lens)
        goto cleanup;

    bool trailing = len > 1 && path[len - 1] == '/';
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *seg = p;
        while (*p && *p != '/')
            p++;
        size_t seg_len = (size_t)(p - seg);
        if (seg_len == 0 || (seg_len == 1 && seg[0] == '.'))
            continue;
        if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (count)
                count--;
            continue;
        }
        starts[count] = seg;
        lens[count++] = seg_len;
    }
    /* A path ending in "/." or "/.." still names a folder. */
    if (len >= 2 && path[len - 1] == '.' &&
        (path[len - 2] == '/' ||
         (path[len - 2] == '.' && len >= 3 && path[len - 3] == '/')))
        trailing = true;

    rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = fce_buf_append(out, "/", 1);
        if (rc == 0)
            rc = fce_sigv4_uri_encode(out, starts[i], lens[i], false);
    }
    if (rc == 0 && (count == 0 || trailing))
        rc = fce_buf_append(out, "/", 1);

cleanup:
    free(starts);
    free(lens);
    return rc;
}

/* ---- canonical query ---- */

struct pair {
    struct fce_buf name;
    struct fce_buf value;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = memcmp(x->name.data, y->name.data, n);
    if (c || x->name.len != y->name.len)
        return c ? c : (x->name.len < y->name.len ? -1 : 1);
    n = x->value.len < y->value.len ? x->value.len : y->value.len;
    c = n ? memcmp(x->value.data, y->value.data, n) : 0;
    if (c || x->value.len == y->value.len)
        return c;
    return x->value.len < y->value.len ? -1 : 1;
}

/* Decodes one name or value and appends its strict encoding. */
static int encode_component(struct fce_buf *out, const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, text, len);
    size_t decoded = percent_decode(copy, len);
    int rc = fce_sigv4_uri_encode(out, copy, decoded, false);
    free(copy);
    /* An empty buffer still needs storage for memcmp in the sort. */
    if (rc == 0 && !out->data)
        rc = fce_buf_reserve(out, 1);
    return rc;
}

static size_t count_pairs(const char *query)
{
    size_t n = 1;
    for (const char *p = query; *p; p++)
        n += *p == '&';
    return n;
}

static int parse_pairs(const char *query, struct pair *pairs, size_t *count)
{
    size_t n = 0;
    const char *p = query;
    while (*p) {
        const char *end = strchr(p, '&');
        if (!end)
            end = p + strlen(p);
        if (end > p) {
            const char *eq = memchr(p, '=', (size_t)(end - p));
            const char *name_end = eq ? eq : end;
            int rc =
                encode_component(&pairs[n].name, p, (size_t)(name_end - p));
            if (rc == 0 && eq)
                rc = encode_component(&pairs[n].value, eq + 1,
                                      (size_t)(end - eq - 1));
            else if (rc == 0)
                rc = fce_buf_reserve(&pairs[n].value, 1);
            n++;
            if (rc < 0) {
                *count = n;
                return rc;
            }
        }
        p = *end ? end + 1 : end;
    }
    *count = n;
    return 0;
}

static int canonical_query(struct fce_buf *out, const char *query)
{
    if (!query || !*query)
        return 0;

    size_t max = count_pairs(query);
    struct pair *pairs = calloc(max, sizeof(*pairs));
    size_t count = 0;
    if (!pairs)
        return -ENOMEM;

    int rc = parse_pairs(query, pairs, &count);
    if (rc == 0)
        qsort(pairs, count, sizeof(*pairs), pair_cmp);
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (i)
            rc = fce_buf_append(out, "&", 1);
        if (rc == 0)
            rc = fce_buf_append(out, pairs[i].name.data, pairs[i].name.len);
        if (rc == 0)
            rc = fce_buf_append(out, "=", 1);
        if (rc == 0)
            rc = fce_buf_append(out, pairs[i].value.data, pairs[i].value.len);
    }

    for (size_t i = 0; i < count; i++) {
        fce_buf_free(&pairs[i].name);
        fce_buf_free(&pairs[i].value);
    }
    free(pairs);
    return rc;
}

/* ---- canonical headers ---- */

struct canon_header {
    char *name; /* lower-cased copy */
    const char *value;
    size_t index; /* original position, to keep repeated values in order */
};

static int header_cmp(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

/* Appends value trimmed, with runs of blanks collapsed into one space. */
static int append_trimmed(struct fce_buf *out, const char *value)
{
    int rc = fce_buf_reserve(out, strlen(value));
    if (rc < 0)
        return rc;

    bool pending_space = false;
    bool any = false;
    for (const char *p = value; *p; p++) {
        if (*p == ' ' || *p == '\t') {
            pending_space = any;
            continue;
        }
        if (pending_space)
            out->data[out->len++] = ' ';
        out->data[out->len++] = *p;
        pending_space = false;
        any = true;
    }
    return 0;
}

static int lower_copy(const char *name, char **out)
{
    size_t len = strlen(name);
    if (len == 0 || strpbrk(name, "\r\n: \t"))
        return -EINVAL;
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i <= len; i++) {
        char c = name[i];
        copy[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    *out = copy;
    return 0;
}

static int write_headers(const struct canon_header *list, size_t count,
                         struct fce_buf *creq, struct fce_buf *signed_headers)
{
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        bool repeat = i > 0 && strcmp(list[i].name, list[i - 1].name) == 0;
        if (repeat) {
            /* Replace the previous line's newline with a comma. */
            creq->len--;
            rc = fce_buf_append(creq, ",", 1);
        } else {
            rc = fce_buf_append_str(creq, list[i].name);
            if (rc == 0)
                rc = fce_buf_append(creq, ":", 1);
            if (rc == 0 && signed_headers->len)
                rc = fce_buf_append(signed_headers, ";", 1);
            if (rc == 0)
                rc = fce_buf_append_str(signed_headers, list[i].name);
        }
        if (rc == 0)
            rc = append_trimmed(creq, list[i].value);
        if (rc == 0)
            rc = fce_buf_append(creq, "\n", 1);
    }
    return rc;
}

static int canonical_headers(const struct fce_sigv4_request *request,
                             struct fce_buf *creq,
                             struct fce_buf *signed_headers)
{
    size_t count = request->header_count;
    struct canon_header *list = calloc(count ? count : 1, sizeof(*list));
    int rc = list ? 0 : -ENOMEM;

    for (size_t i = 0; i < count && rc == 0; i++) {
        const struct fce_sigv4_header *h = &request->headers[i];
        if (!h->name || !h->value)
            rc = -EINVAL;
        else if (strpbrk(h->value, "\r\n"))
            rc = -EINVAL;
        else
            rc = lower_copy(h->name, &list[i].name);
        list[i].value = h->value;
        list[i].index = i;
    }
    if (rc == 0) {
        qsort(list, count, sizeof(*list), header_cmp);
        rc = write_headers(list, count, creq, signed_headers);
    }

    for (size_t i = 0; list && i < count; i++)
        free(list[i].name);
    free(list);
    return rc;
}

int fce_sigv4_canonical_request(const struct fce_sigv4_request *request,
                                struct fce_buf *creq,
                                struct fce_buf *signed_headers)
{
    size_t signed_start = signed_headers->len;
    int rc = fce_buf_append_str(creq, request->method);
    if (rc == 0)
        rc = fce_buf_append(creq, "\n", 1);
    if (rc == 0)
        rc = canonical_uri(creq, request->path);
    if (rc == 0)
        rc = fce_buf_append(creq, "\n", 1);
    if (rc == 0)
        rc = canonical_query(creq, request->query);
    if (rc == 0)
        rc = fce_buf_append(creq, "\n", 1);
    if (rc == 0)
        rc = canonical_headers(request, creq, signed_headers);
    if (rc == 0)
        rc = fce_buf_append(creq, "\n", 1);
    if (rc == 0)
        rc = fce_buf_append(creq, signed_headers->data + signed_start,
                            signed_headers->len - signed_start);
    if (rc == 0)
        rc = fce_buf_append(creq, "\n", 1);

    char hash[65];
    fce_sigv4_sha256_hex(request->body, request->body_len, hash);
    if (rc == 0)
        rc = fce_buf_append(creq, hash, 64);
    return rc;
}

static bool valid_date(const char *amz_date)
{
    if (!amz_date || strlen(amz_date) != FCE_SIGV4_DATE_LEN)
        return false;
    for (int i = 0; i < FCE_SIGV4_DATE_LEN; i++) {
        char c = amz_date[i];
        bool want_digit = i != 8 && i != 15;
        if (want_digit ? (c < '0' || c > '9') : (c != (i == 8 ? 'T' : 'Z')))
            return false;
    }
    return true;
}

static int append_scope(struct fce_buf *out,
                        const struct fce_sigv4_params *params)
{
    return fce_buf_printf(out, "%.8s/%s/%s/aws4_request", params->amz_date,
                          params->region, params->service);
}

int fce_sigv4_string_to_sign(const struct fce_sigv4_params *params,
                             const char *creq, size_t creq_len,
                             struct fce_buf *sts)
{
    if (!valid_date(params->amz_date) || !params->region || !params->service)
        return -EINVAL;

    char hash[65];
    fce_sigv4_sha256_hex(creq, creq_len, hash);
    int rc = fce_buf_printf(sts, "AWS4-HMAC-SHA256\n%s\n", params->amz_date);
    if (rc == 0)
        rc = append_scope(sts, params);
    if (rc == 0)
        rc = fce_buf_printf(sts, "\n%s", hash);
    return rc;
}

static void hmac(const uint8_t *key, size_t key_len, const void *data,
                 size_t len, uint8_t out[32])
{
    unsigned int out_len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len);
}

int fce_sigv4_signing_key(const struct fce_sigv4_params *params,
                          uint8_t key[32])
{
    if (!params->secret_access_key || !*params->secret_access_key ||
        !valid_date(params->amz_date) || !params->region || !params->service)
        return -EINVAL;

    size_t secret_len = strlen(params->secret_access_key);
    uint8_t *first = malloc(secret_len + 4);
    if (!first)
        return -ENOMEM;
    memcpy(first, "AWS4", 4);
    memcpy(first + 4, params->secret_access_key, secret_len);

    uint8_t k[32];
    hmac(first, secret_len + 4, params->amz_date, 8, k);
    OPENSSL_cleanse(first, secret_len + 4);
    free(first);
    hmac(k, 32, params->region, strlen(params->region), k);
    hmac(k, 32, params->service, strlen(params->service), k);
    hmac(k, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k, sizeof(k));
    return 0;
}

static int cached_key(const struct fce_sigv4_params *params,
                      struct fce_sigv4_key_cache *cache, uint8_t key[32])
{
    if (!cache)
        return fce_sigv4_signing_key(params, key);

    uint8_t secret_hash[32];
    char tail[sizeof(cache->scope_tail)];
    const char *secret =
        params->secret_access_key ? params->secret_access_key : "";
    SHA256((const unsigned char *)secret, strlen(secret), secret_hash);
    snprintf(tail, sizeof(tail), "%s/%s", params->region ? params->region : "",
             params->service ? params->service : "");

    if (cache->valid && params->amz_date &&
        strncmp(cache->date, params->amz_date, 8) == 0 &&
        memcmp(cache->secret_hash, secret_hash, 32) == 0 &&
        strcmp(cache->scope_tail, tail) == 0) {
        memcpy(key, cache->key, 32);
        return 0;
    }

    int rc = fce_sigv4_signing_key(params, key);
    if (rc < 0)
        return rc;
    memcpy(cache->key, key, 32);
    memcpy(cache->date, params->amz_date, 8);
    cache->date[8] = '\0';
    memcpy(cache->secret_hash, secret_hash, 32);
    snprintf(cache->scope_tail, sizeof(cache->scope_tail), "%s", tail);
    cache->valid = true;
    return 0;
}

int fce_sigv4_sign(const struct fce_sigv4_request *request,
                   const struct fce_sigv4_params *params,
                   struct fce_sigv4_key_cache *cache,
                   struct fce_buf *authorization, struct fce_buf *creq_out,
                   struct fce_buf *sts_out)
{
    struct fce_buf creq = FCE_BUF_INIT;
    struct fce_buf signed_headers = FCE_BUF_INIT;
    struct fce_buf sts = FCE_BUF_INIT;
    uint8_t key[32];
    uint8_t signature[32];
    char signature_hex[65];

    if (!params->access_key_id || !*params->access_key_id)
        return -EINVAL;
    int rc = fce_sigv4_canonical_request(request, &creq, &signed_headers);
    if (rc == 0)
        rc = fce_sigv4_string_to_sign(params, creq.data, creq.len, &sts);
    if (rc == 0)
        rc = cached_key(params, cache, key);
    if (rc < 0)
        goto cleanup;

    hmac(key, sizeof(key), sts.data, sts.len, signature);
    OPENSSL_cleanse(key, sizeof(key));
    to_hex(signature, sizeof(signature), signature_hex);

    rc = fce_buf_printf(authorization, "AWS4-HMAC-SHA256 Credential=%s/",
                        params->access_key_id);
    if (rc == 0)
        rc = append_scope(authorization, params);
    if (rc == 0)
        rc = fce_buf_printf(authorization, ", SignedHeaders=%.*s, Signature=%s",
                            (int)signed_headers.len, signed_headers.data,
                            signature_hex);
    if (rc == 0 && creq_out)
        rc = fce_buf_append(creq_out, creq.data, creq.len);
    if (rc == 0 && sts_out)
        rc = fce_buf_append(sts_out, sts.data, sts.len);

cleanup:
    fce_buf_free(&creq);
    fce_buf_free(&signed_headers);
    fce_buf_free(&sts);
    return rc;
}
