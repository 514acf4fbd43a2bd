/*
 * fce_event: validation of Flyte admin event requests and the attributes
 * extracted from them, plus the record that ingest writes to its ring.
 *
 * A request is one of flyteidl.admin.WorkflowExecutionEventRequest,
 * NodeExecutionEventRequest or TaskExecutionEventRequest, as protobuf
 * bytes. Validation rejects what a proto3 parser rejects (truncation, bad
 * varints, lengths past the end, wrong wire types, invalid UTF-8 in string
 * fields) and requests without the fields the CloudEvent needs; unknown
 * fields are accepted and travel inside the data unchanged.
 *
 * No function here logs. Thread-compatible: no global state.
 */
#ifndef FCE_EVENT_H
#define FCE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fce_kind {
    FCE_KIND_WORKFLOW = 1,
    FCE_KIND_NODE = 2,
    FCE_KIND_TASK = 3,
};

#define FCE_KIND_COUNT 3

/* "workflow", "node", "task", or NULL for another value. */
const char *fce_kind_name(enum fce_kind kind);

/* Parses "workflow", "node" or "task". Returns 0 or -EINVAL. */
int fce_kind_parse(const char *text, enum fce_kind *kind);

/* The request's protobuf full name, e.g.
 * "flyteidl.admin.NodeExecutionEventRequest". */
const char *fce_kind_request_name(enum fce_kind kind);

/* Attributes extracted from a valid request. Strings are owned by the
 * struct (NUL-terminated) and freed by fce_event_clear(). */
struct fce_event {
    enum fce_kind kind;
    int32_t phase;   /* the event's phase number */
    bool has_time;   /* occurred_at was set */
    int64_t seconds; /* occurred_at, Unix seconds */
    int32_t nanos;   /* occurred_at, 0..999999999 */
    char *id;        /* CloudEvent id, text format + phase */
    size_t id_len;
    char *partition_key; /* project/domain/name of the execution */
    size_t partition_key_len;
};

/*
 * Decodes and validates a request of the given kind and extracts its
 * attributes into *event (which the caller zero-initialises). Returns 0, or
 * -EINVAL with a short reason in err such as "truncated message" or
 * "event.execution_id missing"; *event is then left empty.
 */
int fce_event_parse(enum fce_kind kind, const uint8_t *data, size_t len,
                    struct fce_event *event, char *err, size_t err_size);

/* Frees the strings of an event filled by fce_event_parse(). */
void fce_event_clear(struct fce_event *event);

/*
 * The record ingest writes to the ingest ring (ring record kind = the
 * fce_kind): a fixed little-endian header, then the id, the partition key
 * and the request bytes exactly as received. A view points into a record
 * and is valid as long as the record is.
 */
struct fce_event_view {
    enum fce_kind kind;
    int32_t phase;
    bool has_time;
    int64_t seconds;
    int32_t nanos;
    const char *id; /* not NUL-terminated */
    size_t id_len;
    const char *partition_key;
    size_t partition_key_len;
    const uint8_t *data; /* the request bytes */
    size_t data_len;
};

/* Bytes fce_event_record_write() needs for this event and data. */
size_t fce_event_record_size(const struct fce_event *event, size_t data_len);

/* Writes the record into dst, which has fce_event_record_size() bytes. */
void fce_event_record_write(void *dst, const struct fce_event *event,
                            const uint8_t *data, size_t data_len);

/* Parses a record. Returns 0, or -EPROTO when it is malformed. */
int fce_event_record_read(const void *src, size_t len, enum fce_kind kind,
                          struct fce_event_view *view);

#endif
