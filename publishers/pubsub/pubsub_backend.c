/*
 * The Pub/Sub backend's callbacks. publish() renders each record into a
 * PubsubMessage once and queues it under its ordering key; dispatch()
 * turns queues into publish requests while the HTTP client has room; the
 * response of each request completes its records.
 *
 * TODO(pubsub): a gRPC transport (HTTP/2, protobuf PublishRequest): the
 * emulator serves REST JSON at about two thirds of the rate it serves the
 * official client's gRPC (docs/benchmarks.md, Pub/Sub).
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
                    const struct fce_http_response *response)
{
    struct fce_gcp_json_value ids;
    const char *body = response->body.data ? response->body.data : "";
    long count = -1;
    if (fce_gcp_json_validate(body, response->body.len) == 0 &&
        fce_gcp_json_find(body, response->body.len, "messageIds", &ids) == 0)
        count = fce_gcp_json_array_count(&ids);
    if (count != (long)req->count)
        fce_warn("pubsub",
                 "publish response lists a different number of "
                 "message ids; counting the messages as delivered",
                 "publisher=%s messages=%zu message_ids=%ld", req->ps->name,
                 req->count, count);

    for (size_t i = 0; i < req->count; i++)
        complete(req->ps, req->slots[i], FCE_OUTCOME_DELIVERED, NULL);
}

/* Reads error.status and error.message of an AIP-193 error body. */
static void read_error(const struct fce_http_response *response, char *status,
                       size_t status_size, char *message, size_t message_size)
{
    const char *body = response->body.data ? response->body.data : "";
    size_t len = response->body.len;
    struct fce_gcp_json_value value;
    status[0] = message[0] = '\0';
    if (fce_gcp_json_validate(body, len) < 0)
        return;
    if (fce_gcp_json_find(body, len, "error.status", &value) == 0)
        fce_gcp_json_string(&value, status, status_size);
    if (fce_gcp_json_find(body, len, "error.message", &value) == 0 &&
        fce_gcp_json_string(&value, message, message_size) == -ERANGE)
        message[0] = '\0';
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
                         const struct fce_http_response *response)
{
    struct pubsub *ps = req->ps;
    char status[64], message[200], reason[300];
    read_error(response, status, sizeof(status), message, sizeof(message));
    snprintf(reason, sizeof(reason), "HTTP %ld%s%s%s%s", response->status,
             status[0] ? " " : "", status, message[0] ? ": " : "", message);

    if (response->status == 401 && !auth_retried(req)) {
        /* An expired or revoked token: one new token, one more try. */
        fce_gcp_auth_invalidate(ps->auth, req->generation);
        fce_log_limited(&auth_limit, 10000, FCE_LOG_WARN, "pubsub",
                        "publish was unauthenticated; refreshing the token "
                        "and retrying once",
                        "publisher=%s reason=%s", ps->name,
                        fce_log_quote(reason));
        requeue(req, false, true);
        return;
    }

    enum fce_pubsub_class cls = fce_pubsub_classify(response->status, status);
    if (cls == FCE_PUBSUB_REJECT && req->count > 1 &&
        strcmp(status, "INVALID_ARGUMENT") == 0) {
        /* One bad message fails the whole request: send each alone so
         * only the bad ones are dead-lettered. */
        requeue(req, true, false);
        return;
    }

    bool retry = cls == FCE_PUBSUB_RETRY;
    fce_log_limited(
        retry ? &retry_limit : &reject_limit, 5000, FCE_LOG_WARN, "pubsub",
        retry ? "publish failed; the events will be retried"
              : "publish rejected; the events go to the "
                "dead-letter file",
        "publisher=%s messages=%zu ordering_key=%s reason=%s", ps->name,
        req->count, fce_log_quote(req->key->name), fce_log_quote(reason));
    fail_request(req, retry ? FCE_OUTCOME_RETRY : FCE_OUTCOME_REJECTED, reason);
}

