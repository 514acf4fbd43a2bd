/*
 * SigV4 against the AWS Signature Version 4 test suite: for every case
 * folder in tests/data/sigv4 with a <case>.req, parse the raw request,
 * sign it, and compare the canonical request (.creq), the string to sign
 * (.sts) and the Authorization value (.authz) byte for byte.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fce_buf.h"
#include "aws/fce_sigv4.h"

#define MAX_CASES 64
#define SNS_EXPECTED_AUTHZ                                                     \
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261204/us-east-1/sns/"          \
    "aws4_request, SignedHeaders=content-type;host;x-amz-date, "               \
    "Signature="                                                               \
    "e93ac89d24296c832e1422adba9e511cd792d55d71e7e81977b56b63365f4724"
#define MAX_HEADERS 32

static const struct fce_sigv4_params suite_params = {
    .access_key_id = "AKIDEXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "service",
    .amz_date = "20150830T123600Z",
};

struct parsed_request {
    char method[16];
    char *path;
    char *query;
    struct fce_sigv4_header headers[MAX_HEADERS];
    char *names[MAX_HEADERS];
    char *values[MAX_HEADERS];
    size_t header_count;
    const char *body;
    size_t body_len;
};

struct suite_case {
    char dir[1024];
    char name[256];
};

static struct suite_case cases[MAX_CASES];
static size_t case_count;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct fce_buf buf = FCE_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(fce_buf_append(&buf, chunk, n), 0);
    fclose(f);
    assert_int_equal(fce_buf_append(&buf, "", 1), 0);
    if (len)
        *len = buf.len - 1;
    return buf.data;
}

static char *case_file(const struct suite_case *c, const char *ext, size_t *len)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s.%s", c->dir, c->name, ext);
    char *text = read_file(path, len);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

/* Appends a folded continuation line to the last header value. */
static void fold_into_last(struct parsed_request *r, const char *line)
{
    assert_true(r->header_count > 0);
    size_t i = r->header_count - 1;
    size_t old = strlen(r->values[i]);
    char *joined = malloc(old + strlen(line) + 2);
    assert_non_null(joined);
    sprintf(joined, "%s %s", r->values[i], line);
    free(r->values[i]);
    r->values[i] = joined;
}

static void parse_request_line(struct parsed_request *r, char *line)
{
    char *space = strchr(line, ' ');
    char *version = strstr(line, " HTTP/");
    assert_non_null(space);
    assert_non_null(version);
    snprintf(r->method, sizeof(r->method), "%.*s", (int)(space - line), line);

    /* The target runs to the last " HTTP/": it may contain spaces. */
    char *target = strndup(space + 1, (size_t)(version - space - 1));
    assert_non_null(target);
    char *q = strchr(target, '?');
    if (q) {
        *q = '\0';
        r->query = strdup(q + 1);
    }
    r->path = target;
}

/* Parses a raw HTTP/1.1 request of the suite (LF line ends, folded header
 * lines start with blanks, a blank line before the body). */
static void parse_request(char *text, size_t len, struct parsed_request *r)
{
    memset(r, 0, sizeof(*r));
    char *body = strstr(text, "\n\n");
    if (body) {
        *body = '\0';
        r->body = body + 2;
        r->body_len = len - (size_t)(r->body - text);
    }

    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    assert_non_null(line);
    parse_request_line(r, line);

    while ((line = strtok_r(NULL, "\n", &save))) {
        if (line[0] == ' ' || line[0] == '\t') {
            fold_into_last(r, line);
            continue;
        }
        char *colon = strchr(line, ':');
        assert_non_null(colon);
        assert_true(r->header_count < MAX_HEADERS);
        r->names[r->header_count] = strndup(line, (size_t)(colon - line));
        r->values[r->header_count] = strdup(colon + 1);
        r->header_count++;
    }
}

static void free_request(struct parsed_request *r)
{
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->path);
    free(r->query);
}

/* The session-token case carries its token only in the .creq. */
static char *token_from_creq(const char *creq)
{
    const char *line = strstr(creq, "x-amz-security-token:");
    if (!line)
        return NULL;
    line += strlen("x-amz-security-token:");
    return strndup(line, strcspn(line, "\n"));
}

static bool has_header(const struct parsed_request *r, const char *name)
{
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(r->names[i], name) == 0)
            return true;
    return false;
}

static void run_case(void **state)
{
    const struct suite_case *c = *state;
    size_t req_len = 0;
    char *req_text = case_file(c, "req", &req_len);
    char *want_creq = case_file(c, "creq", NULL);
    char *want_sts = case_file(c, "sts", NULL);
    char *want_authz = case_file(c, "authz", NULL);
    struct parsed_request r;
    parse_request(req_text, req_len, &r);

    char *token = token_from_creq(want_creq);
    if (token && !has_header(&r, "x-amz-security-token")) {
        r.names[r.header_count] = strdup("X-Amz-Security-Token");
        r.values[r.header_count] = token;
        r.header_count++;
        token = NULL;
    }
    free(token);
    for (size_t i = 0; i < r.header_count; i++)
        r.headers[i] = (struct fce_sigv4_header){r.names[i], r.values[i]};

    struct fce_sigv4_request request = {
        .method = r.method,
        .path = r.path,
        .query = r.query,
        .headers = r.headers,
        .header_count = r.header_count,
        .body = r.body,
        .body_len = r.body_len,
    };
    struct fce_buf authz = FCE_BUF_INIT, creq = FCE_BUF_INIT,
                   sts = FCE_BUF_INIT;
    assert_int_equal(
        fce_sigv4_sign(&request, &suite_params, NULL, &authz, &creq, &sts), 0);
    assert_int_equal(fce_buf_append(&creq, "", 1), 0);
    assert_int_equal(fce_buf_append(&sts, "", 1), 0);
    assert_int_equal(fce_buf_append(&authz, "", 1), 0);

    assert_string_equal(creq.data, want_creq);
    assert_string_equal(sts.data, want_sts);
    assert_string_equal(authz.data, want_authz);

    fce_buf_free(&authz);
    fce_buf_free(&creq);
    fce_buf_free(&sts);
    free_request(&r);
    free(req_text);
    free(want_creq);
    free(want_sts);
    free(want_authz);
}

