/*
 * Google auth: the JSON reader, base64url, JWT signatures, credential
 * files, and token fetches against the fake token and metadata servers
 * (tests/helpers/fake-gcp), which verify each JWT with the public key.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fake_gcp.h"
#include "gcp/fce_gcp_auth.h"
#include "gcp/fce_gcp_json.h"
#include "gcp/fce_gcp_key.h"

static struct fake_gcp fake;

/* ---- JSON ---- */

static void json_finds_nested_members(void **state)
{
    const char *doc = "{\"error\": {\"code\": 404, \"status\": \"NOT_FOUND\","
                      " \"details\": [1, {\"a\": null}]}, \"x\": true}";
    struct fce_gcp_json_value v;
    char text[32];
    assert_int_equal(fce_gcp_json_validate(doc, strlen(doc)), 0);
    assert_int_equal(fce_gcp_json_find(doc, strlen(doc), "error.status", &v),
                     0);
    assert_int_equal(fce_gcp_json_string(&v, text, sizeof(text)), 9);
    assert_string_equal(text, "NOT_FOUND");
    assert_int_equal(fce_gcp_json_find(doc, strlen(doc), "error.code", &v), 0);
    assert_int_equal(v.type, FCE_GCP_JSON_NUMBER);
    assert_int_equal(fce_gcp_json_find(doc, strlen(doc), "x", &v), 0);
    assert_int_equal(v.type, FCE_GCP_JSON_BOOL);
    assert_int_equal(fce_gcp_json_find(doc, strlen(doc), "error.nope", &v),
                     -ENOENT);
    assert_int_equal(fce_gcp_json_find(doc, strlen(doc), "x.y", &v), -ENOENT);
}

static void json_rejects_malformed_documents(void **state)
{
    static const char *const bad[] = {
        "",
        "{",
        "{\"a\":}",
        "{\"a\":1,}",
        "[1,2",
        "\"\\x\"",
        "01",
        "1.",
        "{\"a\" 1}",
        "nul",
        "{} x",
        "\"\x01\"",
        "\"\xc3\x28\"",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
        "[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(fce_gcp_json_validate(bad[i], strlen(bad[i])),
                         -EPROTO);
}

static void json_unescapes_strings(void **state)
{
    const char *doc = "{\"s\": \"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\\/\"}";
    struct fce_gcp_json_value v;
    char text[32];
    assert_int_equal(fce_gcp_json_find(doc, strlen(doc), "s", &v), 0);
    long n = fce_gcp_json_string(&v, text, sizeof(text));
    assert_int_equal(n, 13);
    assert_memory_equal(text, "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80/", 13);
    assert_int_equal(fce_gcp_json_string(&v, text, 4), -ERANGE);

    const char *nul = "\"a\\u0000b\"";
    assert_int_equal(fce_gcp_json_find(nul, strlen(nul), "", &v), 0);
    assert_int_equal(fce_gcp_json_string(&v, text, sizeof(text)), -EINVAL);
}

static void json_reads_numbers_and_arrays(void **state)
{
    const char *doc = "{\"a\": 3599, \"b\": \"120\", \"c\": -1, "
                      "\"ids\": [\"1\", \"2\", \"3\"], \"e\": []}";
    struct fce_gcp_json_value v;
    unsigned long long n;
    fce_gcp_json_find(doc, strlen(doc), "a", &v);
    assert_int_equal(fce_gcp_json_uint(&v, &n), 0);
    assert_int_equal(n, 3599);
    fce_gcp_json_find(doc, strlen(doc), "b", &v);
    assert_int_equal(fce_gcp_json_uint(&v, &n), 0);
    assert_int_equal(n, 120);
    fce_gcp_json_find(doc, strlen(doc), "c", &v);
    assert_int_equal(fce_gcp_json_uint(&v, &n), -EINVAL);
    fce_gcp_json_find(doc, strlen(doc), "ids", &v);
    assert_int_equal(fce_gcp_json_array_count(&v), 3);
    fce_gcp_json_find(doc, strlen(doc), "e", &v);
    assert_int_equal(fce_gcp_json_array_count(&v), 0);
}

