/*
 * The HTTP side of ingest without sockets: the head parser, and requests
 * fed into a connection (conn_input) that commits to a real ring in a
 * temporary folder. Corpus files come from tests/data/corpus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fce_event.h"
#include "fce_ring.h"
#include "http.h"
#include "ingest.h"

/* ---- the parser ---- */

static int parse(const char *text, struct fce_http_head *head,
                 struct fce_http_head_error *error)
{
    size_t scan = 0;
    size_t len = fce_http_head_end(text, strlen(text), &scan);
    if (len == 0)
        return -EAGAIN;
    return fce_http_head_parse(text, len, head, error);
}

static void test_parse_post(void **state)
{
    struct fce_http_head head;
    struct fce_http_head_error error;
    const char *text = "POST /api/v1/events/nodes?x=1 HTTP/1.1\r\n"
                       "Host: a\r\nContent-Type: application/x-protobuf; "
                       "charset=binary\r\nContent-Length: 12\r\n"
                       "Expect: 100-continue\r\n\r\n";
    assert_int_equal(parse(text, &head, &error), 0);
    assert_int_equal(head.method, FCE_HTTP_POST);
    assert_int_equal(head.path_len, strlen("/api/v1/events/nodes"));
    assert_memory_equal(head.path, "/api/v1/events/nodes", head.path_len);
    assert_true(head.has_content_length);
    assert_int_equal(head.content_length, 12);
    assert_int_equal(head.content_type_len, strlen("application/x-protobuf"));
    assert_true(head.keep_alive);
    assert_true(head.expect_continue);
    assert_int_equal(head.head_len, strlen(text));
}

static void test_parse_expect(void **state)
{
    struct fce_http_head head;
    struct fce_http_head_error error;
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
                           "Expect: 100-Continue\r\n\r\n",
                           &head, &error),
                     0);
    assert_true(head.expect_continue);

    /* HTTP/1.0 clients do not wait for 100 Continue. */
    assert_int_equal(
        parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &head, &error),
        0);
    assert_false(head.expect_continue);

    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
                           "Expect: 200-ok\r\n\r\n",
                           &head, &error),
                     -EINVAL);
    assert_int_equal(error.status, 417);
    assert_string_equal(error.reason, "expectation_failed");
    assert_non_null(strstr(error.message, "'200-ok'"));

    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
                           "Expect: 100-continue, x\r\n\r\n",
                           &head, &error),
                     -EINVAL);
    assert_int_equal(error.status, 417);
}

static void test_parse_versions(void **state)
{
    static const char *const rejected[] = {"HTTP/1.2", "HTTP/1.9", "HTTP/2.0",
                                           "HTTP/0.9"};
    struct fce_http_head head;
    struct fce_http_head_error error;
    char text[64];
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
        snprintf(text, sizeof(text), "GET / %s\r\nHost: a\r\n\r\n",
                 rejected[i]);
        assert_int_equal(parse(text, &head, &error), -EINVAL);
        assert_int_equal(error.status, 505);
    }
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &head, &error), 0);
    assert_int_equal(head.version_minor, 0);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &head, &error),
                     0);
    assert_int_equal(head.version_minor, 1);
}

static void test_parse_connection(void **state)
{
    struct fce_http_head head;
    struct fce_http_head_error error;
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &head, &error), 0);
    assert_false(head.keep_alive);
    assert_int_equal(
        parse("GET / HTTP/1.0\nConnection: Keep-Alive\n\n", &head, &error), 0);
    assert_true(head.keep_alive);
    assert_int_equal(
        parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &head,
              &error),
        0);
    assert_false(head.keep_alive);
}

static void test_parse_absolute_form(void **state)
{
    struct fce_http_head head;
    struct fce_http_head_error error;
    assert_int_equal(parse("GET http://h:1/healthz HTTP/1.1\r\nHost: h\r\n\r\n",
                           &head, &error),
                     0);
    assert_int_equal(head.path_len, 8);
    assert_memory_equal(head.path, "/healthz", 8);
}

static void test_head_end_byte_by_byte(void **state)
{
    const char *text = "GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT";
    size_t total = strlen(text) - 4, scan = 0;
    for (size_t len = 1; len < total; len++)
        assert_int_equal(fce_http_head_end(text, len, &scan), 0);
    assert_int_equal(fce_http_head_end(text, total, &scan), total);
    scan = 0;
    assert_int_equal(fce_http_head_end("A\n\nB", 4, &scan), 3);
}

