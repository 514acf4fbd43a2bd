/* The stream protocol on one connection: frames in, acks out. */
#include "ingest.h"

#include <errno.h>
#include <stdio.h>

#include "fce_log.h"
#include "fce_stream.h"

/* Room for the Frame envelope around a request of the body limit. */
#define FRAME_OVERHEAD 64

void stream_ack(struct conn *conn, uint64_t seq, int status,
                uint32_t retry_after_ms, const char *message)
{
    struct fce_stream_ack ack = {
        .seq = seq,
        .status = (enum fce_stream_status)status,
        .retry_after_ms = retry_after_ms,
        .message = message,
    };
    if (fce_stream_ack_encode(&conn->out, &ack) < 0)
        conn->abort = true;
    if (seq > conn->acked_seq)
        conn->acked_seq = seq;
}

void stream_flush_ack(struct conn *conn)
{
    if (conn->last_seq > conn->acked_seq && !conn->abort)
        stream_ack(conn, conn->last_seq, FCE_STREAM_OK, 0, NULL);
}

/* Ends the stream: the frames after the last processed one were not. The
 * ERROR names the sequence after it, or 0 after the top of the sequence
 * space, and either way settles nothing more and covers every unsettled
 * frame. */
static void protocol_error(struct conn *conn, enum ingest_reason reason,
                           const char *message)
{
    static struct fce_log_limit limit;
    fce_log_limited(&limit, 10000, FCE_LOG_WARN, "ingest",
                    "closing a stream after a protocol error",
                    "conn=%llu error=%s", (unsigned long long)conn->id,
                    fce_log_quote(message));
    metrics_count_response(conn->ingest, ROUTE_STREAM, 400, reason);
    stream_flush_ack(conn);
    stream_ack(conn, conn->last_seq == UINT64_MAX ? 0 : conn->last_seq + 1,
               FCE_STREAM_ERROR, 0, message);
    conn->close_after_flush = true;
}

static void reject_frame(struct conn *conn, uint64_t seq,
                         enum ingest_reason reason, const char *message)
{
    metrics_count_response(conn->ingest, ROUTE_STREAM, 400, reason);
    conn->last_seq = seq;
    stream_ack(conn, seq, FCE_STREAM_REJECTED, 0, message);
}

static void pause_stream(struct conn *conn, uint64_t seq, uint64_t now_ms)
{
    conn->paused_seq = seq;
    if (!conn->paused) {
        conn->paused = true;
        conn->paused_since_ms = now_ms;
        conn->ingest->paused_count++;
    }
}

void stream_timeout(struct conn *conn, uint64_t now_ms)
{
    char message[160];
    if (conn->paused) {
        conn->paused = false;
        conn->ingest->paused_count--;
        metrics_count_response(conn->ingest, ROUTE_STREAM, 503,
                               REASON_ring_full);
        if (conn->ingest->ring)
            snprintf(message, sizeof(message),
                     "the ingest ring stayed full for %u ms; resend from "
                     "this frame",
                     INGEST_BUSY_HOLD_MS);
        else if (conn->ingest->ring_holder_pid)
            snprintf(message, sizeof(message),
                     "not ready: the ingest ring's producer side is held "
                     "by another process (pid %d); resend from this frame",
                     (int)conn->ingest->ring_holder_pid);
        else
            snprintf(message, sizeof(message),
                     "not ready: the ingest ring is not attached yet; "
                     "resend from this frame");
        stream_flush_ack(conn);
        stream_ack(conn, conn->paused_seq, FCE_STREAM_BUSY,
                   INGEST_BUSY_RETRY_MS, message);
        conn->close_after_flush = true;
        return;
    }
    snprintf(message, sizeof(message),
             "frame not complete within %llu ms (requestTimeout)",
             (unsigned long long)conn->ingest->limits.request_timeout_ms);
    protocol_error(conn, REASON_request_timeout, message);
}