static void json_writer_escapes_controls(void **state)
{
    struct fce_buf out = FCE_BUF_INIT;
    const char text[] = "q\"b\\n\n\x01\x7f\xc3\xa9";
    size_t len = sizeof(text) - 1;
    assert_int_equal(fce_gcp_json_append_string(&out, text, len), 0);
    const char *want = "\"q\\\"b\\\\n\\n\\u0001\\u007f\xc3\xa9\"";
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
    assert_int_equal(fce_gcp_json_string_size(text, len), strlen(want));
    assert_int_equal(fce_gcp_json_validate(out.data, out.len), 0);
    fce_buf_free(&out);
}

static void utf8_check_matches_rfc3629(void **state)
{
    assert_true(fce_gcp_utf8_valid("abc\xc3\xa9\xf0\x9f\x98\x80", 9));
    assert_false(fce_gcp_utf8_valid("\xc0\xaf", 2));     /* overlong */
    assert_false(fce_gcp_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(fce_gcp_utf8_valid("\xf4\x90\x80\x80", 4));
    assert_false(fce_gcp_utf8_valid("\xe2\x82", 2)); /* truncated */
}

/* ---- base64url and JWT ---- */

static void base64url_has_no_padding(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},        {"f", "Zg"},        {"fo", "Zm8"},
        {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"\xfb\xff", "-_8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fce_buf out = FCE_BUF_INIT;
        assert_int_equal(
            fce_gcp_base64url(cases[i].in, strlen(cases[i].in), &out), 0);
        assert_int_equal(out.len, strlen(cases[i].out));
        if (out.len)
            assert_memory_equal(out.data, cases[i].out, out.len);
        fce_buf_free(&out);
    }
}

/* Decodes base64url into out (NUL-terminated); returns the length. */
static size_t b64url_decode(const char *in, size_t len, unsigned char *out)
{
    char padded[4096] = "";
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        padded[n++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    while (n % 4)
        padded[n++] = '=';
    int got = EVP_DecodeBlock(out, (unsigned char *)padded, (int)n);
    assert_true(got >= 0);
    size_t pad = len % 4 == 2 ? 2 : len % 4 == 3 ? 1 : 0;
    out[got - (int)pad] = '\0';
    return (size_t)got - pad;
}

/* Verifies jwt's RS256 signature with the public PEM of the fake and
 * returns its claims JSON in claims. */
static void verify_jwt(const char *jwt, size_t len, char *claims)
{
    const char *dot1 = memchr(jwt, '.', len);
    assert_non_null(dot1);
    const char *dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt));
    assert_non_null(dot2);

    unsigned char header[512], sig[1024];
    b64url_decode(jwt, (size_t)(dot1 - jwt), header);
    assert_non_null(strstr((char *)header, "\"alg\":\"RS256\""));
    assert_non_null(strstr((char *)header, "\"kid\":\"" FAKE_GCP_KID "\""));
    b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), (unsigned char *)claims);
    size_t sig_len =
        b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - jwt), sig);

    FILE *f = fopen(fake.public_pem, "r");
    assert_non_null(f);
    EVP_PKEY *pub = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(pub);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub),
                     1);
    assert_int_equal(EVP_DigestVerify(md, sig, sig_len,
                                      (const unsigned char *)jwt,
                                      (size_t)(dot2 - jwt)),
                     1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pub);
}

static void key_file_loads_service_account(void **state)
{
    struct fce_gcp_key key = {0};
    char err[256];
    assert_int_equal(fce_gcp_key_load(fake.key_file, &key, err, sizeof(err)),
                     0);
    assert_int_equal(key.type, FCE_GCP_KEY_SERVICE_ACCOUNT);
    assert_string_equal(key.client_email, FAKE_GCP_EMAIL);
    assert_string_equal(key.private_key_id, FAKE_GCP_KID);
    assert_string_equal(key.project_id, "fce-test");
    assert_non_null(key.private_key);
    fce_gcp_key_clear(&key);
    assert_null(key.client_email);
}