static void test_parse_rejects(void **state)
{
    static const struct {
        const char *head;
        int status;
    } cases[] = {
        {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", 400},
        {"GET /\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},
        {"GET foo HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nName : x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n folded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\n"
         "Content-Length: 99999999999999999999\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
         "Content-Length: 6\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
         "Transfer-Encoding: chunked\r\n\r\n",
         400},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fce_http_head head;
        struct fce_http_head_error error = {0};
        int rc = parse(cases[i].head, &head, &error);
        if (rc != -EINVAL || error.status != cases[i].status)
            fail_msg("case %zu (%s): rc %d status %d, expected status %d", i,
                     cases[i].head, rc, error.status, cases[i].status);
        assert_true(error.message[0] != '\0');
    }
}

static void test_parse_same_length_twice(void **state)
{
    struct fce_http_head head;
    struct fce_http_head_error error;
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                           "content-length: 5\r\n\r\n",
                           &head, &error),
                     0);
    assert_int_equal(head.content_length, 5);
}

static void test_parse_too_many_headers(void **state)
{
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < FCE_HTTP_MAX_HEADERS + 1; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "X%d: y\r\n", i);
    snprintf(text + n, sizeof(text) - n, "Host: a\r\n\r\n");
    struct fce_http_head head;
    struct fce_http_head_error error;
    assert_int_equal(parse(text, &head, &error), -EINVAL);
    assert_int_equal(error.status, 431);
}

static void test_check_prefix(void **state)
{
    struct fce_http_head_error error;
    assert_int_equal(fce_http_head_check("\x16\x03\x01", 3, &error), -EINVAL);
    assert_int_equal(error.status, 400);
    assert_int_equal(fce_http_head_check("PO", 2, &error), 0);
}

/* ---- requests through a connection ---- */

struct fixture {
    char dir[64];
    char ring_path[128];
    struct ingest ingest;
    struct fce_ring *consumer;
};

static struct fixture *setup_ring(uint64_t capacity, uint32_t max_record)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[256];
    snprintf(f->dir, sizeof(f->dir), "/tmp/fce-unit-http.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->ring_path, sizeof(f->ring_path), "%s/ingest.ring", f->dir);
    assert_int_equal(
        fce_ring_create(f->ring_path, capacity, max_record, err, sizeof(err)),
        0);
    assert_int_equal(
        fce_ring_attach(f->ring_path, &f->consumer, err, sizeof(err)), 0);

    struct ingest *ingest = &f->ingest;
    ingest->limits = (struct ingest_limits){
        .max_connections = 100,
        .max_header_bytes = 4096,
        .max_body_bytes = 64 * 1024,
        .idle_timeout_ms = 5000,
        .request_timeout_ms = 2000,
    };
    ingest->ring_path = f->ring_path;
    ingest->ring_directory = f->dir;
    ingest->stats_directory = f->dir;
    ingest_try_attach(ingest, 0);
    assert_non_null(ingest->ring);
    return f;
}

