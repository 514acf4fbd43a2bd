/*
 * The Pub/Sub backend's callbacks. publish() renders each record into a
 * PubsubMessage once, in the transport's encoding, and queues it under its
 * ordering key; dispatch() turns queues into publish requests while the
 * transport has room; the outcome of each request completes its records.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fce_log.h"
#include "gcp/fce_gcp_json.h"
#include "pubsub_internal.h"

static struct fce_log_limit retry_limit, reject_limit, auth_limit;

static struct pubsub_slot *slot_get(struct pubsub *ps)
{
    struct pubsub_slot *slot = ps->free_slots;
    if (slot) {
        ps->free_slots = slot->next;
    } else {
        slot = calloc(1, sizeof(*slot));
        if (!slot)
            return NULL;
    }
    fce_buf_reset(&slot->message);
    slot->solo = false;
    slot->auth_retried = false;
    slot->next = NULL;
    return slot;
}

static void slot_put(struct pubsub *ps, struct pubsub_slot *slot)
{
    slot->record = NULL;
    slot->key = NULL;
    slot->next = ps->free_slots;
    ps->free_slots = slot;
}

static void complete(struct pubsub *ps, struct pubsub_slot *slot,
                     enum fce_outcome outcome, const char *reason)
{
    struct fce_pub_record *record = slot->record;
    slot_put(ps, slot);
    ps->held--;
    ps->ctx.complete(ps->ctx.driver, record, outcome, reason);
}

/* Whether the driver hands a record back after a RETRY outcome, or
 * dead-letters it because its attempts are used up. */
static bool will_return(const struct pubsub *ps,
                        const struct fce_pub_record *record)
{
    int64_t max = ps->ctx.publisher->retry.max_attempts;
    return max <= 0 || record->attempts < (uint64_t)max;
}

static void fail_request(struct pubsub_request *req, enum fce_outcome outcome,
                         const char *reason)
{
    struct pubsub *ps = req->ps;
    struct pubsub_key *key = req->key;
    uint64_t now = pubsub_now_ms();
    for (size_t i = 0; i < req->count; i++) {
        struct pubsub_slot *slot = req->slots[i];
        /* The later records of the key wait for these to come back. */
        if (ps->ordering && outcome == FCE_OUTCOME_RETRY &&
            will_return(ps, slot->record))
            pubsub_key_block(ps, key, slot->record->seq, now);
        complete(ps, slot, outcome, reason);
    }
}

static void deliver(struct pubsub_request *req,
                    const struct pubsub_result *result)
{
    if (result->message_ids != (long)req->count)
        fce_warn("pubsub",
                 "publish response lists a different number of "
                 "message ids; counting the messages as delivered",
                 "publisher=%s messages=%zu message_ids=%ld reason=%s",
                 req->ps->name, req->count, result->message_ids,
                 fce_log_quote(result->reason));

    for (size_t i = 0; i < req->count; i++)
        complete(req->ps, req->slots[i], FCE_OUTCOME_DELIVERED, NULL);
}

/* Puts a request's records back in front of their key's queue. */
static void requeue(struct pubsub_request *req, bool solo, bool auth_retried)
{
    for (size_t i = 0; i < req->count; i++) {
        req->slots[i]->solo = solo;
        req->slots[i]->auth_retried |= auth_retried;
    }
    pubsub_key_requeue(req->ps, req->key, req->slots, req->count);
}

static bool auth_retried(const struct pubsub_request *req)
{
    for (size_t i = 0; i < req->count; i++)
        if (req->slots[i]->auth_retried)
            return true;
    return false;
}