static void grant_assertion_verifies(void **state)
{
    struct fce_gcp_key key = {0};
    char err[256], claims[2048];
    assert_int_equal(fce_gcp_key_load(fake.key_file, &key, err, sizeof(err)),
                     0);
    struct fce_buf jwt = FCE_BUF_INIT;
    assert_int_equal(fce_gcp_jwt_grant_assertion(&key, FCE_GCP_SCOPE_PUBSUB,
                                                 1700000000, 7200, &jwt),
                     0);
    verify_jwt(jwt.data, jwt.len, claims);
    assert_non_null(strstr(claims, "\"iss\":\"" FAKE_GCP_EMAIL "\""));
    assert_non_null(strstr(claims, "\"scope\":\"" FCE_GCP_SCOPE_PUBSUB "\""));
    assert_non_null(strstr(claims, "\"aud\":\"http://127.0.0.1:"));
    /* A lifetime above one hour is clamped to the hour. */
    assert_non_null(strstr(claims, "\"iat\":1700000000,\"exp\":1700003600"));
    fce_buf_free(&jwt);

    assert_int_equal(fce_gcp_jwt_self_signed(&key,
                                             "https://pubsub.googleapis"
                                             ".com/",
                                             1700000000, 600, &jwt),
                     0);
    verify_jwt(jwt.data, jwt.len, claims);
    assert_non_null(strstr(claims, "\"sub\":\"" FAKE_GCP_EMAIL "\""));
    assert_non_null(
        strstr(claims, "\"aud\":\"https://pubsub.googleapis.com/\""));
    assert_null(strstr(claims, "scope"));
    fce_buf_free(&jwt);
    fce_gcp_key_clear(&key);
}

static void key_parse_reports_problems(void **state)
{
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"[1]", "not a JSON object"},
        {"{\"type\": \"service_account\"", "not a JSON object"},
        {"{\"private_key\": \"x\"}", "type missing"},
        {"{\"type\": \"external_account\"}", "\"external_account\" is not "
                                             "supported"},
        {"{\"type\": \"service_account\", \"private_key\": \"x\"}",
         "client_email missing"},
        {"{\"type\": \"service_account\", \"client_email\": \"a@b\"}",
         "private_key missing"},
        {"{\"type\": \"service_account\", \"client_email\": \"a@b\", "
         "\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nAAAA\\n\"}",
         "not a PEM private key"},
        {"{\"type\": \"service_account\", \"client_email\": 5, "
         "\"private_key\": \"x\"}",
         "client_email is not a non-empty string"},
        {"{\"type\": \"authorized_user\", \"client_id\": \"c\"}",
         "client_secret missing"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fce_gcp_key key = {0};
        char err[256] = "";
        assert_int_equal(fce_gcp_key_parse(cases[i].json, strlen(cases[i].json),
                                           &key, err, sizeof(err)),
                         -EINVAL);
        if (!strstr(err, cases[i].message))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].message);
        assert_null(key.client_email);
    }
}