static int setup(void **state)
{
    *state = setup_ring(1 << 20, 128 * 1024);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    while (f->ingest.conns)
        conn_free(f->ingest.conns);
    fce_ring_detach(f->consumer);
    fce_ring_detach(f->ingest.ring);
    unlink(f->ring_path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Reads a corpus file into a malloc'd buffer. */
static uint8_t *corpus(const char *name, size_t *len)
{
    char path[512];
    const char *top = getenv("FCE_TOP");
    snprintf(path, sizeof(path), "%s/tests/data/corpus/%s", top ? top : ".",
             name);
    FILE *file = fopen(path, "rb");
    if (!file)
        fail_msg("cannot open %s", path);
    uint8_t *data = malloc(1 << 20);
    *len = fread(data, 1, 1 << 20, file);
    fclose(file);
    return data;
}

/* Appends a POST of a corpus file to buf. */
static void append_post(struct fce_buf *buf, const char *path, const char *file,
                        const char *type)
{
    size_t len;
    uint8_t *body = corpus(file, &len);
    fce_buf_printf(buf,
                   "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\n"
                   "Content-Length: %zu\r\n\r\n",
                   path, type, len);
    fce_buf_append(buf, body, len);
    free(body);
}

/* Takes all pending output of a connection as a NUL-terminated string. */
static char *take_output(struct conn *conn)
{
    const char *data;
    size_t len = conn_output(conn, &data);
    char *text = malloc(len + 1);
    if (len)
        memcpy(text, data, len);
    text[len] = '\0';
    conn_output_done(conn, len, 0);
    return text;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Reads and releases every record; returns how many there were. */
static size_t drain_ring(struct fixture *f, uint32_t *kinds, size_t max)
{
    struct fce_ring_record record;
    size_t n = 0;
    while (fce_ring_read(f->consumer, &record) == 0) {
        if (kinds && n < max)
            kinds[n] = record.kind;
        fce_ring_release(f->consumer, record.end);
        n++;
    }
    return n;
}

static void test_pipelined_kinds(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    append_post(&buf, "/api/v1/events/workflows",
                "valid/001-workflow-running.pb", "application/x-protobuf");
    append_post(&buf, "/api/v1/events/nodes", "valid/002-node-start.pb",
                "application/protobuf");
    append_post(&buf, "/api/v1/events/tasks", "valid/005-task-queued.pb",
                "application/octet-stream");

    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, buf.data, buf.len, 0);
    char *out = take_output(conn);
    assert_int_equal(count_of(out, "HTTP/1.1 200 OK\r\n"), 3);
    assert_int_equal(count_of(out, "\r\n\r\n{}"), 3);

    uint32_t kinds[4];
    assert_int_equal(drain_ring(f, kinds, 4), 3);
    assert_int_equal(kinds[0], FCE_KIND_WORKFLOW);
    assert_int_equal(kinds[1], FCE_KIND_NODE);
    assert_int_equal(kinds[2], FCE_KIND_TASK);
    assert_false(conn_finished(conn));
    free(out);
    fce_buf_free(&buf);
}

static void test_record_holds_request(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    append_post(&buf, "/api/v1/events/nodes", "valid/049-node-unicode.pb",
                "application/x-protobuf");
    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, buf.data, buf.len, 0);
    free(take_output(conn));

    size_t len;
    uint8_t *body = corpus("valid/049-node-unicode.pb", &len);
    struct fce_ring_record record;
    struct fce_event_view view;
    assert_int_equal(fce_ring_read(f->consumer, &record), 0);
    assert_int_equal(
        fce_event_record_read(record.data, record.len, FCE_KIND_NODE, &view),
        0);
    assert_int_equal(view.data_len, len);
    assert_memory_equal(view.data, body, len);
    free(body);
    fce_buf_free(&buf);
}

static void test_split_at_every_byte(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    append_post(&buf, "/api/v1/events/tasks", "valid/007-task-running-logs.pb",
                "application/x-protobuf");
    for (size_t split = 1; split < buf.len; split++) {
        struct conn *conn = conn_new(&f->ingest, -1, 0);
        conn_input(conn, buf.data, split, 0);
        conn_input(conn, buf.data + split, buf.len - split, 0);
        char *out = take_output(conn);
        if (count_of(out, "HTTP/1.1 200 OK") != 1)
            fail_msg("split at %zu: %s", split, out);
        free(out);
        conn_free(conn);
        assert_int_equal(drain_ring(f, NULL, 0), 1);
    }
    fce_buf_free(&buf);
}

static void test_byte_by_byte_pipeline(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    append_post(&buf, "/api/v1/events/nodes", "valid/003-node-queued.pb",
                "application/x-protobuf");
    fce_buf_append_str(&buf, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    append_post(&buf, "/api/v1/events/nodes", "valid/004-node-running.pb",
                "application/x-protobuf");

    struct conn *conn = conn_new(&f->ingest, -1, 0);
    for (size_t i = 0; i < buf.len; i++)
        conn_input(conn, buf.data + i, 1, 0);
    char *out = take_output(conn);
    assert_int_equal(count_of(out, "HTTP/1.1 200 OK"), 3);
    assert_non_null(strstr(out, "{\"status\":\"ok\"}"));
    assert_int_equal(drain_ring(f, NULL, 0), 2);
    free(out);
    fce_buf_free(&buf);
}

static void test_invalid_corpus_rejected(void **state)
{
    static const char *const files[] = {
        "invalid/001-workflow-truncated.pb",
        "invalid/002-workflow-empty.pb",
        "invalid/003-workflow-no-execution-id.pb",
        "invalid/004-workflow-bad-wire-type.pb",
        "invalid/005-node-length-overflow.pb",
        "invalid/006-node-bad-utf8.pb",
        "invalid/007-workflow-nanos-out-of-range.pb",
        "invalid/008-task-varint-11-bytes.pb",
    };
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const char *path = strstr(files[i], "workflow") ? "workflows"
                           : strstr(files[i], "node")   ? "nodes"
                                                        : "tasks";
        char route[64];
        snprintf(route, sizeof(route), "/api/v1/events/%s", path);
        struct fce_buf buf = FCE_BUF_INIT;
        append_post(&buf, route, files[i], "application/x-protobuf");
        struct conn *conn = conn_new(&f->ingest, -1, 0);
        conn_input(conn, buf.data, buf.len, 0);
        char *out = take_output(conn);
        if (!strstr(out, "HTTP/1.1 400 Bad Request"))
            fail_msg("%s: %s", files[i], out);
        assert_non_null(strstr(out, "\"message\":\""));
        assert_false(conn_finished(conn)); /* keep-alive continues */
        free(out);
        fce_buf_free(&buf);
    }
    assert_int_equal(drain_ring(f, NULL, 0), 0);
    assert_int_equal(f->ingest.metrics.rejections[REASON_invalid_event], 8);
}

/* Sends one raw request on a new connection and returns the output. */
static char *exchange(struct fixture *f, const char *request, size_t len,
                      struct conn **conn_out)
{
    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, request, len ? len : strlen(request), 0);
    if (conn_out)
        *conn_out = conn;
    return take_output(conn);
}