static void find_cases(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[768];
        snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(sub, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;

        char req[1100];
        snprintf(req, sizeof(req), "%s/%s.req", sub, e->d_name);
        if (access(req, R_OK) == 0 && case_count < MAX_CASES) {
            struct suite_case *c = &cases[case_count++];
            snprintf(c->dir, sizeof(c->dir), "%s", sub);
            snprintf(c->name, sizeof(c->name), "%s", e->d_name);
        }
        find_cases(sub, e->d_name);
    }
    (void)prefix;
    closedir(d);
}

static int case_order(const void *a, const void *b)
{
    const struct suite_case *x = a, *y = b;
    return strcmp(x->dir, y->dir);
}

/* ---- requests shaped like ours ---- */

/*
 * An SNS Publish body with '+', '=', ':' and a space, signed with fixed
 * credentials. The expected Authorization value was computed with
 * botocore 1.43.11 (SigV4Auth, service sns) as an independent signer.
 */
static void sns_form_body(void **state)
{
    const char *body =
        "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3A"
        "us-east-1%3A123456789012%3At&Message=a%2Bb%3Dc%20d";
    struct fce_sigv4_header headers[] = {
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
        {"Host", "sns.us-east-1.amazonaws.com"},
        {"X-Amz-Date", "20261204T072143Z"},
    };
    struct fce_sigv4_request request = {
        .method = "POST",
        .path = "/",
        .headers = headers,
        .header_count = 3,
        .body = body,
        .body_len = strlen(body),
    };
    struct fce_sigv4_params params = {
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .region = "us-east-1",
        .service = "sns",
        .amz_date = "20261204T072143Z",
    };
    struct fce_sigv4_key_cache cache = {0};
    struct fce_buf first = FCE_BUF_INIT, second = FCE_BUF_INIT;

    assert_int_equal(
        fce_sigv4_sign(&request, &params, &cache, &first, NULL, NULL), 0);
    assert_int_equal(
        fce_sigv4_sign(&request, &params, &cache, &second, NULL, NULL), 0);
    assert_int_equal(fce_buf_append(&first, "", 1), 0);
    assert_int_equal(fce_buf_append(&second, "", 1), 0);
    assert_string_equal(first.data, SNS_EXPECTED_AUTHZ);
    assert_string_equal(second.data, first.data);
    fce_buf_free(&first);
    fce_buf_free(&second);
    (void)state;
}

static void uri_encode_strict(void **state)
{
    struct fce_buf out = FCE_BUF_INIT;
    const char *text = "a+b=c d/~é";
    assert_int_equal(fce_sigv4_uri_encode(&out, text, strlen(text), false), 0);
    assert_int_equal(fce_buf_append(&out, "", 1), 0);
    assert_string_equal(out.data, "a%2Bb%3Dc%20d%2F~%C3%A9");
    fce_buf_free(&out);
    (void)state;
}

static void bad_input_rejected(void **state)
{
    struct fce_sigv4_header headers[] = {{"Bad\nName", "x"}};
    struct fce_sigv4_request request = {
        .method = "GET", .headers = headers, .header_count = 1};
    struct fce_buf authz = FCE_BUF_INIT;
    struct fce_sigv4_params params = suite_params;

    assert_int_equal(
        fce_sigv4_sign(&request, &params, NULL, &authz, NULL, NULL), -EINVAL);
    headers[0] = (struct fce_sigv4_header){"Host", "a\r\nb"};
    assert_int_equal(
        fce_sigv4_sign(&request, &params, NULL, &authz, NULL, NULL), -EINVAL);
    headers[0] = (struct fce_sigv4_header){"Host", "example.com"};
    params.amz_date = "2015-08-30";
    assert_int_equal(
        fce_sigv4_sign(&request, &params, NULL, &authz, NULL, NULL), -EINVAL);
    params = suite_params;
    params.secret_access_key = "";
    assert_int_equal(
        fce_sigv4_sign(&request, &params, NULL, &authz, NULL, NULL), -EINVAL);
    fce_buf_free(&authz);
    (void)state;
}

int main(void)
{
    const char *top = getenv("FCE_TOP");
    char root[512];
    snprintf(root, sizeof(root), "%s/tests/data/sigv4", top ? top : ".");
    find_cases(root, "");
    qsort(cases, case_count, sizeof(cases[0]), case_order);
    if (case_count != 34) {
        fprintf(stderr, "expected 34 suite cases in %s, found %zu\n", root,
                case_count);
        return 1;
    }

    struct CMUnitTest tests[MAX_CASES + 3];
    size_t n = 0;
    for (size_t i = 0; i < case_count; i++)
        tests[n++] = (struct CMUnitTest){
            .name = cases[i].name,
            .test_func = run_case,
            .initial_state = &cases[i],
        };
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(sns_form_body);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(uri_encode_strict);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(bad_input_rejected);
    return _cmocka_run_group_tests("sigv4", tests, n, NULL, NULL);
}
