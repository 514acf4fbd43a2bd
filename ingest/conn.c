/* One connection: buffers, protocol detection, timeouts, ring commits. */
#include "ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fce_event.h"
#include "fce_log.h"
#include "fce_ring.h"
#include "fce_stream.h"

uint64_t ingest_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct conn *conn_new(struct ingest *ingest, int fd, uint64_t now_ms)
{
    static uint64_t next_id = 1;
    struct conn *conn = calloc(1, sizeof(*conn));
    if (!conn)
        return NULL;
    conn->ingest = ingest;
    conn->fd = fd;
    conn->id = next_id++;
    conn->last_active_ms = now_ms;

    conn->next = ingest->conns;
    if (ingest->conns)
        ingest->conns->prev = conn;
    ingest->conns = conn;
    ingest->metrics.connections_accepted++;
    ingest->metrics.connections_open++;
    return conn;
}

void conn_free(struct conn *conn)
{
    struct ingest *ingest = conn->ingest;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        ingest->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    if (conn->paused)
        ingest->paused_count--;

    ingest->metrics.connections_open--;
    ingest->metrics.connections_closed++;
    fce_buf_free(&conn->in);
    fce_buf_free(&conn->out);
    free(conn);
}

void conn_consume(struct conn *conn, size_t n)
{
    conn->in_off += n;
    if (conn->in_off == conn->in.len) {
        fce_buf_reset(&conn->in);
        conn->in_off = 0;
    }
}

/* Moves unconsumed input to the front once the consumed part dominates. */
static void compact_input(struct conn *conn)
{
    if (conn->in_off == 0 || conn->in_off < conn->in.len - conn->in_off)
        return;
    size_t rest = conn->in.len - conn->in_off;
    memmove(conn->in.data, conn->in.data + conn->in_off, rest);
    conn->in.len = rest;
    conn->in_off = 0;
}

static size_t output_backlog(const struct conn *conn)
{
    return conn->out.len - conn->out_off + conn->io_pending;
}

/* Decides between HTTP and the stream protocol from the first bytes.
 * Returns whether the protocol is now known. */
