/*
 * fce-ingest internals: the server state, one connection's protocol state
 * machine, and the interface between it and the two I/O loops (io_uring in
 * loop_uring.c, epoll in loop_epoll.c).
 *
 * Everything runs on one thread. A loop owns the sockets: it reads bytes
 * and hands them to conn_input(), sends what conn_output() returns, and
 * closes a connection once conn_finished() returns true. The connection code
 * (conn.c, serve_http.c, serve_stream.c) never touches a socket, which is
 * why both loops share it and why it is tested without the network.
 */
#ifndef FCE_INGEST_H
#define FCE_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fce_buf.h"
#include "fce_config.h"
#include "http.h"

struct fce_ring;
struct fce_stats;

/* Defaults when no configuration file sets them. */
#define INGEST_DEFAULT_MAX_CONNECTIONS    10000
#define INGEST_DEFAULT_MAX_HEADER_BYTES   (16u << 10)
#define INGEST_DEFAULT_MAX_BODY_BYTES     (4u << 20)
#define INGEST_DEFAULT_IDLE_TIMEOUT_MS    60000
#define INGEST_DEFAULT_REQUEST_TIMEOUT_MS 30000

/* Room a record needs beside its request body for the attributes (id,
 * partition key, header): the configuration's rule for maxBodyBytes
 * against rings.maxRecord, which the command line follows too. */
#define INGEST_RECORD_OVERHEAD (64u << 10)

/* Output a connection may queue before it stops reading its requests, so
 * a client that pipelines without reading cannot grow memory. */
#define INGEST_OUTPUT_HIGH (256u << 10)

/* How long a stream connection waits for room in a full ring before it
 * sends BUSY and closes, and the retry delay it suggests. */
#define INGEST_BUSY_HOLD_MS  1000
#define INGEST_BUSY_RETRY_MS 250

/* How long a closing connection keeps reading to let its last response
 * reach the client; see conn_needs_shutdown(). */
#define INGEST_LINGER_MS 2000

struct ingest_limits {
    uint64_t max_connections;
    uint64_t max_header_bytes;
    uint64_t max_body_bytes;
    uint64_t idle_timeout_ms;
    uint64_t request_timeout_ms;
};

enum ingest_route {
    ROUTE_WORKFLOWS,
    ROUTE_NODES,
    ROUTE_TASKS,
    ROUTE_HEALTHZ,
    ROUTE_READYZ,
    ROUTE_METRICS,
    ROUTE_STREAM, /* stream protocol frames */
    ROUTE_OTHER,
    ROUTE_COUNT,
};

/* HTTP status codes that metrics count one by one; others count as 0. */
// clang-format off
#define INGEST_STATUS_CODES                                                    \
    X(0) X(200) X(400) X(404) X(405) X(408) X(411) X(413) X(415) X(417)       \
    X(431) X(500) X(501) X(503) X(505)
#define X(code) +1
enum { INGEST_STATUS_COUNT = 0 INGEST_STATUS_CODES };
#undef X

/* Rejection reasons, by the snake_case name metrics use. */
#define INGEST_REASONS                                                         \
    X(invalid_event) X(body_too_large) X(record_too_large)                    \
    X(unsupported_media_type) X(ring_full) X(ring_unavailable)                \
    X(not_found) X(method_not_allowed) X(header_too_large)                    \
    X(bad_request) X(bad_content_length) X(length_required)                   \
    X(not_implemented) X(version_not_supported) X(request_timeout)            \
    X(too_many_connections) X(bad_preamble) X(stream_protocol)                \
    X(invalid_kind) X(expectation_failed) X(other)
#define X(name) REASON_##name,
enum ingest_reason { INGEST_REASONS REASON_COUNT };
#undef X
// clang-format on

/* Counters of this process; single-threaded, so plain integers. */
struct ingest_metrics {
    uint64_t requests[ROUTE_COUNT][INGEST_STATUS_COUNT];
    uint64_t rejections[REASON_COUNT];
    uint64_t events[FCE_KIND_COUNT + 1]; /* committed, by fce_kind */
    uint64_t bytes_received, bytes_sent;
    uint64_t event_bytes; /* request bytes committed to the ring */
    uint64_t connections_accepted, connections_open, connections_closed;
    uint64_t stream_connections;
    uint64_t idle_closed;
};