static void test_error_table(void **state)
{
    static const struct {
        const char *request;
        const char *status;
        const char *contains;
        bool closes;
    } cases[] = {
        {"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
         "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
         "415", "JSON bodies are not accepted yet", false},
        {"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
         "Content-Length: 2\r\n\r\nxx",
         "415", "Content-Type missing", false},
        {"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
         "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nxx",
         "415", "unsupported Content-Type", false},
        {"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
         "Content-Type: application/x-protobuf\r\n\r\n",
         "411", "Content-Length missing", true},
        {"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
         "Content-Type: application/x-protobuf\r\n"
         "Content-Length: 999999\r\n\r\n",
         "413", "exceeds the limit of 65536 bytes", true},
        {"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
         "Transfer-Encoding: chunked\r\n\r\n",
         "501", "chunked", true},
        {"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
         "Content-Length: 1x\r\n\r\n",
         "400", "Content-Length", true},
        {"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", "404", "no resource", false},
        {"GET /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n\r\n", "405",
         "Allow: POST\r\n", false},
        {"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
         "405", "Allow: GET, HEAD\r\n", false},
        {"BREW /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n\r\n", "501",
         "method BREW is not implemented", false},
        {"GET / HTTP/3.0\r\nHost: t\r\n\r\n", "505", "HTTP/1.0", true},
        {"POST /api/v1/events/nodes HTTP/1.2\r\nHost: t\r\n"
         "Content-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n",
         "505", "HTTP/1.0 and HTTP/1.1", true},
        {"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
         "Content-Type: application/x-protobuf\r\nExpect: 200-ok\r\n"
         "Content-Length: 2\r\n\r\nxx",
         "417", "unsupported expectation '200-ok'", true},
        {"GET  / HTTP/1.1\r\nHost: t\r\n\r\n", "400", "request line", true},
        {"\x16\x03\x01\x02\x00", "400", "method must be a token", true},
    };
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conn *conn;
        char *out = exchange(f, cases[i].request, 0, &conn);
        char status[32];
        snprintf(status, sizeof(status), "HTTP/1.1 %s ", cases[i].status);
        if (strncmp(out, status, strlen(status)) != 0 ||
            !strstr(out, cases[i].contains))
            fail_msg("case %zu: expected %s with '%s', got: %s", i,
                     cases[i].status, cases[i].contains, out);
        assert_int_equal(strstr(out, "Connection: close") != NULL,
                         cases[i].closes);
        assert_int_equal(conn->close_after_flush, cases[i].closes);
        free(out);
        conn_free(conn);
    }
    assert_int_equal(drain_ring(f, NULL, 0), 0);
}