static void handle_error(struct pubsub_request *req,
                         const struct pubsub_result *result)
{
    struct pubsub *ps = req->ps;
    bool unauthenticated = result->http_status == 401 ||
                           strcmp(result->status, "UNAUTHENTICATED") == 0;
    if (unauthenticated && !auth_retried(req)) {
        /* An expired or revoked token: one new token, one more try. */
        fce_gcp_auth_invalidate(ps->auth, req->generation);
        fce_log_limited(&auth_limit, 10000, FCE_LOG_WARN, "pubsub",
                        "publish was unauthenticated; refreshing the token "
                        "and retrying once",
                        "publisher=%s reason=%s", ps->name,
                        fce_log_quote(result->reason));
        requeue(req, false, true);
        return;
    }

    enum fce_pubsub_class cls =
        fce_pubsub_classify(result->http_status, result->status);
    if (cls == FCE_PUBSUB_REJECT && req->count > 1 &&
        strcmp(result->status, "INVALID_ARGUMENT") == 0) {
        /* One bad message fails the whole request: send each alone so
         * only the bad ones are dead-lettered. */
        requeue(req, true, false);
        return;
    }

    bool retry = cls == FCE_PUBSUB_RETRY;
    fce_log_limited(retry ? &retry_limit : &reject_limit, 5000, FCE_LOG_WARN,
                    "pubsub",
                    retry ? "publish failed; the events will be retried"
                          : "publish rejected; the events go to the "
                            "dead-letter file",
                    "publisher=%s messages=%zu ordering_key=%s reason=%s",
                    ps->name, req->count, fce_log_quote(req->key->name),
                    fce_log_quote(result->reason));
    fail_request(req, retry ? FCE_OUTCOME_RETRY : FCE_OUTCOME_REJECTED,
                 result->reason);
}

void pubsub_request_done(struct pubsub_request *req,
                         const struct pubsub_result *result)
{
    struct pubsub *ps = req->ps;
    struct pubsub_key *key = req->key;
    key->in_flight--;

    if (result->error < 0) {
        fce_log_limited(&retry_limit, 5000, FCE_LOG_WARN, "pubsub",
                        "publish request failed; the events will be retried",
                        "publisher=%s messages=%zu error=%s", ps->name,
                        req->count, fce_log_quote(result->reason));
        fail_request(req, FCE_OUTCOME_RETRY, result->reason);
    } else if (result->ok) {
        deliver(req, result);
    } else {
        handle_error(req, result);
    }

    pubsub_key_mark_ready(ps, key);
    pubsub_key_release(ps, key);
    free(req);
}

/* Takes messages from the head of key's queue, within the request
 * limits. Returns the request, or NULL when out of memory. */
static struct pubsub_request *build_request(struct pubsub *ps,
                                            struct pubsub_key *key)
{
    size_t max =
        ps->max_messages < key->queued ? ps->max_messages : key->queued;
    struct pubsub_request *req =
        malloc(sizeof(*req) + max * sizeof(req->slots[0]));
    if (!req)
        return NULL;
    req->ps = ps;
    req->key = key;
    req->count = 0;

    size_t bytes = ps->transport->envelope_size(ps);
    while (key->head && req->count < max) {
        struct pubsub_slot *slot = key->head;
        size_t extra =
            ps->transport->framed_size(slot->message.len, req->count > 0);
        if (req->count &&
            (slot->solo || bytes + extra > ps->limits.max_request_bytes))
            break;
        key->head = slot->next;
        if (!key->head)
            key->tail = NULL;
        key->queued--;
        req->slots[req->count++] = slot;
        bytes += extra;
        if (slot->solo)
            break;
    }
    req->bytes = bytes;
    return req;
}

static int submit(struct pubsub *ps, struct pubsub_request *req,
                  const char *auth_header)
{
    int rc = ps->transport->submit(ps, req, auth_header);
    if (rc < 0)
        return rc;
    req->key->in_flight++;
    return 0;
}

/* Sends requests while the HTTP client has room and keys are ready. */
static void dispatch(struct pubsub *ps)
{
    if (!ps->ready_head || ps->transport->capacity(ps) == 0)
        return;

    const char *auth_header;
    uint64_t generation;
    char err[300];
    if (fce_gcp_auth_header(ps->auth, &auth_header, &generation, err,
                            sizeof(err)) < 0)
        return; /* the auth module logs and backs off */

    struct pubsub_key *key;
    while (ps->transport->capacity(ps) > 0 &&
           (key = pubsub_key_pop_ready(ps))) {
        if (!pubsub_key_sendable(ps, key))
            continue;
        struct pubsub_request *req = build_request(ps, key);
        if (!req) {
            pubsub_key_mark_ready(ps, key);
            return;
        }
        req->generation = generation;
        if (submit(ps, req, auth_header) < 0) {
            pubsub_key_requeue(ps, key, req->slots, req->count);
            free(req);
            return;
        }
        pubsub_key_mark_ready(ps, key); /* more to send without ordering */
    }
}

/* Renders a record and queues it, or completes it as REJECTED when it
 * breaks a limit. Returns 0 or -ENOMEM. */
