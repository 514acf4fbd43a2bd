/*
 * The stream protocol: the codec of common/fce_stream.c, the client's
 * helpers, and frames fed into an ingest connection that commits to a
 * real ring in a temporary folder.
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
#include "fce_stream.h"
#include "ingest.h"

/* ---- codec ---- */

static void test_varint_round_trip(void **state)
{
    static const uint64_t values[] = {
        0,         1, 127, 128, 300, 16383, 16384, UINT32_MAX, UINT64_MAX / 3,
        UINT64_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        struct fce_buf buf = FCE_BUF_INIT;
        uint64_t back = 1;
        assert_int_equal(fce_stream_varint_put(&buf, values[i]), 0);
        assert_int_equal(
            fce_stream_varint_get((uint8_t *)buf.data, buf.len, &back),
            (int)buf.len);
        assert_true(back == values[i]);
        for (size_t cut = 0; cut < buf.len; cut++)
            assert_int_equal(
                fce_stream_varint_get((uint8_t *)buf.data, cut, &back), 0);
        fce_buf_free(&buf);
    }
}

static void test_varint_malformed(void **state)
{
    uint8_t eleven[11];
    memset(eleven, 0x80, sizeof(eleven));
    uint64_t value;
    assert_int_equal(fce_stream_varint_get(eleven, sizeof(eleven), &value),
                     -EPROTO);
    /* Ten bytes whose last carries more than the 64th bit overflow. */
    uint8_t overflow[10] = {0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0x02};
    assert_int_equal(fce_stream_varint_get(overflow, 10, &value), -EPROTO);
}

static void test_preamble_check(void **state)
{
    uint8_t copy[FCE_STREAM_PREAMBLE_LEN];
    memcpy(copy, fce_stream_preamble, sizeof(copy));
    assert_int_equal(fce_stream_preamble_check(copy, 8), 1);
    for (size_t len = 1; len < 8; len++)
        assert_int_equal(fce_stream_preamble_check(copy, len), 0);
    copy[7] = 9;
    assert_int_equal(fce_stream_preamble_check(copy, 8), -EPROTONOSUPPORT);
    assert_int_equal(fce_stream_preamble_check((const uint8_t *)"POST", 4),
                     -EPROTO);
}

static void test_frame_round_trip_split(void **state)
{
    struct fce_buf buf = FCE_BUF_INIT;
    const char request[] = "\x0a\x03"
                           "abc";
    assert_int_equal(
        fce_stream_frame_encode(&buf, 300, FCE_KIND_TASK, request, 5), 0);
    assert_int_equal(fce_stream_frame_encode(&buf, 301, FCE_KIND_NODE, "", 0),
                     0);

    struct fce_stream_frame frame;
    size_t used = 0;
    char err[128];
    for (size_t cut = 0; cut < buf.len; cut++) {
        int rc = fce_stream_frame_decode((uint8_t *)buf.data, cut, 1024, &frame,
                                         &used, err, sizeof(err));
        size_t first = used;
        if (rc == 1) {
            /* Only a cut at or after the first frame's end yields it. */
            assert_true(cut >= first);
        } else {
            assert_int_equal(rc, 0);
        }
    }
    assert_int_equal(fce_stream_frame_decode((uint8_t *)buf.data, buf.len, 1024,
                                             &frame, &used, err, sizeof(err)),
                     1);
    assert_true(frame.seq == 300);
    assert_int_equal(frame.kind, FCE_KIND_TASK);
    assert_int_equal(frame.request_len, 5);
    assert_memory_equal(frame.request, request, 5);

    size_t second;
    assert_int_equal(fce_stream_frame_decode((uint8_t *)buf.data + used,
                                             buf.len - used, 1024, &frame,
                                             &second, err, sizeof(err)),
                     1);
    assert_int_equal(used + second, buf.len);
    assert_true(frame.seq == 301);
    assert_int_equal(frame.request_len, 0);
    fce_buf_free(&buf);
}