static bool detect_protocol(struct conn *conn)
{
    const char *data = conn->in.data + conn->in_off;
    size_t avail = conn->in.len - conn->in_off;
    if (avail == 0)
        return false;
    if (data[0] != 0x00) {
        conn->protocol = PROTO_HTTP;
        return true;
    }

    int rc = fce_stream_preamble_check((const uint8_t *)data, avail);
    if (rc == 0)
        return false;
    if (rc < 0) {
        static struct fce_log_limit limit;
        fce_log_limited(&limit, 10000, FCE_LOG_WARN, "ingest",
                        "closing a connection with an unknown preamble",
                        "conn=%llu reason=%s", (unsigned long long)conn->id,
                        rc == -EPROTONOSUPPORT ? "unsupported_version"
                                               : "bad_preamble");
        metrics_count_rejection(conn->ingest, REASON_bad_preamble);
        /* Respond with our preamble so a sender can tell the version. */
        fce_buf_append(&conn->out, fce_stream_preamble,
                       FCE_STREAM_PREAMBLE_LEN);
        conn->close_after_flush = true;
        return false;
    }

    conn_consume(conn, FCE_STREAM_PREAMBLE_LEN);
    fce_buf_append(&conn->out, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    conn->protocol = PROTO_STREAM;
    conn->ingest->metrics.stream_connections++;
    return true;
}

static void process(struct conn *conn, uint64_t now_ms)
{
    while (!conn->close_after_flush && !conn->abort && !conn->paused &&
           output_backlog(conn) < INGEST_OUTPUT_HIGH) {
        bool progressed;
        if (conn->protocol == PROTO_UNKNOWN)
            progressed = detect_protocol(conn);
        else if (conn->protocol == PROTO_HTTP)
            progressed = http_step(conn, now_ms);
        else
            progressed = stream_step(conn, now_ms);
        if (!progressed)
            break;
    }
    compact_input(conn);
    if (conn->protocol == PROTO_STREAM)
        stream_flush_ack(conn);
}

void conn_input(struct conn *conn, const char *data, size_t len,
                uint64_t now_ms)
{
    conn->ingest->metrics.bytes_received += len;
    conn->last_active_ms = now_ms;
    if (conn->close_after_flush || conn->abort)
        return;
    if (fce_buf_append(&conn->in, data, len) < 0) {
        conn->abort = true;
        return;
    }
    process(conn, now_ms);
}

void conn_peer_closed(struct conn *conn, uint64_t now_ms)
{
    conn->peer_closed = true;
    process(conn, now_ms);
    /* A partial request can never complete now, so respond only to
     * the whole ones. */
    conn->close_after_flush = true;
}

void conn_resume(struct conn *conn, uint64_t now_ms)
{
    if (!conn->close_after_flush && !conn->abort)
        process(conn, now_ms);
}

static void tick_paused(struct conn *conn, uint64_t now_ms)
{
    if (now_ms - conn->paused_since_ms >= INGEST_BUSY_HOLD_MS) {
        stream_timeout(conn, now_ms);
        return;
    }
    /* Retry the frame; a ring still full pauses again, and the hold keeps
     * counting from the first pause. */
    uint64_t since = conn->paused_since_ms;
    conn->paused = false;
    conn->ingest->paused_count--;
    process(conn, now_ms);
    if (conn->paused)
        conn->paused_since_ms = since;
}

void conn_tick(struct conn *conn, uint64_t now_ms)
{
    const struct ingest_limits *limits = &conn->ingest->limits;
    if (conn->abort)
        return;
    if (conn->write_shut) {
        if (now_ms - conn->linger_start_ms >= INGEST_LINGER_MS)
            conn->abort = true;
        return;
    }
    if (conn->paused) {
        tick_paused(conn, now_ms);
        return;
    }
    if (conn->request_start_ms &&
        now_ms - conn->request_start_ms >= limits->request_timeout_ms &&
        !conn->close_after_flush) {
        if (conn->protocol == PROTO_STREAM)
            stream_timeout(conn, now_ms);
        else
            http_timeout(conn);
        return;
    }
    if (!conn->request_start_ms &&
        now_ms - conn->last_active_ms >= limits->idle_timeout_ms) {
        conn->ingest->metrics.idle_closed++;
        conn->abort = true;
    }
}

bool conn_wants_input(const struct conn *conn)
{
    if (conn->write_shut)
        return !conn->peer_closed && !conn->abort;
    return !conn->close_after_flush && !conn->abort && !conn->paused &&
           !conn->peer_closed && output_backlog(conn) < INGEST_OUTPUT_HIGH &&
           conn->in.len - conn->in_off <=
               conn->ingest->limits.max_body_bytes +
                   conn->ingest->limits.max_header_bytes + 65536;
}

bool conn_finished(const struct conn *conn)
{
    if (conn->abort)
        return true;
    return conn->close_after_flush && output_backlog(conn) == 0 &&
           conn->peer_closed;
}

bool conn_needs_shutdown(const struct conn *conn)
{
    return conn->close_after_flush && output_backlog(conn) == 0 &&
           !conn->peer_closed && !conn->write_shut && !conn->abort;
}

void conn_write_shut(struct conn *conn, uint64_t now_ms)
{
    conn->write_shut = true;
    conn->linger_start_ms = now_ms;
}

size_t conn_output(const struct conn *conn, const char **data)
{
    if (!conn->out.data) {
        *data = "";
        return 0;
    }
    *data = conn->out.data + conn->out_off;
    return conn->out.len - conn->out_off;
}

void conn_output_done(struct conn *conn, size_t n, uint64_t now_ms)
{
    conn->ingest->metrics.bytes_sent += n;
    conn->last_active_ms = now_ms;
    if (conn->io_pending) {
        conn->io_pending -= n < conn->io_pending ? n : conn->io_pending;
        return;
    }
    conn->out_off += n;
    if (conn->out_off == conn->out.len) {
        fce_buf_reset(&conn->out);
        conn->out_off = 0;
    }
}

size_t conn_take_output(struct conn *conn, struct fce_buf *into)
{
    struct fce_buf spare = *into;
    fce_buf_reset(&spare);
    if (conn->out_off > 0) {
        /* Rare: output partly sent through conn_output(); keep the rest. */
        memmove(conn->out.data, conn->out.data + conn->out_off,
                conn->out.len - conn->out_off);
        conn->out.len -= conn->out_off;
        conn->out_off = 0;
    }
    *into = conn->out;
    conn->out = spare;
    conn->io_pending += into->len;
    return into->len;
}

/* ---- the ring ---- */

static uint32_t max_record(const struct fce_ring *ring)
{
    struct fce_ring_info info;
    fce_ring_info(ring, &info);
    return info.max_record;
}

int ingest_commit(struct ingest *ingest, enum fce_kind kind,
                  const uint8_t *data, size_t len, char *err, size_t err_size)
{
    struct fce_event event = {0};
    int rc = fce_event_parse(kind, data, len, &event, err, err_size);
    if (rc < 0)
        return -EINVAL;
    if (!ingest->ring && ingest->ring_holder_pid) {
        snprintf(err, err_size,
                 "the ingest ring's producer side is held by another "
                 "process (pid %d); retry once it exits",
                 (int)ingest->ring_holder_pid);
        rc = -ENODEV;
        goto cleanup;
    }
    if (!ingest->ring) {
        snprintf(err, err_size, "the ingest ring is not attached yet");
        rc = -ENODEV;
        goto cleanup;
    }

    size_t size = fce_event_record_size(&event, len);
    void *record = size <= UINT32_MAX
                       ? fce_ring_reserve(ingest->ring, (uint32_t)size)
                       : NULL;
    if (!record) {
        rc = size > UINT32_MAX || errno == EMSGSIZE ? -EMSGSIZE : -EAGAIN;
        snprintf(err, err_size,
                 rc == -EAGAIN ? "the ingest ring is full"
                               : "the record of %zu bytes (the body and "
                                 "its attributes) is larger than the "
                                 "ring's maxRecord of %u bytes",
                 size, max_record(ingest->ring));
        goto cleanup;
    }
    fce_event_record_write(record, &event, data, len);
    fce_ring_commit(ingest->ring, kind, (uint32_t)size);
    ingest->metrics.events[kind]++;
    ingest->metrics.event_bytes += len;

cleanup:
    fce_event_clear(&event);
    return rc;
}

/* Lowers the body limit to what the ring's records can hold, so a body
 * that can never fit is rejected from its Content-Length. */
static void fit_body_limit(struct ingest *ingest)
{
    struct fce_ring_info info;
    fce_ring_info(ingest->ring, &info);
    if (!ingest->max_body_setting)
        ingest->max_body_setting = ingest->limits.max_body_bytes;
    ingest->limits.max_body_bytes = ingest->max_body_setting;
    if (ingest->max_body_setting <= info.max_record)
        return;

    ingest->limits.max_body_bytes = info.max_record;
    fce_log(ingest->max_body_explicit ? FCE_LOG_WARN : FCE_LOG_INFO, "ingest",
            "maxBodyBytes is larger than the ring's maxRecord; bodies "
            "are limited to maxRecord",
            "ring=%s max_body_bytes=%llu max_record=%u",
            fce_log_quote(ingest->ring_path),
            (unsigned long long)ingest->max_body_setting, info.max_record);
}

/* Logs a producer side held by another process, once per holder. */
static void report_holder(struct ingest *ingest, struct fce_ring *ring)
{
    struct fce_ring_info info;
    fce_ring_info(ring, &info);
    if (info.producer_pid == ingest->ring_holder_pid)
        return;
    ingest->ring_holder_pid = info.producer_pid;
    fce_warn("ingest",
             "another process holds the producer side of the ingest "
             "ring; not ready, retrying every second",
             "ring=%s holder_pid=%d", fce_log_quote(ingest->ring_path),
             (int)info.producer_pid);
}

/* Claims the producer side of a newly attached ring. Returns 0, or a
 * negative errno with the ring detached. */
static int claim(struct ingest *ingest, struct fce_ring *ring, char *err,
                 size_t err_size)
{
    int rc = fce_ring_claim(ring, FCE_RING_PRODUCER, err, err_size);
    if (rc == -EBUSY)
        report_holder(ingest, ring);
    if (rc < 0)
        fce_ring_detach(ring);
    return rc;
}

void ingest_try_attach(struct ingest *ingest, uint64_t now_ms)
{
    if (ingest->ring || now_ms < ingest->next_attach_ms)
        return;
    ingest->next_attach_ms = now_ms + 1000;

    char err[256] = "";
    struct fce_ring *ring = NULL;
    int rc = fce_ring_attach(ingest->ring_path, &ring, err, sizeof(err));
    if (rc == 0)
        rc = claim(ingest, ring, err, sizeof(err));
    if (rc == 0) {
        ingest->ring = ring;
        ingest->ring_holder_pid = 0;
        fce_info("ingest", "claimed the ingest ring as its producer; ready",
                 "ring=%s", fce_log_quote(ingest->ring_path));
        fit_body_limit(ingest);
        return;
    }
    if (rc == -EBUSY)
        return;
    static struct fce_log_limit limit;
    fce_log_limited(&limit, 30000, FCE_LOG_WARN, "ingest",
                    "cannot attach the ingest ring; not ready, retrying "
                    "every second",
                    "ring=%s error=%s", fce_log_quote(ingest->ring_path),
                    fce_log_quote(err[0] ? err : strerror(-rc)));
}

void ingest_refuse_connection(struct ingest *ingest, int fd)
{
    static const char body[] =
        "{\"code\":503,\"error\":\"Service Unavailable\",\"message\":"
        "\"too many connections; retry later or raise maxConnections\"}";
    static struct fce_log_limit limit;
    char response[512];
    int len = snprintf(response, sizeof(response),
                       "HTTP/1.1 503 Service Unavailable\r\n"
                       "Content-Type: application/json\r\nRetry-After: 1\r\n"
                       "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                       sizeof(body) - 1, body);

    metrics_count_rejection(ingest, REASON_too_many_connections);
    fce_log_limited(&limit, 10000, FCE_LOG_WARN, "ingest",
                    "refusing a connection at the connection limit",
                    "max_connections=%llu",
                    (unsigned long long)ingest->limits.max_connections);
    ssize_t n = send(fd, response, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)n;
    close(fd);
}