static void key_load_names_missing_file(void **state)
{
    struct fce_gcp_key key = {0};
    char err[256];
    assert_int_equal(
        fce_gcp_key_load("/nonexistent/key.json", &key, err, sizeof(err)),
        -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/key.json"));
}

/* ---- token sources against the fake servers ---- */

static struct fce_gcp_auth *open_auth(enum fce_gcp_auth_mode mode,
                                      const char *file)
{
    struct fce_gcp_auth_options options = {
        .mode = mode,
        .credentials_file = file,
        .audience = "https://pubsub.googleapis.com/",
    };
    struct fce_gcp_auth *auth = NULL;
    char err[256];
    int rc = fce_gcp_auth_open(&options, &auth, err, sizeof(err));
    if (rc < 0)
        fail_msg("auth open failed: %s", err);
    return auth;
}

static void grant_fetches_and_caches_token(void **state)
{
    long before = fake_gcp_stat(&fake, "tokens_issued");
    struct fce_gcp_auth *auth = open_auth(FCE_GCP_AUTH_AUTO, fake.key_file);
    assert_int_equal(fce_gcp_auth_source(auth), FCE_GCP_AUTH_JWT_GRANT);

    const char *header;
    uint64_t gen1, gen2;
    char err[256];
    assert_int_equal(
        fce_gcp_auth_header(auth, &header, &gen1, err, sizeof(err)), 0);
    assert_non_null(strstr(header, "Authorization: Bearer fake-token-"));
    assert_int_equal(
        fce_gcp_auth_header(auth, &header, &gen2, err, sizeof(err)), 0);
    assert_int_equal(gen1, gen2);
    assert_int_equal(fake_gcp_stat(&fake, "tokens_issued"), before + 1);

    /* A 401 with that token makes the next call fetch a new one, once. */
    fce_gcp_auth_invalidate(auth, gen1);
    assert_int_equal(
        fce_gcp_auth_header(auth, &header, &gen2, err, sizeof(err)), 0);
    assert_true(gen2 > gen1);
    fce_gcp_auth_invalidate(auth, gen1); /* stale: ignored */
    assert_int_equal(
        fce_gcp_auth_header(auth, &header, &gen1, err, sizeof(err)), 0);
    assert_int_equal(gen1, gen2);
    assert_int_equal(fake_gcp_stat(&fake, "tokens_issued"), before + 2);
    fce_gcp_auth_close(auth);
}

static void grant_with_wrong_key_fails(void **state)
{
    long before = fake_gcp_stat(&fake, "token_rejected");
    struct fce_gcp_auth *auth =
        open_auth(FCE_GCP_AUTH_JWT_GRANT, fake.other_key);
    const char *header;
    uint64_t gen;
    char err[256];
    assert_int_equal(fce_gcp_auth_header(auth, &header, &gen, err, sizeof(err)),
                     -EAGAIN);
    assert_null(header);
    assert_non_null(strstr(err, "HTTP 400 invalid_grant"));
    assert_int_equal(fake_gcp_stat(&fake, "token_rejected"), before + 1);

    /* The next call waits for the backoff instead of asking again. */
    assert_int_equal(fce_gcp_auth_header(auth, &header, &gen, err, sizeof(err)),
                     -EAGAIN);
    assert_int_equal(fake_gcp_stat(&fake, "token_rejected"), before + 1);
    struct fce_gcp_auth_stats stats;
    fce_gcp_auth_stats(auth, &stats);
    assert_int_equal(stats.failures, 1);
    fce_gcp_auth_close(auth);
}

static void env_variable_names_key_file(void **state)
{
    setenv("GOOGLE_APPLICATION_CREDENTIALS", fake.key_file, 1);
    struct fce_gcp_auth *auth = open_auth(FCE_GCP_AUTH_AUTO, NULL);
    unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
    assert_int_equal(fce_gcp_auth_source(auth), FCE_GCP_AUTH_JWT_GRANT);
    assert_non_null(strstr(fce_gcp_auth_describe(auth), FAKE_GCP_EMAIL));
    fce_gcp_auth_close(auth);

    struct fce_gcp_auth_options options = {.mode = FCE_GCP_AUTH_JWT_GRANT};
    char err[256];
    assert_int_equal(fce_gcp_auth_open(&options, &auth, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "GOOGLE_APPLICATION_CREDENTIALS"));
}

static void self_signed_needs_no_fetch(void **state)
{
    long before = fake_gcp_stat(&fake, "tokens_issued");
    struct fce_gcp_auth *auth =
        open_auth(FCE_GCP_AUTH_SELF_SIGNED, fake.key_file);
    const char *header;
    uint64_t gen;
    char err[256], claims[2048];
    assert_int_equal(fce_gcp_auth_header(auth, &header, &gen, err, sizeof(err)),
                     0);
    const char *jwt = header + strlen("Authorization: Bearer ");
    verify_jwt(jwt, strlen(jwt), claims);
    assert_non_null(
        strstr(claims, "\"aud\":\"https://pubsub.googleapis.com/\""));
    assert_int_equal(fake_gcp_stat(&fake, "tokens_issued"), before);
    fce_gcp_auth_close(auth);
}

static void metadata_server_gives_token(void **state)
{
    char host[64];
    snprintf(host, sizeof(host), "127.0.0.1:%d", fake.port);
    setenv("GCE_METADATA_HOST", host, 1);
    long before = fake_gcp_stat(&fake, "metadata_requests");
    struct fce_gcp_auth *auth = open_auth(FCE_GCP_AUTH_AUTO, NULL);
    unsetenv("GCE_METADATA_HOST");
    assert_int_equal(fce_gcp_auth_source(auth), FCE_GCP_AUTH_METADATA);
    assert_non_null(strstr(fce_gcp_auth_describe(auth), host));

    const char *header;
    uint64_t gen;
    char err[256];
    assert_int_equal(fce_gcp_auth_header(auth, &header, &gen, err, sizeof(err)),
                     0);
    assert_non_null(strstr(header, "Bearer fake-token-"));
    assert_int_equal(fake_gcp_stat(&fake, "metadata_requests"), before + 1);
    assert_int_equal(fake_gcp_stat(&fake, "metadata_rejected"), 0);
    fce_gcp_auth_close(auth);
}

static void authorized_user_refreshes(void **state)
{
    char path[160], json[512];
    snprintf(path, sizeof(path), "%s/user.json", fake.dir);
    snprintf(json, sizeof(json),
             "{\"type\": \"authorized_user\", \"client_id\": \"cid\", "
             "\"client_secret\": \"test-secret\", \"refresh_token\": "
             "\"test-refresh-token\", \"token_uri\": "
             "\"http://127.0.0.1:%d/token\"}",
             fake.port);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);

    struct fce_gcp_auth *auth = open_auth(FCE_GCP_AUTH_AUTO, path);
    const char *header;
    uint64_t gen;
    char err[256];
    assert_int_equal(fce_gcp_auth_header(auth, &header, &gen, err, sizeof(err)),
                     0);
    assert_non_null(strstr(header, "Bearer fake-token-"));
    fce_gcp_auth_close(auth);
    unlink(path);
}