static void test_frame_limits_and_errors(void **state)
{
    struct fce_buf buf = FCE_BUF_INIT;
    struct fce_stream_frame frame;
    size_t used;
    char err[128];
    char big[200] = {0};
    assert_int_equal(fce_stream_frame_encode(&buf, 1, 1, big, sizeof(big)), 0);
    assert_int_equal(fce_stream_frame_decode((uint8_t *)buf.data, buf.len, 100,
                                             &frame, &used, err, sizeof(err)),
                     -EMSGSIZE);
    assert_non_null(strstr(err, "100 bytes"));

    uint8_t bad_prefix[11];
    memset(bad_prefix, 0xff, sizeof(bad_prefix));
    assert_int_equal(fce_stream_frame_decode(bad_prefix, sizeof(bad_prefix),
                                             100, &frame, &used, err,
                                             sizeof(err)),
                     -EPROTO);

    /* Sound length, bad envelope: seq 7, then field 3 as a varint. */
    const uint8_t wrong_wire[] = {4, 0x08, 7, 0x18, 1};
    assert_int_equal(fce_stream_frame_decode(wrong_wire, sizeof(wrong_wire),
                                             100, &frame, &used, err,
                                             sizeof(err)),
                     -EBADMSG);
    assert_int_equal(used, sizeof(wrong_wire));
    assert_true(frame.seq == 7);

    /* Unknown fields are skipped. */
    const uint8_t unknown[] = {8, 0x08, 2, 0x10, 1, 0x28, 5, 0x1a, 0};
    assert_int_equal(fce_stream_frame_decode(unknown, sizeof(unknown), 100,
                                             &frame, &used, err, sizeof(err)),
                     1);
    assert_int_equal(frame.kind, 1);
    fce_buf_free(&buf);
}

static void test_ack_round_trip(void **state)
{
    struct fce_buf buf = FCE_BUF_INIT;
    struct fce_stream_ack ack = {.seq = 42,
                                 .status = FCE_STREAM_BUSY,
                                 .retry_after_ms = 250,
                                 .message = "ring full"};
    assert_int_equal(fce_stream_ack_encode(&buf, &ack), 0);
    ack = (struct fce_stream_ack){.seq = 43, .status = FCE_STREAM_OK};
    assert_int_equal(fce_stream_ack_encode(&buf, &ack), 0);

    struct fce_stream_ack back;
    size_t used, used2;
    assert_int_equal(
        fce_stream_ack_decode((uint8_t *)buf.data, buf.len, &back, &used), 1);
    assert_true(back.seq == 42);
    assert_int_equal(back.status, FCE_STREAM_BUSY);
    assert_int_equal(back.retry_after_ms, 250);
    assert_int_equal(back.message_len, 9);
    assert_memory_equal(back.message, "ring full", 9);
    assert_int_equal(fce_stream_ack_decode((uint8_t *)buf.data + used,
                                           buf.len - used, &back, &used2),
                     1);
    assert_true(back.seq == 43);
    assert_int_equal(back.status, FCE_STREAM_OK);
    assert_int_equal(back.message_len, 0);
    assert_int_equal(used + used2, buf.len);
    fce_buf_free(&buf);
}

static void test_kind_from_name(void **state)
{
    assert_int_equal(fce_client_kind_from_name("a/012-task-queued.pb"), 3);
    assert_int_equal(fce_client_kind_from_name("001-workflow-running.pb"), 1);
    assert_int_equal(fce_client_kind_from_name("nodes_7.bin"), 2);
    assert_int_equal(fce_client_kind_from_name("tasks"), 3);
    assert_int_equal(fce_client_kind_from_name("nodelike.pb"), 0);
    assert_int_equal(fce_client_kind_from_name("workflowx/foo.pb"), 0);
}

