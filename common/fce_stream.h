/*
 * fce_stream: the stream protocol between bulk senders and fce-ingest, and
 * a blocking client that sends events over it (or over HTTP) for `fce send`
 * and `fce replay`.
 *
 * The protocol shares ingest's listeners with HTTP. A stream connection
 * starts with an 8-byte preamble whose first byte is 0x00, which no HTTP
 * method token can start with; the server answers with the same preamble.
 * After that, each side sends length-delimited messages as protobuf's
 * delimited framing does (a base-128 varint length, then that many bytes
 * of a protobuf message):
 *
 *   message Frame {             // sender -> ingest
 *     uint64 sequence = 1;      // strictly increasing per connection,
 *                               // 1..2^64-1; nothing can follow 2^64-1
 *     uint32 kind     = 2;      // 1 workflow, 2 node, 3 task
 *     bytes  request  = 3;      // the *ExecutionEventRequest bytes
 *   }
 *   message Ack {               // ingest -> sender
 *     uint64 sequence       = 1;
 *     uint32 status         = 2;  // enum fce_stream_status
 *     string message        = 3;  // why, for every status but OK
 *     uint32 retry_after_ms = 4;  // BUSY only
 *   }
 *
 * Acks arrive in sequence order. An ack for sequence N settles every
 * earlier unsettled frame as committed to the ring, and frame N by its
 * status. BUSY and ERROR also cover every later frame, and the oldest
 * unsettled frame when N is not one of them (a malformed frame whose
 * sequence could not be read, or sequence 0 after a frame numbered
 * 2^64-1). docs/ingest.md describes the protocol for sender authors.
 *
 * The codec functions are pure (no I/O, no logging) so they fuzz and test
 * without sockets. The client does blocking socket I/O and never logs: it
 * reports each event through a callback and errors through err buffers.
 */
#ifndef FCE_STREAM_H
#define FCE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fce_buf.h"

#define FCE_STREAM_VERSION      1
#define FCE_STREAM_PREAMBLE_LEN 8

/* 0x00 'F' 'C' 'E' 'S' 'T' 'R' version: starts every stream connection,
 * from both sides, and every stream file. */
extern const uint8_t fce_stream_preamble[FCE_STREAM_PREAMBLE_LEN];

/* Largest ack the decoder accepts (messages are short sentences). */
#define FCE_STREAM_ACK_MAX 4096

enum fce_stream_status {
    FCE_STREAM_OK = 0,       /* committed to the ring */
    FCE_STREAM_REJECTED = 1, /* invalid request: never published; the
                              * connection continues */
    FCE_STREAM_BUSY = 2,     /* ring full: this frame and later ones were
                              * not processed; the server closes, resend
                              * from here after retry_after_ms */
    FCE_STREAM_ERROR = 3,    /* protocol error: this frame and later ones
                              * were not processed; the server closes */
};

/* A decoded frame; request points into the decoded buffer. */
struct fce_stream_frame {
    uint64_t seq;
    uint32_t kind;
    const uint8_t *request;
    size_t request_len;
};

/* An ack; message points into the decoded buffer, or is a C string when
 * encoding (message_len 0 means strlen). */
struct fce_stream_ack {
    uint64_t seq;
    enum fce_stream_status status;
    uint32_t retry_after_ms;
    const char *message;
    size_t message_len;
};

/* Returns the name of a status ("ok", "rejected", "busy", "error") or
 * "unknown". */
const char *fce_stream_status_name(uint32_t status);

/*
 * Checks the start of a connection or file against the preamble. Returns
 * 1 when data starts with the whole preamble, 0 when data is a shorter
 * prefix of it, -EPROTONOSUPPORT when only the version byte differs, and
 * -EPROTO otherwise.
 */
int fce_stream_preamble_check(const uint8_t *data, size_t len);

/* Appends a base-128 varint. Returns 0 or -ENOMEM. */
int fce_stream_varint_put(struct fce_buf *out, uint64_t value);

/*
 * Reads a base-128 varint of at most 10 bytes. Returns the bytes used, 0
 * when data ends inside the varint, or -EPROTO when it is longer than 10
 * bytes or overflows 64 bits.
 */
int fce_stream_varint_get(const uint8_t *data, size_t len, uint64_t *value);

/* Appends one length-delimited Frame. Returns 0 or -ENOMEM. */
int fce_stream_frame_encode(struct fce_buf *out, uint64_t seq, uint32_t kind,
                            const void *request, size_t request_len);

