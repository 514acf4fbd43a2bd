/*
 * fce_ce: the neutral CloudEvent record that the encoder writes for each
 * publisher, and the renderers every publisher shares: structured JSON
 * (application/cloudevents+json) and the binary-mode attribute lists of
 * the Kafka and Pub/Sub bindings.
 *
 * A CloudEvent is an ordered attribute list (name, string value) plus the
 * data bytes and the partition key. The default profile produces, in this
 * order: specversion, id, source, type, subject, time (omitted when the
 * request has no occurred_at), datacontenttype, jsonschemaurl.
 *
 * No function here logs. Thread-compatible: no global state.
 */
#ifndef FCE_CE_H
#define FCE_CE_H

#include <stddef.h>
#include <stdint.h>

#include "fce_buf.h"
#include "fce_event.h"

#define FCE_CE_MAX_ATTRS 16
#define FCE_CE_TIME_MAX  40 /* "9999-12-31T23:59:59.999999999Z" + NUL */

/* Settings of the profile that the encoder renders with. */
struct fce_ce_profile {
    const char *source; /* default "https://github.com/flyteorg/flyteadmin" */
    const char
        *jsonschemaurl; /* default the flyteidl workflow_execution.json URL */
};

/* The default profile's values. */
extern const struct fce_ce_profile fce_ce_default_profile;

struct fce_ce_attr {
    const char *name; /* lowercase a-z0-9, not NUL-terminated */
    size_t name_len;
    const char *value; /* UTF-8, not NUL-terminated */
    size_t value_len;
};

/* A CloudEvent as a view: strings point into an event view, a record or
 * static storage, except time, which fce_ce_from_event() stores in
 * time_text. A struct copy keeps pointing at the original's time_text. */
struct fce_ce {
    enum fce_kind kind;
    size_t attr_count;
    struct fce_ce_attr attrs[FCE_CE_MAX_ATTRS];
    const char *partition_key;
    size_t partition_key_len;
    const uint8_t *data;
    size_t data_len;
    char time_text[FCE_CE_TIME_MAX];
};

/* Builds the CloudEvent of an ingest record under a profile. */
void fce_ce_from_event(const struct fce_event_view *event,
                       const struct fce_ce_profile *profile, struct fce_ce *ce);

/* Returns the value of attribute name, or NULL (and *len untouched). */
const char *fce_ce_attr(const struct fce_ce *ce, const char *name, size_t *len);

/*
 * Formats a timestamp as RFC 3339 UTC with 'Z': no fraction for whole
 * seconds, otherwise the fraction with trailing zeros removed. Writes at
 * most FCE_CE_TIME_MAX bytes including the NUL and returns the length.
 */
size_t fce_ce_format_time(int64_t seconds, int32_t nanos, char *out);

/* ---- the neutral record (encoder -> publisher ring) ---- */

/* Bytes fce_ce_record_write() needs. */
size_t fce_ce_record_size(const struct fce_ce *ce);

/* Writes the record into dst, which has fce_ce_record_size() bytes. */
void fce_ce_record_write(void *dst, const struct fce_ce *ce);

/* Parses a record into a view that points into src. Returns 0 or -EPROTO. */
int fce_ce_record_read(const void *src, size_t len, struct fce_ce *ce);

/* ---- renderers ---- */

/*
 * Appends the structured JSON form: compact, members in attribute order,
 * then "data_base64". Output is valid UTF-8 with every string escaped per
 * RFC 8259. Returns 0 or -ENOMEM.
 */
int fce_ce_render_json(const struct fce_ce *ce, struct fce_buf *out);

/* Upper bound of the bytes fce_ce_render_json() appends. */
size_t fce_ce_json_size_max(const struct fce_ce *ce);

/* Writes the same JSON to out, which has room for fce_ce_json_size_max()
 * bytes, and returns its length. */
size_t fce_ce_write_json(const struct fce_ce *ce, char *out);

enum fce_ce_binding {
    FCE_CE_BINDING_KAFKA,  /* ce_<name>; datacontenttype -> content-type */
    FCE_CE_BINDING_PUBSUB, /* ce-<name>; datacontenttype -> content-type */
};

struct fce_ce_header {
    char name[40];     /* NUL-terminated header or attribute name */
    const char *value; /* not NUL-terminated */
    size_t value_len;
};

struct fce_ce_headers {
    size_t count;
    struct fce_ce_header items[FCE_CE_MAX_ATTRS];
};

/* Fills the binary-mode headers (Kafka) or attributes (Pub/Sub) of ce.
 * Values point into ce. */
void fce_ce_binary_headers(const struct fce_ce *ce, enum fce_ce_binding binding,
                           struct fce_ce_headers *headers);

/* ---- the eventTypes filter ---- */

/* Bit for each kind in an event-type mask. */
#define FCE_EVENT_TYPE_BIT(kind) (1u << (kind))
#define FCE_EVENT_TYPES_ALL                                                    \
    (FCE_EVENT_TYPE_BIT(FCE_KIND_WORKFLOW) |                                   \
     FCE_EVENT_TYPE_BIT(FCE_KIND_NODE) | FCE_EVENT_TYPE_BIT(FCE_KIND_TASK))

/*
 * Adds one FlyteAdmin eventTypes value to *mask: "all" or "*" (all three),
 * "workflow", "node", "task". Returns 0, or -EINVAL for any other value.
 */
int fce_event_types_add(const char *value, unsigned *mask);

#endif