/* A second fake whose tokens last 2 s: the cache must renew them. */
static void short_tokens_are_refreshed(void **state)
{
    struct fake_gcp short_fake;
    const char *const args[] = {"--token-lifetime", "2", NULL};
    assert_int_equal(fake_gcp_start(&short_fake, args), 0);

    struct fce_gcp_auth *auth =
        open_auth(FCE_GCP_AUTH_JWT_GRANT, short_fake.key_file);
    const char *header;
    uint64_t gen1, gen2;
    char err[256], first[128];
    assert_int_equal(
        fce_gcp_auth_header(auth, &header, &gen1, err, sizeof(err)), 0);
    snprintf(first, sizeof(first), "%s", header);
    /* Refresh falls due at 1.5 s (a quarter of the lifetime early). */
    usleep(1600 * 1000);
    assert_int_equal(
        fce_gcp_auth_header(auth, &header, &gen2, err, sizeof(err)), 0);
    assert_true(gen2 > gen1);
    assert_string_not_equal(first, header);
    assert_int_equal(fake_gcp_stat(&short_fake, "tokens_issued"), 2);
    fce_gcp_auth_close(auth);
    fake_gcp_stop(&short_fake);
}

static void metadata_without_flavor_is_refused(void **state)
{
    struct fake_gcp odd;
    const char *const args[] = {"--metadata-no-flavor", NULL};
    assert_int_equal(fake_gcp_start(&odd, args), 0);
    char host[64];
    snprintf(host, sizeof(host), "127.0.0.1:%d", odd.port);
    struct fce_gcp_auth_options options = {
        .mode = FCE_GCP_AUTH_METADATA,
        .metadata_host = host,
    };
    struct fce_gcp_auth *auth;
    char err[256];
    assert_int_equal(fce_gcp_auth_open(&options, &auth, err, sizeof(err)), 0);
    const char *header;
    uint64_t gen;
    assert_int_equal(fce_gcp_auth_header(auth, &header, &gen, err, sizeof(err)),
                     -EAGAIN);
    assert_non_null(strstr(err, "Metadata-Flavor"));
    fce_gcp_auth_close(auth);
    fake_gcp_stop(&odd);
}

static int start_fake(void **state)
{
    return fake_gcp_start(&fake, NULL);
}

static int stop_fake(void **state)
{
    fake_gcp_stop(&fake);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_finds_nested_members),
        cmocka_unit_test(json_rejects_malformed_documents),
        cmocka_unit_test(json_unescapes_strings),
        cmocka_unit_test(json_reads_numbers_and_arrays),
        cmocka_unit_test(json_writer_escapes_controls),
        cmocka_unit_test(utf8_check_matches_rfc3629),
        cmocka_unit_test(base64url_has_no_padding),
        cmocka_unit_test(key_file_loads_service_account),
        cmocka_unit_test(grant_assertion_verifies),
        cmocka_unit_test(key_parse_reports_problems),
        cmocka_unit_test(key_load_names_missing_file),
        cmocka_unit_test(grant_fetches_and_caches_token),
        cmocka_unit_test(grant_with_wrong_key_fails),
        cmocka_unit_test(env_variable_names_key_file),
        cmocka_unit_test(self_signed_needs_no_fetch),
        cmocka_unit_test(metadata_server_gives_token),
        cmocka_unit_test(authorized_user_refreshes),
        cmocka_unit_test(short_tokens_are_refreshed),
        cmocka_unit_test(metadata_without_flavor_is_refused),
    };
    return cmocka_run_group_tests(tests, start_fake, stop_fake);
}