struct conn;

struct ingest {
    struct ingest_limits limits; /* max_body_bytes: at most the ring's
                                  * maxRecord once attached */
    uint64_t max_body_setting;   /* max_body_bytes as configured */
    bool max_body_explicit;      /* set by the command line or a file */
    const char *ring_path;
    struct fce_ring *ring; /* NULL until attached and claimed: readiness */
    uint64_t next_attach_ms;
    int32_t ring_holder_pid;     /* producer holding the ring, or 0 */
    const char *ring_directory;  /* every *.ring here shows in /metrics */
    const char *stats_directory; /* every *.stats here shows in /metrics */
    struct fce_stats *stats;     /* this process's stats file, or NULL */
    struct ingest_metrics metrics;
    struct conn *conns;  /* doubly linked list of open connections */
    size_t paused_count; /* stream connections waiting for ring room */
    const char *io_name; /* "io_uring" or "epoll", for /metrics */
    volatile int stopping;
};

enum conn_protocol {
    PROTO_UNKNOWN,
    PROTO_HTTP,
    PROTO_STREAM,
};

enum http_state {
    HTTP_HEAD,
    HTTP_BODY,
    HTTP_DISCARD,
};

struct conn {
    struct ingest *ingest;
    struct conn *prev, *next;
    int fd;
    uint64_t id; /* for logs */

    struct fce_buf in; /* received bytes; in_off of them are consumed */
    size_t in_off;
    struct fce_buf out; /* response bytes; out_off of them are sent */
    size_t out_off;
    size_t io_pending; /* bytes the loop took and has not finished sending */

    enum conn_protocol protocol;
    bool close_after_flush; /* no more input; close once output is sent */
    bool peer_closed;       /* the client shut its sending side */
    bool abort;             /* close now, dropping output */
    bool write_shut;        /* output done and shut; draining input */
    uint64_t linger_start_ms;
    uint64_t last_active_ms;
    uint64_t request_start_ms; /* 0 while no request is in progress */

    /* HTTP */
    enum http_state http_state;
    size_t head_scan;
    enum ingest_route route;
    bool head_only; /* HEAD request: headers without the body */
    bool keep_alive;
    uint64_t body_remaining;

    /* stream */
    uint64_t last_seq;  /* highest sequence processed */
    uint64_t acked_seq; /* highest sequence acknowledged */
    bool paused;        /* ring full: waiting before the next frame */
    uint64_t paused_since_ms;
    uint64_t paused_seq; /* sequence of the frame waiting for room */

    void *io; /* the loop's own per-connection state */
};

/* ---- conn.c ---- */

struct conn *conn_new(struct ingest *ingest, int fd, uint64_t now_ms);

/* Frees the connection's memory and unlinks it; the loop closes fd. */
void conn_free(struct conn *conn);

/* Appends received bytes and processes every complete request. */
void conn_input(struct conn *conn, const char *data, size_t len,
                uint64_t now_ms);

/* The client shut down its side: respond to what arrived, then close. */
void conn_peer_closed(struct conn *conn, uint64_t now_ms);

/* Applies timeouts and retries a paused connection. */
void conn_tick(struct conn *conn, uint64_t now_ms);

/* Processes buffered input again (after output drained). */
void conn_resume(struct conn *conn, uint64_t now_ms);

/* Whether the loop should read more from this connection now. */
bool conn_wants_input(const struct conn *conn);

/* Whether the loop should close the connection now. */
bool conn_finished(const struct conn *conn);

/*
 * Whether the loop should shut down the sending side now: the last
 * response is sent and the connection ends. The loop calls shutdown(fd,
 * SHUT_WR), then conn_write_shut(), and keeps reading (the input is
 * dropped) until the client closes or INGEST_LINGER_MS pass. Closing with
 * unread input would make the kernel reset the connection and could
 * destroy the response before the client reads it.
 */