/* Commits one decoded frame, or pauses when the ring has no room.
 * Returns whether the frame was consumed. */
static bool serve_frame(struct conn *conn, const struct fce_stream_frame *frame,
                        uint64_t now_ms)
{
    char err[256] = "";
    if (frame->kind < FCE_KIND_WORKFLOW || frame->kind > FCE_KIND_TASK) {
        snprintf(err, sizeof(err),
                 "invalid kind %u; expected 1 (workflow), 2 (node) or 3 "
                 "(task)",
                 frame->kind);
        reject_frame(conn, frame->seq, REASON_invalid_kind, err);
        return true;
    }

    int rc =
        ingest_commit(conn->ingest, (enum fce_kind)frame->kind, frame->request,
                      frame->request_len, err, sizeof(err));
    if (rc == -EAGAIN || rc == -ENODEV) {
        pause_stream(conn, frame->seq, now_ms);
        return false;
    }
    if (rc == -EINVAL || rc == -EMSGSIZE) {
        reject_frame(conn, frame->seq,
                     rc == -EINVAL ? REASON_invalid_event
                                   : REASON_record_too_large,
                     err);
        return true;
    }
    metrics_count_response(conn->ingest, ROUTE_STREAM, 200, REASON_COUNT);
    conn->last_seq = frame->seq;
    return true;
}

/*
 * Checks a decoded frame's sequence, which must exceed the previous one.
 * A malformed frame whose sequence did not decode (rc -EBADMSG with seq 0)
 * cannot be rejected by name, so it ends the stream with the decoder's
 * message. So does any frame after sequence 2^64-1, the last one a
 * connection can carry. Returns false when it ended the stream.
 */
static bool check_sequence(struct conn *conn,
                           const struct fce_stream_frame *frame, int rc,
                           const char *decode_error)
{
    char message[200];
    if (rc == -EBADMSG && frame->seq == 0)
        snprintf(message, sizeof(message),
                 "malformed frame without a readable sequence: %s",
                 decode_error);
    else if (conn->last_seq == UINT64_MAX)
        snprintf(message, sizeof(message),
                 "no sequence is left after %llu on this connection; open "
                 "a new connection and number frames from 1 again",
                 (unsigned long long)UINT64_MAX);
    else if (frame->seq <= conn->last_seq)
        snprintf(message, sizeof(message),
                 "sequence %llu is not greater than the previous %llu",
                 (unsigned long long)frame->seq,
                 (unsigned long long)conn->last_seq);
    else
        return true;
    protocol_error(conn, REASON_stream_protocol, message);
    return false;
}

bool stream_step(struct conn *conn, uint64_t now_ms)
{
    const uint8_t *data = (const uint8_t *)conn->in.data + conn->in_off;
    size_t avail = conn->in.len - conn->in_off;
    if (avail == 0) {
        conn->request_start_ms = 0;
        return false;
    }
    if (!conn->request_start_ms)
        conn->request_start_ms = now_ms;

    struct fce_stream_frame frame;
    size_t used = 0;
    char err[160] = "";
    size_t max_frame = conn->ingest->limits.max_body_bytes + FRAME_OVERHEAD;
    int rc = fce_stream_frame_decode(data, avail, max_frame, &frame, &used, err,
                                     sizeof(err));
    if (rc == 0)
        return false;
    if (rc == -EPROTO || rc == -EMSGSIZE) {
        protocol_error(conn,
                       rc == -EMSGSIZE ? REASON_body_too_large
                                       : REASON_stream_protocol,
                       err);
        return true;
    }
    if (!check_sequence(conn, &frame, rc, err))
        return true;
    if (rc == -EBADMSG) {
        char message[200];
        snprintf(message, sizeof(message), "malformed frame: %s", err);
        reject_frame(conn, frame.seq, REASON_stream_protocol, message);
    } else if (!serve_frame(conn, &frame, now_ms)) {
        return false;
    }

    conn_consume(conn, used);
    conn->request_start_ms = 0;
    return true;
}
