/*
 * Internal state of the Pub/Sub backend, shared by its files: the records
 * it holds (slots), grouped by ordering key, the requests in flight, and
 * the transport (REST or gRPC) that carries them.
 */
#ifndef FCE_PUBSUB_INTERNAL_H
#define FCE_PUBSUB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fce_backend.h"
#include "fce_buf.h"
#include "fce_pubsub.h"
#include "gcp/fce_gcp_auth.h"

struct pubsub_key;

/* One accepted record, from publish() until it is completed. */
struct pubsub_slot {
    struct fce_pub_record *record;
    struct pubsub_key *key;
    struct pubsub_slot *next; /* in the key's queue or the free list */
    struct fce_buf message;   /* the PubsubMessage in the transport's
                               * encoding: JSON or protobuf */
    bool solo;                /* send alone (isolating a rejected batch) */
    bool auth_retried;        /* already resent once after a 401 */
};

/*
 * The records of one ordering key (or, without ordering, of all records)
 * that wait to be sent, in ring order. With ordering, at most one request
 * per key is in flight, and after a failed request the key waits until
 * the driver hands back the failed records (blocked), so that no later
 * record overtakes them.
 */
struct pubsub_key {
    char *name;
    size_t name_len;
    uint64_t hash;
    struct pubsub_key *hash_next;
    struct pubsub_slot *head, *tail;
    size_t queued;
    size_t in_flight;  /* requests; at most 1 with ordering */
    uint64_t *blocked; /* seqs of failed records the driver will retry */
    size_t blocked_count, blocked_cap;
    uint64_t blocked_since_ms;
    bool ready; /* in the ready list */
    struct pubsub_key *ready_next;
};

struct pubsub_request {
    struct pubsub *ps;
    struct pubsub_key *key;
    size_t count;
    size_t bytes;        /* request bytes as the transport counts them */
    uint64_t generation; /* of the token it was sent with */
    struct pubsub_slot *slots[];
};

/* The outcome of one publish request, in either transport. */
struct pubsub_result {
    int error;          /* negative errno when no response arrived */
    bool ok;            /* HTTP 2xx (REST) or grpc-status 0 (gRPC) */
    long http_status;   /* 0 without a response */
    const char *status; /* status name such as "UNAVAILABLE", or "" */
    long message_ids;   /* ids in a successful response; -1 unreadable */
    const char *reason; /* for logs and the dead-letter file */
};

struct pubsub;

/*
 * A wire protocol for publish requests. Each message is rendered once by
 * render() when the record arrives; submit() frames the messages of a
 * request, sends it with the auth header (NULL: none) and later hands the
 * outcome to pubsub_request_done() from inside poll(). open() sets ps->url
 * and ps->conn; close() drops requests in flight without completing them.
 */
struct pubsub_transport {
    const char *name;
    int (*render)(const struct fce_ce *ce, enum fce_content_mode mode,
                  bool ordering, const struct fce_pubsub_limits *limits,
                  struct fce_buf *scratch, struct fce_buf *out, char *reason,
                  size_t reason_size);
    /* Request bytes around the messages, and the bytes one message of
     * message_len adds to a request that already contains others (later). */
    size_t (*envelope_size)(const struct pubsub *ps);
    size_t (*framed_size)(size_t message_len, bool later);
    int (*open)(struct pubsub *ps, char *err, size_t err_size);
    void (*close)(struct pubsub *ps);
    int (*submit)(struct pubsub *ps, struct pubsub_request *req,
                  const char *auth_header);
    size_t (*capacity)(const struct pubsub *ps);
    size_t (*in_flight)(const struct pubsub *ps);
    /* Returns 0, or a negative errno when the transport must be reopened. */
    int (*poll)(struct pubsub *ps, int timeout_ms);
};

extern const struct pubsub_transport pubsub_rest_transport;
extern const struct pubsub_transport pubsub_grpc_transport;

struct pubsub {
    struct fce_backend_ctx ctx;
    const struct fce_pubsub_settings *settings;
    const char *name; /* publisher name, for logs */
    struct fce_pubsub_limits limits;
    enum fce_content_mode mode;
    bool ordering;
    size_t max_messages;
    size_t max_pending;
    uint64_t resume_ms;
    const struct pubsub_transport *transport;
    const char *emulator; /* host:port of an emulator, or NULL */
    char *topic_path;     /* projects/P/topics/T */
    char *url;            /* where requests go, for logs */
    void *conn;           /* the transport's state */
    struct fce_gcp_auth *auth;

    struct pubsub_key **table;
    size_t table_size;
    size_t key_count;
    struct pubsub_key *shared; /* without ordering: the only key */
    struct pubsub_key *ready_head, *ready_tail;
    size_t blocked_keys;
    uint64_t next_block_check_ms;

    struct pubsub_slot *free_slots;
    size_t held; /* accepted and not yet completed */
    struct fce_buf scratch;
    struct fce_buf body;
};

/* pubsub_keys.c: the key table, queues and the ready list. */
int pubsub_keys_init(struct pubsub *ps);
void pubsub_keys_free(struct pubsub *ps);
struct pubsub_key *pubsub_key_get(struct pubsub *ps, const char *name,
                                  size_t len);
void pubsub_key_release(struct pubsub *ps, struct pubsub_key *key);
void pubsub_key_insert(struct pubsub *ps, struct pubsub_key *key,
                       struct pubsub_slot *slot);
void pubsub_key_requeue(struct pubsub *ps, struct pubsub_key *key,
                        struct pubsub_slot **slots, size_t count);
int pubsub_key_block(struct pubsub *ps, struct pubsub_key *key, uint64_t seq,
                     uint64_t now_ms);
bool pubsub_key_sendable(const struct pubsub *ps, const struct pubsub_key *key);
void pubsub_key_mark_ready(struct pubsub *ps, struct pubsub_key *key);
struct pubsub_key *pubsub_key_pop_ready(struct pubsub *ps);
void pubsub_keys_check_blocked(struct pubsub *ps, uint64_t now_ms);

uint64_t pubsub_now_ms(void);

/* pubsub_open.c: checks the settings and opens auth, the transport and
 * the key table. Returns 0 or a negative errno, logged. */
int pubsub_setup(struct pubsub *ps);

/* pubsub_open.c: the API base URL (scheme://host[:port][/path]) without a
 * trailing slash, from the emulator host or the endpoint setting. Returns
 * 0 or -ENOMEM. */
int pubsub_base_url(const struct pubsub *ps, struct fce_buf *url);

/* pubsub_open.c: appends text percent-encoded as one URL path segment
 * (every byte but letters, digits and - . _ ~). Returns 0 or -ENOMEM. */
int pubsub_append_segment(struct fce_buf *out, const char *text);

/* pubsub_backend.c: completes or requeues the records of a finished
 * request; the transports call it from poll(), then free nothing of req. */
void pubsub_request_done(struct pubsub_request *req,
                         const struct pubsub_result *result);

#endif