static void test_parse_url(void **state)
{
    struct fce_client_options opts = {0};
    char host[64], err[256];
    assert_int_equal(fce_client_parse_url("http://127.0.0.1:9000/", &opts, host,
                                          sizeof(host), err, sizeof(err)),
                     0);
    assert_string_equal(opts.host, "127.0.0.1");
    assert_int_equal(opts.port, 9000);
    assert_int_equal(fce_client_parse_url("[::1]:81", &opts, host, sizeof(host),
                                          err, sizeof(err)),
                     0);
    assert_string_equal(opts.host, "::1");
    assert_int_equal(opts.port, 81);
    assert_int_equal(fce_client_parse_url("localhost", &opts, host,
                                          sizeof(host), err, sizeof(err)),
                     0);
    assert_int_equal(opts.port, 8089);
    assert_int_equal(fce_client_parse_url("h:99999", &opts, host, sizeof(host),
                                          err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "h:99999"));
    assert_int_equal(fce_client_parse_url("https://h:1", &opts, host,
                                          sizeof(host), err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(fce_client_parse_url("h:1/api", &opts, host, sizeof(host),
                                          err, sizeof(err)),
                     -EINVAL);
}

/* ---- frames through a connection ---- */

struct fixture {
    char dir[64];
    char ring_path[128];
    struct ingest ingest;
    struct fce_ring *consumer;
};

static struct fixture *make_fixture(uint64_t capacity, uint32_t max_record)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[256];
    snprintf(f->dir, sizeof(f->dir), "/tmp/fce-unit-stream.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->ring_path, sizeof(f->ring_path), "%s/ingest.ring", f->dir);
    assert_int_equal(
        fce_ring_create(f->ring_path, capacity, max_record, err, sizeof(err)),
        0);
    assert_int_equal(
        fce_ring_attach(f->ring_path, &f->consumer, err, sizeof(err)), 0);
    f->ingest.limits = (struct ingest_limits){
        .max_connections = 100,
        .max_header_bytes = 4096,
        .max_body_bytes = 64 * 1024,
        .idle_timeout_ms = 5000,
        .request_timeout_ms = 2000,
    };
    f->ingest.ring_path = f->ring_path;
    f->ingest.ring_directory = f->dir;
    f->ingest.stats_directory = f->dir;
    ingest_try_attach(&f->ingest, 0);
    assert_non_null(f->ingest.ring);
    return f;
}

static int setup(void **state)
{
    *state = make_fixture(1 << 20, 128 * 1024);
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

static void add_frame(struct fce_buf *buf, uint64_t seq, uint32_t kind,
                      const char *file)
{
    size_t len;
    uint8_t *data = corpus(file, &len);
    fce_stream_frame_encode(buf, seq, kind, data, len);
    free(data);
}

/* Decodes every ack in the connection's output after the preamble. */
static size_t take_acks(struct conn *conn, struct fce_stream_ack *acks,
                        char messages[][160], size_t max, bool has_preamble)
{
    const char *data;
    size_t len = conn_output(conn, &data), pos = 0, n = 0;
    if (has_preamble) {
        assert_true(len >= FCE_STREAM_PREAMBLE_LEN);
        assert_memory_equal(data, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
        pos = FCE_STREAM_PREAMBLE_LEN;
    }
    while (pos < len && n < max) {
        size_t used;
        assert_int_equal(fce_stream_ack_decode((const uint8_t *)data + pos,
                                               len - pos, &acks[n], &used),
                         1);
        snprintf(messages[n], 160, "%.*s", (int)acks[n].message_len,
                 acks[n].message);
        acks[n].message = messages[n];
        pos += used;
        n++;
    }
    assert_int_equal(pos, len);
    conn_output_done(conn, len, 0);
    return n;
}

static size_t drain_ring(struct fixture *f)
{
    struct fce_ring_record record;
    size_t n = 0;
    while (fce_ring_read(f->consumer, &record) == 0) {
        fce_ring_release(f->consumer, record.end);
        n++;
    }
    return n;
}

static void test_stream_cumulative_ack(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append(&buf, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    add_frame(&buf, 1, FCE_KIND_WORKFLOW, "valid/001-workflow-running.pb");
    add_frame(&buf, 2, FCE_KIND_NODE, "valid/002-node-start.pb");
    add_frame(&buf, 5, FCE_KIND_TASK, "valid/005-task-queued.pb");

    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, buf.data, buf.len, 0);
    struct fce_stream_ack acks[8];
    char messages[8][160];
    assert_int_equal(take_acks(conn, acks, messages, 8, true), 1);
    assert_true(acks[0].seq == 5);
    assert_int_equal(acks[0].status, FCE_STREAM_OK);
    assert_int_equal(drain_ring(f), 3);
    assert_int_equal(conn->protocol, PROTO_STREAM);
    fce_buf_free(&buf);
}

static void test_stream_reject_continues(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append(&buf, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    add_frame(&buf, 1, FCE_KIND_NODE, "valid/002-node-start.pb");
    add_frame(&buf, 2, FCE_KIND_WORKFLOW, "invalid/001-workflow-truncated.pb");
    add_frame(&buf, 3, 9, "valid/002-node-start.pb");
    add_frame(&buf, 4, FCE_KIND_NODE, "valid/003-node-queued.pb");

    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, buf.data, buf.len, 0);
    struct fce_stream_ack acks[8];
    char messages[8][160];
    assert_int_equal(take_acks(conn, acks, messages, 8, true), 3);
    assert_true(acks[0].seq == 2);
    assert_int_equal(acks[0].status, FCE_STREAM_REJECTED);
    assert_non_null(strstr(acks[0].message, "truncated"));
    assert_true(acks[1].seq == 3);
    assert_int_equal(acks[1].status, FCE_STREAM_REJECTED);
    assert_non_null(strstr(acks[1].message, "invalid kind 9"));
    assert_true(acks[2].seq == 4);
    assert_int_equal(acks[2].status, FCE_STREAM_OK);
    assert_int_equal(drain_ring(f), 2);
    assert_false(conn_finished(conn));
    fce_buf_free(&buf);
}

static void test_stream_split_at_every_byte(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append(&buf, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    add_frame(&buf, 1, FCE_KIND_TASK, "valid/053-task-phase-version.pb");
    for (size_t split = 1; split < buf.len; split++) {
        struct conn *conn = conn_new(&f->ingest, -1, 0);
        conn_input(conn, buf.data, split, 0);
        conn_input(conn, buf.data + split, buf.len - split, 0);
        struct fce_stream_ack acks[2];
        char messages[2][160];
        assert_int_equal(take_acks(conn, acks, messages, 2, true), 1);
        assert_int_equal(acks[0].status, FCE_STREAM_OK);
        conn_free(conn);
        assert_int_equal(drain_ring(f), 1);
    }
    fce_buf_free(&buf);
}

static void test_stream_sequence_must_grow(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append(&buf, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    add_frame(&buf, 3, FCE_KIND_NODE, "valid/002-node-start.pb");
    add_frame(&buf, 3, FCE_KIND_NODE, "valid/003-node-queued.pb");
    add_frame(&buf, 4, FCE_KIND_NODE, "valid/004-node-running.pb");

    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, buf.data, buf.len, 0);
    struct fce_stream_ack acks[4];
    char messages[4][160];
    assert_int_equal(take_acks(conn, acks, messages, 4, true), 2);
    assert_true(acks[0].seq == 3);
    assert_int_equal(acks[0].status, FCE_STREAM_OK);
    assert_true(acks[1].seq == 4);
    assert_int_equal(acks[1].status, FCE_STREAM_ERROR);
    assert_non_null(strstr(acks[1].message, "not greater"));
    assert_true(conn->close_after_flush);
    assert_int_equal(drain_ring(f), 1);
    fce_buf_free(&buf);
}

/* A frame envelope with a field number 0 after the given bytes. */
static void add_malformed_frame(struct fce_buf *buf, const uint8_t *prefix,
                                size_t prefix_len)
{
    fce_stream_varint_put(buf, prefix_len + 2);
    fce_buf_append(buf, prefix, prefix_len);
    fce_buf_append(buf, "\x00\x00", 2);
}

static void test_stream_malformed_frames(void **state)
{
    struct fixture *f = *state;
    static const uint8_t seq_two[] = {0x08, 0x02};
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append(&buf, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    add_frame(&buf, 1, FCE_KIND_NODE, "valid/002-node-start.pb");
    add_malformed_frame(&buf, seq_two, sizeof(seq_two));
    add_frame(&buf, 3, FCE_KIND_NODE, "valid/003-node-queued.pb");
    add_malformed_frame(&buf, NULL, 0);

    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, buf.data, buf.len, 0);
    struct fce_stream_ack acks[8];
    char messages[8][160];
    assert_int_equal(take_acks(conn, acks, messages, 8, true), 3);

    /* A readable sequence: rejected by name (settling frame 1 as
     * committed), and the stream goes on. */
    assert_true(acks[0].seq == 2);
    assert_int_equal(acks[0].status, FCE_STREAM_REJECTED);
    assert_string_equal(acks[0].message,
                        "malformed frame: invalid field number 0");
    assert_true(acks[1].seq == 3);
    assert_int_equal(acks[1].status, FCE_STREAM_OK);

    /* No readable sequence: the decoder's message ends the stream. */
    assert_true(acks[2].seq == 4);
    assert_int_equal(acks[2].status, FCE_STREAM_ERROR);
    assert_string_equal(acks[2].message,
                        "malformed frame without a readable sequence: "
                        "invalid field number 0");
    assert_true(conn->close_after_flush);
    assert_int_equal(drain_ring(f), 2);
    fce_buf_free(&buf);
}

static void test_stream_last_sequence(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append(&buf, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    add_frame(&buf, UINT64_MAX - 1, FCE_KIND_NODE, "valid/002-node-start.pb");
    add_frame(&buf, UINT64_MAX, FCE_KIND_NODE, "valid/003-node-queued.pb");
    add_frame(&buf, 1, FCE_KIND_NODE, "valid/004-node-running.pb");

    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, buf.data, buf.len, 0);
    struct fce_stream_ack acks[4];
    char messages[4][160];
    assert_int_equal(take_acks(conn, acks, messages, 4, true), 2);
    assert_true(acks[0].seq == UINT64_MAX);
    assert_int_equal(acks[0].status, FCE_STREAM_OK);

    /* The ERROR after the top names sequence 0, not a wrapped number. */
    assert_true(acks[1].seq == 0);
    assert_int_equal(acks[1].status, FCE_STREAM_ERROR);
    assert_non_null(strstr(acks[1].message,
                           "no sequence is left after 18446744073709551615"));
    assert_true(conn->close_after_flush);
    assert_int_equal(drain_ring(f), 2);
    fce_buf_free(&buf);
}

static void test_stream_oversized_frame(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append(&buf, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    fce_stream_varint_put(&buf, 10u << 20);

    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, buf.data, buf.len, 0);
    struct fce_stream_ack acks[2];
    char messages[2][160];
    assert_int_equal(take_acks(conn, acks, messages, 2, true), 1);
    assert_int_equal(acks[0].status, FCE_STREAM_ERROR);
    assert_non_null(strstr(acks[0].message, "limit"));
    assert_true(conn->close_after_flush);
    fce_buf_free(&buf);
}

static void test_stream_bad_preamble(void **state)
{
    struct fixture *f = *state;
    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, "\0FCESTR\x07", 8, 0);
    const char *data;
    assert_int_equal(conn_output(conn, &data), FCE_STREAM_PREAMBLE_LEN);
    assert_int_equal(data[7], FCE_STREAM_VERSION);
    assert_true(conn->close_after_flush);
}

static void test_stream_partial_frame_times_out(void **state)
{
    struct fixture *f = *state;
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append(&buf, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    add_frame(&buf, 1, FCE_KIND_NODE, "valid/002-node-start.pb");

    struct conn *conn = conn_new(&f->ingest, -1, 100);
    conn_input(conn, buf.data, buf.len - 3, 100);
    conn_tick(conn, 2099);
    assert_false(conn->close_after_flush);
    conn_tick(conn, 2100);
    struct fce_stream_ack acks[2];
    char messages[2][160];
    assert_int_equal(take_acks(conn, acks, messages, 2, true), 1);
    assert_int_equal(acks[0].status, FCE_STREAM_ERROR);
    assert_non_null(strstr(acks[0].message, "requestTimeout"));
    assert_int_equal(drain_ring(f), 0);
    fce_buf_free(&buf);
}

static void test_stream_busy_then_resume(void **state)
{
    struct fixture *f = make_fixture(4096, 1024);
    struct fce_buf buf = FCE_BUF_INIT;
    fce_buf_append(&buf, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    for (uint64_t seq = 1; seq <= 40; seq++)
        add_frame(&buf, seq, FCE_KIND_NODE, "valid/002-node-start.pb");

    struct conn *conn = conn_new(&f->ingest, -1, 0);
    conn_input(conn, buf.data, buf.len, 0);
    assert_true(conn->paused);
    assert_int_equal(f->ingest.paused_count, 1);
    struct fce_stream_ack acks[4];
    char messages[4][160];
    assert_int_equal(take_acks(conn, acks, messages, 4, true), 1);
    uint64_t first = acks[0].seq;
    assert_int_equal(acks[0].status, FCE_STREAM_OK);
    assert_int_equal(drain_ring(f), first);

    /* Room again: the next tick resumes where the stream stopped. */
    conn_tick(conn, 10);
    assert_int_equal(take_acks(conn, acks, messages, 4, false), 1);
    assert_true(acks[0].seq > first);
    uint64_t second = acks[0].seq;
    assert_int_equal(drain_ring(f), second - first);

    /* Still full after the hold time: BUSY from the unprocessed frame. */
    assert_true(conn->paused);
    conn_tick(conn, 10 + INGEST_BUSY_HOLD_MS);
    assert_int_equal(take_acks(conn, acks, messages, 4, false), 1);
    assert_int_equal(acks[0].status, FCE_STREAM_BUSY);
    assert_true(acks[0].seq == second + 1);
    assert_int_equal(acks[0].retry_after_ms, INGEST_BUSY_RETRY_MS);
    assert_true(conn->close_after_flush);
    assert_int_equal(f->ingest.paused_count, 0);
    fce_buf_free(&buf);
    *state = f;
    teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_round_trip),
        cmocka_unit_test(test_varint_malformed),
        cmocka_unit_test(test_preamble_check),
        cmocka_unit_test(test_frame_round_trip_split),
        cmocka_unit_test(test_frame_limits_and_errors),
        cmocka_unit_test(test_ack_round_trip),
        cmocka_unit_test(test_kind_from_name),
        cmocka_unit_test(test_parse_url),
        cmocka_unit_test_setup_teardown(test_stream_cumulative_ack, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_reject_continues, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_split_at_every_byte, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_sequence_must_grow, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_oversized_frame, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_bad_preamble, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_partial_frame_times_out,
                                        setup, teardown),
        cmocka_unit_test(test_stream_busy_then_resume),
        cmocka_unit_test_setup_teardown(test_stream_malformed_frames, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_last_sequence, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