static void test_keep_alive_after_415(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append_str(&buf, "POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 9\r\n\r\n{\"a\":\"b\"}");
    append_post(&buf, "/api/v1/events/nodes", "valid/002-node-start.pb",
                "application/x-protobuf");
    char *out = exchange(f, buf.data, buf.len, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 415 "));
    assert_non_null(strstr(out, "HTTP/1.1 200 OK"));
    assert_true(strstr(out, "415") < strstr(out, "200 OK"));
    assert_int_equal(drain_ring(f, NULL, 0), 1);
    free(out);
    fce_buf_free(&buf);
}

static void test_header_limit(void **state)
{
    struct fixture *f = *state;
    char request[8192];
    memset(request, 'a', sizeof(request));
    memcpy(request, "GET /healthz HTTP/1.1\r\nX: ", 26);
    struct conn *conn;
    char *out = exchange(f, request, sizeof(request), &conn);
    assert_non_null(strstr(out, "HTTP/1.1 431 "));
    assert_non_null(strstr(out, "maxHeaderBytes"));
    assert_true(conn->close_after_flush);
    free(out);
}

static void test_expect_continue(void **state)
{
    struct fixture *f = *state;
    size_t len;
    uint8_t *body = corpus("valid/002-node-start.pb", &len);
    char head[256];
    snprintf(head, sizeof(head),
             "POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
             "Content-Type: application/x-protobuf\r\n"
             "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
             len);
    struct conn *conn;
    char *out = exchange(f, head, 0, &conn);
    assert_string_equal(out, "HTTP/1.1 100 Continue\r\n\r\n");
    free(out);
    conn_input(conn, (const char *)body, len, 0);
    out = take_output(conn);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK"));
    free(out);
    free(body);
}

static void test_ring_full_503(void **state)
{
    struct fixture *f = setup_ring(4096, 1024);
    struct fce_buf buf = FCE_BUF_INIT;
    append_post(&buf, "/api/v1/events/nodes", "valid/002-node-start.pb",
                "application/x-protobuf");
    struct conn *conn = conn_new(&f->ingest, -1, 0);
    size_t ok = 0, busy = 0;
    for (int i = 0; i < 40; i++) {
        conn_input(conn, buf.data, buf.len, 0);
        char *out = take_output(conn);
        if (strstr(out, "HTTP/1.1 200 OK"))
            ok++;
        else if (strstr(out, "HTTP/1.1 503 ") && strstr(out, "Retry-After: 1"))
            busy++;
        else
            fail_msg("unexpected response: %s", out);
        free(out);
    }
    assert_true(ok > 0);
    assert_true(busy > 0);
    /* Every acknowledged request is in the ring, and nothing else. */
    assert_int_equal(drain_ring(f, NULL, 0), ok);
    conn_input(conn, buf.data, buf.len, 0);
    char *out = take_output(conn);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK"));
    free(out);
    fce_buf_free(&buf);
    *state = f;
    teardown(state);
}

static void test_request_timeout(void **state)
{
    struct fixture *f = *state;
    struct conn *conn = conn_new(&f->ingest, -1, 1000);
    conn_input(conn, "POST /api/v1/events/nodes HTTP/1.1\r\nHo", 38, 1000);
    conn_tick(conn, 2500);
    char *out = take_output(conn);
    assert_string_equal(out, "");
    free(out);
    conn_tick(conn, 3000);
    out = take_output(conn);
    assert_non_null(strstr(out, "HTTP/1.1 408 "));
    assert_non_null(strstr(out, "requestTimeout"));
    assert_true(conn->close_after_flush);
    free(out);
}

static void test_idle_timeout(void **state)
{
    struct fixture *f = *state;
    struct conn *conn = conn_new(&f->ingest, -1, 1000);
    conn_tick(conn, 5999);
    assert_false(conn_finished(conn));
    conn_tick(conn, 6000);
    assert_true(conn_finished(conn));
    char *out = take_output(conn);
    assert_string_equal(out, "");
    free(out);
}

static void test_readiness_and_metrics(void **state)
{
    struct fixture *f = *state;
    char *out = exchange(f, "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n", 0, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK"));
    free(out);

    struct fce_ring *ring = f->ingest.ring;
    f->ingest.ring = NULL;
    out = exchange(f, "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n", 0, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 503 "));
    free(out);
    f->ingest.ring = ring;

    out = exchange(f, "HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n", 0, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK"));
    assert_non_null(strstr(out, "\r\n\r\n"));
    assert_string_equal(strstr(out, "\r\n\r\n"), "\r\n\r\n");
    free(out);

    out = exchange(f, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", 0, NULL);
    assert_non_null(strstr(out, "fce_ingest_requests_total{path=\"/readyz\","
                                "status=\"503\"} 1\n"));
    assert_non_null(strstr(out, "fce_ring_capacity_bytes{ring=\"ingest\"}"));
    assert_non_null(
        strstr(out, "fce_ingest_rejections_total{reason=\"ring_unavailable\"}"
                    " 1\n"));
    free(out);
}

/* A body limit above the ring's maxRecord is lowered at attach, so the
 * 413 comes from the Content-Length and names the ring's limit. */
static void test_body_limit_lowered_to_ring(void **state)
{
    struct fixture *f = setup_ring(1 << 20, 16384);
    assert_int_equal(f->ingest.limits.max_body_bytes, 16384);
    assert_int_equal(f->ingest.max_body_setting, 64 * 1024);

    struct conn *conn;
    char *out = exchange(f,
                         "POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
                         "Content-Type: application/x-protobuf\r\n"
                         "Content-Length: 20000\r\n\r\n",
                         0, &conn);
    assert_non_null(strstr(out, "HTTP/1.1 413 "));
    assert_non_null(strstr(out, "exceeds the limit of 16384 bytes (the "
                                "ring's maxRecord)"));
    assert_true(conn->close_after_flush);
    free(out);
    *state = f;
    teardown(state);
}

/* A second ingest on a ring whose producer side is held stays not ready
 * and names the holder. It claims the ring once the holder detaches. */
static void test_producer_side_held(void **state)
{
    struct fixture *f = *state;
    struct fixture second = {0};
    second.ingest = f->ingest;
    second.ingest.ring = NULL;
    second.ingest.conns = NULL;
    second.ingest.next_attach_ms = 0;
    ingest_try_attach(&second.ingest, 0);
    assert_null(second.ingest.ring);
    assert_int_equal(second.ingest.ring_holder_pid, getpid());

    char expected[128];
    snprintf(expected, sizeof(expected), "held by another process (pid %d)",
             (int)getpid());
    char *out =
        exchange(&second, "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n", 0, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 503 "));
    assert_non_null(strstr(out, expected));
    free(out);

    struct fce_buf buf = FCE_BUF_INIT;
    append_post(&buf, "/api/v1/events/nodes", "valid/002-node-start.pb",
                "application/x-protobuf");
    out = exchange(&second, buf.data, buf.len, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 503 "));
    assert_non_null(strstr(out, expected));
    free(out);

    /* Retries wait a second; then the released side is claimed. */
    fce_ring_detach(f->ingest.ring);
    f->ingest.ring = NULL;
    ingest_try_attach(&second.ingest, 500);
    assert_null(second.ingest.ring);
    ingest_try_attach(&second.ingest, 1000);
    assert_non_null(second.ingest.ring);
    assert_int_equal(second.ingest.ring_holder_pid, 0);
    out = exchange(&second, buf.data, buf.len, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK"));
    free(out);
    assert_int_equal(drain_ring(f, NULL, 0), 1);

    fce_buf_free(&buf);
    while (second.ingest.conns)
        conn_free(second.ingest.conns);
    f->ingest.ring = second.ingest.ring;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_post),
        cmocka_unit_test(test_parse_expect),
        cmocka_unit_test(test_parse_versions),
        cmocka_unit_test(test_parse_connection),
        cmocka_unit_test(test_parse_absolute_form),
        cmocka_unit_test(test_head_end_byte_by_byte),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_same_length_twice),
        cmocka_unit_test(test_parse_too_many_headers),
        cmocka_unit_test(test_check_prefix),
        cmocka_unit_test_setup_teardown(test_pipelined_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_holds_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_split_at_every_byte, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_byte_by_byte_pipeline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invalid_corpus_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_error_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_after_415, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_header_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_continue, setup, teardown),
        cmocka_unit_test(test_ring_full_503),
        cmocka_unit_test(test_body_limit_lowered_to_ring),
        cmocka_unit_test_setup_teardown(test_producer_side_held, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_request_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readiness_and_metrics, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
