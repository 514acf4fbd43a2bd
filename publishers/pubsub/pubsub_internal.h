/*
 * Internal state of the Pub/Sub backend, shared by its files: the records
 * it holds (slots), grouped by ordering key, and the requests in flight.
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
#include "http/fce_http.h"

struct pubsub_key;

/* One accepted record, from publish() until it is completed. */
struct pubsub_slot {
    struct fce_pub_record *record;
    struct pubsub_key *key;
    struct pubsub_slot *next; /* in the key's queue or the free list */
    struct fce_buf message;   /* the rendered PubsubMessage JSON */
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
    size_t bytes;
    uint64_t generation; /* of the token it was sent with */
    struct pubsub_slot *slots[];
};

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
    char *url;
    struct fce_gcp_auth *auth;
    struct fce_http *http;

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

/* pubsub_open.c: checks the settings and opens auth, HTTP and the key
 * table. Returns 0 or a negative errno, logged. */
int pubsub_setup(struct pubsub *ps);

#endif