bool conn_needs_shutdown(const struct conn *conn);
void conn_write_shut(struct conn *conn, uint64_t now_ms);

/* Pending output; conn_output_done() marks n bytes of it as sent. */
size_t conn_output(const struct conn *conn, const char **data);
void conn_output_done(struct conn *conn, size_t n, uint64_t now_ms);

/* Moves all pending output into *into (which the loop owns until the send
 * completes) and returns its length; the loop reports completion through
 * conn_output_done() on the moved bytes. */
size_t conn_take_output(struct conn *conn, struct fce_buf *into);

/* Marks input consumed and compacts the buffer. */
void conn_consume(struct conn *conn, size_t n);

/* Validates a request and commits its record to the ring. Returns 0, or
 * -EINVAL (invalid, with the reason in err), -EAGAIN (ring full), -ENODEV (ring
 * not attached) or -EMSGSIZE (record larger than the ring accepts). */
int ingest_commit(struct ingest *ingest, enum fce_kind kind,
                  const uint8_t *data, size_t len, char *err, size_t err_size);

/* Attaches the ring and claims its producer side when that is not done
 * yet (retried once a second), then lowers limits.max_body_bytes to the
 * ring's maxRecord when it is larger. */
void ingest_try_attach(struct ingest *ingest, uint64_t now_ms);

/* Writes a 503 to a connection refused for the connection limit. */
void ingest_refuse_connection(struct ingest *ingest, int fd);

uint64_t ingest_now_ms(void);

/* ---- serve_http.c ---- */

/* Processes the next HTTP request step; returns whether it progressed. */
bool http_step(struct conn *conn, uint64_t now_ms);

/* Responds 408 to a request that timed out, and closes. */
void http_timeout(struct conn *conn);

/* Queues a complete response. body may be NULL. */
void http_respond(struct conn *conn, int status, enum ingest_reason reason,
                  const char *extra_headers, const char *content_type,
                  const char *body, size_t body_len);

/* Queues a JSON error response {"code":..,"error":..,"message":..}. */
void http_error(struct conn *conn, int status, enum ingest_reason reason,
                const char *extra_headers, const char *message);

/* ---- serve_stream.c ---- */

bool stream_step(struct conn *conn, uint64_t now_ms);

/* Acknowledges the frames committed since the last ack. */
void stream_flush_ack(struct conn *conn);

/* Answers a frame that stayed incomplete or paused too long, and closes. */
void stream_timeout(struct conn *conn, uint64_t now_ms);

/* Queues an ack. */
void stream_ack(struct conn *conn, uint64_t seq, int status,
                uint32_t retry_after_ms, const char *message);

/* ---- metrics.c ---- */

void metrics_count_response(struct ingest *ingest, enum ingest_route route,
                            int status, enum ingest_reason reason);
void metrics_count_rejection(struct ingest *ingest, enum ingest_reason reason);
const char *metrics_reason_name(enum ingest_reason reason);

/* Renders the Prometheus text of this process, its ring, every ring in
 * the ring directory and every stats file in the stats directory. */
int metrics_render(struct ingest *ingest, struct fce_buf *out);

/* Copies the totals into the stats file (once a second). */
void metrics_publish(struct ingest *ingest);

/* ---- the loops ---- */

/* Listening sockets, non-blocking. */
struct ingest_listeners {
    int *fds;
    size_t count;
};

/* Runs until ingest->stopping. Return 0, or a negative errno; the uring
 * loop returns -ENOSYS or -EPERM when io_uring is unavailable, before it
 * has touched a socket, so the caller can fall back to epoll. */
int ingest_run_uring(struct ingest *ingest, struct ingest_listeners *ls);
int ingest_run_epoll(struct ingest *ingest, struct ingest_listeners *ls);

/* ---- listen.c ---- */

/* Parses "HOST:PORT", "[V6]:PORT", ":PORT" or "unix:PATH". */
int ingest_listener_parse(const char *text, struct fce_listener *listener,
                          char *err, size_t err_size);

/* Opens a listening socket. Returns the fd or a negative errno. */
int ingest_listen(const struct fce_listener *listener, char *err,
                  size_t err_size);

#endif