static int accept_record(struct pubsub *ps, struct fce_pub_record *record)
{
    struct pubsub_slot *slot = slot_get(ps);
    if (!slot)
        return -ENOMEM;
    slot->record = record;
    ps->held++;

    char reason[256];
    int rc = ps->transport->render(&record->ce, ps->mode, ps->ordering,
                                   &ps->limits, &ps->scratch, &slot->message,
                                   reason, sizeof(reason));
    if (rc == -EMSGSIZE) {
        fce_log_limited(&reject_limit, 5000, FCE_LOG_WARN, "pubsub",
                        "event breaks a Pub/Sub limit; it goes to the "
                        "dead-letter file",
                        "publisher=%s seq=%" PRIu64 " reason=%s", ps->name,
                        record->seq, fce_log_quote(reason));
        complete(ps, slot, FCE_OUTCOME_REJECTED, reason);
        return 0;
    }
    struct pubsub_key *key = NULL;
    if (rc == 0)
        key = pubsub_key_get(ps, record->ce.partition_key,
                             ps->ordering ? record->ce.partition_key_len : 0);
    if (!key) {
        slot_put(ps, slot);
        ps->held--;
        return -ENOMEM;
    }
    pubsub_key_insert(ps, key, slot);
    return 0;
}

static int pubsub_publish(void *state, struct fce_pub_record **records,
                          size_t count)
{
    struct pubsub *ps = state;
    size_t accepted = 0;
    while (accepted < count && ps->held < ps->max_pending) {
        if (accept_record(ps, records[accepted]) < 0)
            break;
        accepted++;
    }
    dispatch(ps);
    return (int)accepted;
}

/* Sleeps up to timeout_ms when records wait but nothing is in flight, so
 * the driver does not spin while a token or a retried key is awaited. */
static void idle_wait(struct pubsub *ps, int timeout_ms)
{
    if (timeout_ms <= 0 || ps->held == 0 || ps->transport->in_flight(ps))
        return;
    int ms = timeout_ms < 100 ? timeout_ms : 100;
    struct timespec ts = {0, (long)ms * 1000000};
    nanosleep(&ts, NULL);
}

static int pubsub_poll(void *state, int timeout_ms)
{
    struct pubsub *ps = state;
    pubsub_keys_check_blocked(ps, pubsub_now_ms());
    dispatch(ps);
    if (ps->transport->in_flight(ps) == 0) {
        idle_wait(ps, timeout_ms);
        dispatch(ps);
        return 0;
    }
    int rc = ps->transport->poll(ps, timeout_ms);
    if (rc < 0) {
        fce_error("pubsub", "transport failed; reopening",
                  "publisher=%s transport=%s error=%s", ps->name,
                  ps->transport->name, strerror(-rc));
        return rc;
    }
    dispatch(ps);
    return 0;
}

static void free_slot_list(struct pubsub_slot *slot)
{
    while (slot) {
        struct pubsub_slot *next = slot->next;
        fce_buf_free(&slot->message);
        free(slot);
        slot = next;
    }
}

static void free_key_queue(struct pubsub_key *key)
{
    free_slot_list(key->head);
    key->head = key->tail = NULL;
}

static void pubsub_close(void *state)
{
    struct pubsub *ps = state;
    if (!ps)
        return;
    /* Closing the transport drops the requests without completing them,
     * so their records are left to the driver, as fce_backend.h says. */
    if (ps->transport)
        ps->transport->close(ps);
    for (size_t i = 0; i < ps->table_size; i++)
        for (struct pubsub_key *k = ps->table[i]; k; k = k->hash_next)
            free_key_queue(k);
    if (ps->shared)
        free_key_queue(ps->shared);
    pubsub_keys_free(ps);
    free_slot_list(ps->free_slots);
    fce_gcp_auth_close(ps->auth);
    fce_buf_free(&ps->scratch);
    fce_buf_free(&ps->body);
    free(ps->url);
    free(ps->topic_path);
    free(ps);
}

static int pubsub_open(const struct fce_backend_ctx *ctx, void **state)
{
    struct pubsub *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return -ENOMEM;
    ps->ctx = *ctx;
    ps->settings = ctx->settings;
    ps->name = ctx->publisher->name ? ctx->publisher->name : "pubsub";

    int rc = pubsub_setup(ps);
    if (rc < 0) {
        pubsub_close(ps);
        return rc;
    }
    *state = ps;
    return 0;
}

const struct fce_backend fce_pubsub_backend = {
    .type = &fce_pubsub_type,
    .open = pubsub_open,
    .publish = pubsub_publish,
    .poll = pubsub_poll,
    .close = pubsub_close,
};