/*
 * Decodes one length-delimited Frame from the start of data. Returns:
 *   1        a frame; *consumed is its size with the length prefix;
 *   0        data ends inside the frame (read more and call again);
 *   -EBADMSG the length prefix is sound but the Frame message is
 *            malformed; *consumed skips it, frame->seq is set when the
 *            sequence field decoded (else 0), err names the problem;
 *   -EMSGSIZE the frame is longer than max_frame bytes;
 *   -EPROTO  the length prefix itself is malformed.
 * A frame without a kind field has kind 0; callers check the value.
 */
int fce_stream_frame_decode(const uint8_t *data, size_t len, size_t max_frame,
                            struct fce_stream_frame *frame, size_t *consumed,
                            char *err, size_t err_size);

/* Appends one length-delimited Ack. Returns 0 or -ENOMEM. */
int fce_stream_ack_encode(struct fce_buf *out,
                          const struct fce_stream_ack *ack);

/* Decodes one length-delimited Ack: 1, 0, or -EPROTO / -EMSGSIZE as for
 * frames (a malformed Ack is a protocol error). */
int fce_stream_ack_decode(const uint8_t *data, size_t len,
                          struct fce_stream_ack *ack, size_t *consumed);

/* ---- the sending client ---- */

enum fce_client_transport {
    FCE_CLIENT_STREAM, /* the stream protocol (default) */
    FCE_CLIENT_HTTP,   /* POST /api/v1/events/..., one request at a time */
};

enum fce_client_outcome {
    FCE_CLIENT_ACCEPTED, /* committed to ingest's ring */
    FCE_CLIENT_REJECTED, /* ingest rejected the request for message */
    FCE_CLIENT_FAILED,   /* not delivered: connection, timeout, protocol */
};

/* Called once per event sent, in the order the events were sent; tag is
 * the value given to fce_client_send(). */
typedef void (*fce_client_result_fn)(void *ctx, uint64_t tag,
                                     enum fce_client_outcome outcome,
                                     const char *message);

struct fce_client_options {
    const char *host;      /* TCP host name or address */
    uint16_t port;         /* TCP port */
    const char *unix_path; /* Unix socket path; overrides host and port */
    enum fce_client_transport transport;
    size_t window;       /* stream: frames in flight, 0 means 256 */
    int timeout_ms;      /* wait for an ack or response, 0 means 30000;
                          * a BUSY ack counts as an answer */
    int max_reconnects;  /* per connection loss, 0 means 5, -1 none */
    int busy_timeout_ms; /* give up when ingest keeps answering BUSY or
                          * 503 (ring full, not ready) this long, in both
                          * transports; 0 means 60000 */
    fce_client_result_fn on_result;
    void *ctx;
};

struct fce_client;

/*
 * Parses an ingest address into opts->host and opts->port: "HOST:PORT",
 * "http://HOST:PORT[/]", "[IPV6]:PORT" or "HOST" (port 8089). host is
 * written into host_buf. Returns 0 or -EINVAL with the reason in err.
 */
int fce_client_parse_url(const char *url, struct fce_client_options *opts,
                         char *host_buf, size_t host_size, char *err,
                         size_t err_size);

/* Connects to ingest (and exchanges the preamble for the stream). Returns
 * 0 or a negative errno with the address and the reason in err. */
int fce_client_open(const struct fce_client_options *opts,
                    struct fce_client **client, char *err, size_t err_size);

/*
 * Sends one request of the given kind (enum fce_kind). The client copies
 * data and keeps it until the event is settled, so it can resend after a
 * busy ack or a lost connection (delivery is at least once). Blocks while
 * the window is full. Results arrive through on_result. Returns 0, or a
 * negative errno when the client can no longer send (err says why).
 */
int fce_client_send(struct fce_client *client, uint32_t kind, const void *data,
                    size_t len, uint64_t tag, char *err, size_t err_size);

/* Waits until every event sent has a result. Returns 0 or a negative errno
 * when some events failed for connection reasons (their results say so). */
int fce_client_finish(struct fce_client *client, char *err, size_t err_size);

/*
 * Parses a timeout option of the sending commands as the configuration
 * parses a duration (250ms, 10s, 1m30s; a bare number is milliseconds)
 * into *ms, which must end up between 1 and INT_MAX. Returns 0, or
 * -EINVAL with the reason and the value in err.
 */
int fce_client_parse_timeout(const char *text, int *ms, char *err,
                             size_t err_size);

/*
 * Guesses the kind of a request file from its name: the first word of the
 * base name (split at characters other than letters and digits) that is
 * workflow, node or task, or their plurals ("012-task-queued.pb").
 * Returns the fce_kind value, or 0 when no word names a kind.
 */
uint32_t fce_client_kind_from_name(const char *path);

/* Closes the connection. Events without a result are reported FAILED. */
void fce_client_close(struct fce_client *client);

#endif