static void on_response(void *arg, const struct fce_http_response *response)
{
    struct pubsub_request *req = arg;
    struct pubsub *ps = req->ps;
    struct pubsub_key *key = req->key;
    key->in_flight--;

    if (response->error < 0) {
        char reason[300];
        snprintf(reason, sizeof(reason), "%s",
                 response->error_text[0] ? response->error_text
                                         : strerror(-response->error));
        fce_log_limited(&retry_limit, 5000, FCE_LOG_WARN, "pubsub",
                        "publish request failed; the events will be retried",
                        "publisher=%s messages=%zu error=%s", ps->name,
                        req->count, fce_log_quote(reason));
        fail_request(req, FCE_OUTCOME_RETRY, reason);
    } else if (response->status >= 200 && response->status < 300) {
        deliver(req, response);
    } else {
        handle_error(req, response);
    }

    pubsub_key_mark_ready(ps, key);
    pubsub_key_release(ps, key);
    free(req);
}

/* Moves messages from the head of key's queue into ps->body, within the
 * request limits. Returns the request, or NULL when out of memory. */
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

    fce_buf_reset(&ps->body);
    size_t bytes = FCE_PUBSUB_ENVELOPE_BYTES;
    int rc = fce_buf_append_str(&ps->body, "{\"messages\":[");
    while (rc == 0 && key->head && req->count < max) {
        struct pubsub_slot *slot = key->head;
        size_t extra = slot->message.len + (req->count ? 1 : 0);
        if (req->count &&
            (slot->solo || bytes + extra > ps->limits.max_request_bytes))
            break;
        if (req->count)
            rc = fce_buf_append(&ps->body, ",", 1);
        if (rc == 0)
            rc = fce_buf_append(&ps->body, slot->message.data,
                                slot->message.len);
        if (rc < 0)
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
    if (rc == 0)
        rc = fce_buf_append_str(&ps->body, "]}");
    req->bytes = bytes;
    if (rc < 0) {
        pubsub_key_requeue(ps, key, req->slots, req->count);
        free(req);
        return NULL;
    }
    return req;
}

static int submit(struct pubsub *ps, struct pubsub_request *req,
                  const char *auth_header)
{
    const char *headers[2] = {"Content-Type: application/json", auth_header};
    struct fce_http_request request = {
        .method = "POST",
        .url = ps->url,
        .headers = headers,
        .header_count = auth_header ? 2 : 1,
        .body = ps->body.data,
        .body_len = ps->body.len,
    };
    int rc = fce_http_submit(ps->http, &request, on_response, req);
    if (rc < 0)
        return rc;
    req->key->in_flight++;
    return 0;
}

/* Sends requests while the HTTP client has room and keys are ready. */
static void dispatch(struct pubsub *ps)
{
    if (!ps->ready_head || fce_http_capacity(ps->http) == 0)
        return;

    const char *auth_header;
    uint64_t generation;
    char err[300];
    if (fce_gcp_auth_header(ps->auth, &auth_header, &generation, err,
                            sizeof(err)) < 0)
        return; /* the auth module logs and backs off */

    struct pubsub_key *key;
    while (fce_http_capacity(ps->http) > 0 &&
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
    int rc = fce_pubsub_render_message(&record->ce, ps->mode, ps->ordering,
                                       &ps->limits, &ps->scratch,
                                       &slot->message, reason, sizeof(reason));
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
    if (timeout_ms <= 0 || ps->held == 0 || fce_http_in_flight(ps->http))
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
    if (fce_http_in_flight(ps->http) == 0) {
        idle_wait(ps, timeout_ms);
        dispatch(ps);
        return 0;
    }
    int rc = fce_http_poll(ps->http, timeout_ms);
    if (rc < 0) {
        fce_error("pubsub", "HTTP client failed; reopening",
                  "publisher=%s error=%s", ps->name, strerror(-rc));
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
    /* Closing the client drops the requests without their callbacks, so
     * their records are left to the driver, as fce_backend.h specifies. */
    fce_http_close(ps->http);
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
