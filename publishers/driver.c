/*
 * The publisher driver loop. One iteration: release the completed prefix
 * of the window, read what the ring has (up to the window's capacity),
 * make due retries ready, (re)open the backend
 * when it is closed, publish ready batches, release the completed prefix
 * of the window, then wait on the backend (when records are in flight) or
 * on the ring (when they are not) until the next deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "fce_log.h"
#include "fce_ring.h"
#include "fce_stats.h"
#include "window.h"

#define COMPONENT "publisher"

/* Maximum wait of one iteration, so stop flags and stats stay current. */
#define IDLE_WAIT_MS 100
/* Maximum backend poll while the ring may have new records. */
#define BUSY_WAIT_MS    10
#define STATS_TOUCH_MS  1000
#define LOG_INTERVAL_MS 5000

struct counters {
    uint64_t *delivered;
    uint64_t *retried;
    uint64_t *dead_lettered;
    uint64_t *malformed;
    uint64_t *in_flight;
    uint64_t *held;
    uint64_t *batches;
    uint64_t *bytes;
    uint64_t *reopens;
    uint64_t *open_failures;
    uint64_t *last_error_unix_ms;
};

struct driver {
    const struct fce_driver_options *options;
    const struct fce_publisher_config *publisher;
    const struct fce_backend *backend;
    struct fce_backend_ctx ctx;
    void *state; /* the open backend, or NULL */
    struct fce_ring *ring;
    struct fce_window window;
    struct fce_dead_letter dead_letter;
    struct fce_pub_record **batch;
    size_t max_records;
    uint64_t max_bytes;
    uint64_t linger_ms;
    struct fce_stats *stats;
    struct counters counters;
    uint64_t random_state;
    uint32_t open_attempts;
    uint64_t open_due_ms;
    uint64_t touched_ms;
    bool ring_empty;
    bool backend_full; /* the last publish() took less than offered */
    bool config_error;
    int ring_error; /* a ring read failed for a reason other than empty */
    uint64_t delivered, dead_lettered; /* totals of this run, for logs */
};

static uint64_t monotonic_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

static uint64_t unix_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* xorshift64*: jitter needs spread, not unpredictability. */
static uint64_t next_random(struct driver *d)
{
    uint64_t x = d->random_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->random_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void note_error(struct driver *d)
{
    fce_stats_set(d->counters.last_error_unix_ms, unix_ms());
}

/* Returns the record's CloudEvent id as a log field value, quoted and cut
 * to 255 bytes. The copy is static because fce_log_quote() may return its
 * argument unchanged; the driver runs on one thread. */
static const char *record_id(const struct fce_pub_record *record)
{
    static char text[256];
    size_t len = 0;
    const char *id = NULL;

    if (record->ce.attr_count > 0)
        id = fce_ce_attr(&record->ce, "id", &len);
    if (!id)
        return "-";
    if (len >= sizeof(text))
        len = sizeof(text) - 1;
    memcpy(text, id, len);
    text[len] = '\0';
    return fce_log_quote(text);
}

/* ---- completions ---- */

static void schedule_retry(struct driver *d, struct fce_slot *slot,
                           const char *reason)
{
    static struct fce_log_limit limit;
    uint64_t wait = fce_backoff_ms(&d->publisher->retry, slot->record.attempts,
                                   next_random(d));

    fce_window_retry(&d->window, slot, monotonic_ms() + wait);
    fce_stats_add(d->counters.retried, 1);
    note_error(d);
    fce_log_limited(
        &limit, LOG_INTERVAL_MS, FCE_LOG_WARN, COMPONENT, "retrying record",
        "publisher=%s backend=%s id=%s seq=%llu attempt=%u "
        "backoff_ms=%llu reason=%s",
        d->publisher->name, d->publisher->type, record_id(&slot->record),
        (unsigned long long)slot->record.seq, slot->record.attempts,
        (unsigned long long)wait, fce_log_quote(reason ? reason : "unknown"));
}

static void dead_letter(struct driver *d, struct fce_slot *slot,
                        const char *reason)
{
    static struct fce_log_limit limit, failed_limit;
    int rc = fce_dead_letter_write(&d->dead_letter, d->publisher, &slot->record,
                                   slot->malformed, slot->raw,
                                   slot->record.size, reason);

    if (rc < 0) {
        /* Without a dead-letter line the record must stay in the ring. */
        fce_log_limited(
            &failed_limit, LOG_INTERVAL_MS, FCE_LOG_ERROR, COMPONENT,
            "cannot write the dead-letter file; keeping the record",
            "publisher=%s path=%s seq=%llu error=%s", d->publisher->name,
            fce_log_quote(d->dead_letter.path),
            (unsigned long long)slot->record.seq, fce_log_quote(strerror(-rc)));
        schedule_retry(d, slot, "dead-letter write failed");
        return;
    }

    fce_window_done(&d->window, slot);
    fce_stats_add(d->counters.dead_lettered, 1);
    d->dead_lettered++;
    note_error(d);
    fce_log_limited(&limit, LOG_INTERVAL_MS, FCE_LOG_WARN, COMPONENT,
                    "dropped record to the dead-letter file",
                    "publisher=%s backend=%s id=%s seq=%llu attempts=%u "
                    "reason=%s path=%s",
                    d->publisher->name, d->publisher->type,
                    record_id(&slot->record),
                    (unsigned long long)slot->record.seq, slot->record.attempts,
                    fce_log_quote(reason), fce_log_quote(d->dead_letter.path));
}

static void on_complete(void *driver, struct fce_pub_record *record,
                        enum fce_outcome outcome, const char *reason)
{
    static struct fce_log_limit limit;
    struct driver *d = driver;
    struct fce_slot *slot = fce_slot_of(record);
    int64_t max_attempts = d->publisher->retry.max_attempts;
    char text[256];

    if (slot->state != FCE_SLOT_IN_FLIGHT) {
        fce_log_limited(&limit, LOG_INTERVAL_MS, FCE_LOG_ERROR, COMPONENT,
                        "backend completed a record that is not in flight",
                        "publisher=%s backend=%s seq=%llu", d->publisher->name,
                        d->publisher->type, (unsigned long long)record->seq);
        return;
    }

    switch (outcome) {
    case FCE_OUTCOME_DELIVERED:
        fce_window_done(&d->window, slot);
        fce_stats_add(d->counters.delivered, 1);
        fce_stats_add(d->counters.bytes, record->size);
        d->delivered++;
        break;
    case FCE_OUTCOME_RETRY:
        if (max_attempts > 0 && record->attempts >= (uint64_t)max_attempts) {
            snprintf(text, sizeof(text), "gave up after %u attempts: %s",
                     record->attempts, reason ? reason : "unknown");
            dead_letter(d, slot, text);
        } else {
            schedule_retry(d, slot, reason);
        }
        break;
    case FCE_OUTCOME_REJECTED:
    default:
        dead_letter(d, slot, reason ? reason : "rejected");
        break;
    }
}

/* ---- the backend's life cycle ---- */

static void close_backend(struct driver *d)
{
    if (!d->state)
        return;
    d->backend->close(d->state);
    d->state = NULL;
    fce_window_requeue(&d->window);
}

/* Closes a failed backend and schedules its reopening. */
static void fail_backend(struct driver *d, int rc, const char *what)
{
    close_backend(d);
    d->open_attempts = 1;
    d->open_due_ms = monotonic_ms() +
                     fce_backoff_ms(&d->publisher->retry, 1, next_random(d));
    fce_stats_add(d->counters.reopens, 1);
    note_error(d);
    fce_warn(COMPONENT, "backend failed; reopening it",
             "publisher=%s backend=%s step=%s error=%s", d->publisher->name,
             d->publisher->type, what, fce_log_quote(strerror(-rc)));
}

static void open_backend(struct driver *d, uint64_t now)
{
    static struct fce_log_limit limit;
    int rc;

    if (d->state || now < d->open_due_ms)
        return;

    rc = d->backend->open(&d->ctx, &d->state);
    if (rc == 0) {
        fce_info(COMPONENT, "backend open", "publisher=%s backend=%s",
                 d->publisher->name, d->publisher->type);
        d->open_attempts = 0;
        return;
    }

    d->state = NULL;
    if (rc == -EINVAL) {
        d->config_error = true;
        return;
    }
    d->open_attempts++;
    d->open_due_ms = now + fce_backoff_ms(&d->publisher->retry,
                                          d->open_attempts, next_random(d));
    fce_stats_add(d->counters.open_failures, 1);
    note_error(d);
    fce_log_limited(&limit, LOG_INTERVAL_MS, FCE_LOG_WARN, COMPONENT,
                    "cannot open the backend; retrying",
                    "publisher=%s backend=%s attempt=%u error=%s",
                    d->publisher->name, d->publisher->type, d->open_attempts,
                    fce_log_quote(strerror(-rc)));
}

/* ---- reading and publishing ---- */

static void hold_record(struct driver *d, const struct fce_ring_record *record,
                        uint64_t now)
{
    struct fce_slot *slot =
        fce_window_push(&d->window, record->seq, record->end, record->len, now);

    slot->raw = record->data;
    if (fce_ce_record_read(record->data, record->len, &slot->record.ce) != 0)
        slot->malformed = true;
}

/* Reads until one batch of fresh records is held, the window is full or
 * the ring is empty. Reading no further before publishing gets the first
 * batch out at once and renders records while their slots are in cache. */
static void fill_window(struct driver *d, uint64_t now)
{
    struct fce_ring_record record;

    d->ring_empty = false;
    while (!fce_window_full(&d->window) &&
           fce_window_fresh(&d->window) < d->max_records) {
        int rc = fce_ring_read(d->ring, &record);

        if (rc == -EAGAIN) {
            d->ring_empty = true;
            return;
        }
        if (rc != 0) {
            /* A damaged record (-EPROTO) or another process holding the
             * consumer side (-EBUSY) cannot get better by waiting. */
            struct fce_ring_info info;

            fce_ring_info(d->ring, &info);
            fce_error(COMPONENT,
                      "reading the ring failed; stopping so the supervisor "
                      "restarts this publisher",
                      "publisher=%s ring=%s error=%s consumer_pid=%d",
                      d->publisher->name, fce_log_quote(d->options->ring_path),
                      fce_log_quote(strerror(-rc)), (int)info.consumer_pid);
            d->ring_error = rc;
            d->ring_empty = true;
            return;
        }
        hold_record(d, &record, now);
    }
}

static bool batch_due(const struct driver *d, uint64_t now)
{
    const struct fce_window *w = &d->window;
    uint64_t oldest = fce_window_oldest_fresh_ms(w);

    if (w->ready_retries > 0)
        return true;
    if (oldest == UINT64_MAX || fce_window_fresh_held(w))
        return false;
    return fce_window_fresh(w) >= d->max_records ||
           w->fresh_bytes >= d->max_bytes || fce_window_full(w) ||
           now - oldest >= d->linger_ms;
}

/* Dead-letters the malformed records of a batch and returns the count of
 * the others, moved to the front. */
static size_t drop_malformed(struct driver *d, size_t count)
{
    size_t kept = 0;

    for (size_t i = 0; i < count; i++) {
        struct fce_slot *slot = fce_slot_of(d->batch[i]);

        if (slot->malformed) {
            fce_stats_add(d->counters.malformed, 1);
            dead_letter(d, slot, "malformed ring record");
        } else {
            d->batch[kept++] = d->batch[i];
        }
    }
    return kept;
}

/* Publishes batches while they are due and the backend takes them. */
static void publish_ready(struct driver *d, uint64_t now)
{
    d->backend_full = false;
    while (d->state && batch_due(d, now)) {
        size_t count =
            fce_window_take(&d->window, d->batch, d->max_records, d->max_bytes);
        int accepted = 0;

        if (count == 0)
            return;
        fce_window_begin(&d->window, d->batch, count);
        count = drop_malformed(d, count);
        if (count > 0)
            accepted = d->backend->publish(d->state, d->batch, count);
        if (accepted < 0) {
            fce_window_end(&d->window, d->batch, count, 0);
            fail_backend(d, accepted, "publish");
            return;
        }
        fce_window_end(&d->window, d->batch, count, (size_t)accepted);
        if (accepted > 0)
            fce_stats_add(d->counters.batches, 1);
        if ((size_t)accepted < count) {
            d->backend_full = true; /* poll it before the next batch */
            return;
        }
    }
}

static void release_completed(struct driver *d)
{
    struct fce_release_mark mark;

    if (fce_window_release(&d->window, &mark))
        fce_ring_release_counted(d->ring, mark.end, mark.seq, mark.bytes);
    fce_stats_set(d->counters.in_flight, d->window.in_flight);
    fce_stats_set(d->counters.held, fce_window_count(&d->window));
}

/* ---- waiting ---- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Milliseconds until the next deadline of the loop. */
static int next_timeout(const struct driver *d, uint64_t now)
{
    const struct fce_window *w = &d->window;
    uint64_t timeout = IDLE_WAIT_MS;
    uint64_t oldest = fce_window_oldest_fresh_ms(w);

    if (d->state && d->backend_full)
        return BUSY_WAIT_MS; /* what is due waits for room anyway */
    if (oldest != UINT64_MAX && d->state && !fce_window_fresh_held(w))
        timeout = min_u64(timeout, oldest + d->linger_ms > now
                                       ? oldest + d->linger_ms - now
                                       : 0);
    if (w->backoff > 0)
        timeout =
            min_u64(timeout, w->min_due_ms > now ? w->min_due_ms - now : 0);
    if (!d->state)
        timeout =
            min_u64(timeout, d->open_due_ms > now ? d->open_due_ms - now : 0);
    if (w->ready_retries > 0 && d->state && !d->backend_full)
        timeout = 0;
    return (int)timeout;
}

static void wait_for_work(struct driver *d, uint64_t now, bool reading)
{
    struct fce_ring_record record;
    int timeout = next_timeout(d, now);
    int rc = 0;

    if (d->state && d->window.in_flight > 0) {
        /* Completions arrive through poll(); look at the ring often, and
         * at once when the last pass left records in it. */
        if (reading && !fce_window_full(&d->window) && timeout > BUSY_WAIT_MS)
            timeout = BUSY_WAIT_MS;
        if (reading && !d->ring_empty && !fce_window_full(&d->window) &&
            !d->backend_full && !fce_window_fresh_held(&d->window))
            timeout = 0;
        rc = d->backend->poll(d->state, timeout);
    } else {
        if (reading && d->ring_empty && !fce_window_full(&d->window)) {
            if (fce_ring_read_wait(d->ring, &record, timeout) == 0)
                hold_record(d, &record, monotonic_ms());
        } else if (timeout > 0) {
            poll(NULL, 0, timeout);
        }
        if (d->state)
            rc = d->backend->poll(d->state, 0);
    }
    if (rc < 0)
        fail_backend(d, rc, "poll");
}

static void touch_stats(struct driver *d, uint64_t now)
{
    if (d->stats && now - d->touched_ms >= STATS_TOUCH_MS) {
        fce_stats_touch(d->stats);
        d->touched_ms = now;
    }
}

static void handle_hangup(struct driver *d)
{
    int rc;

    *d->options->hangup = 0;
    fce_info(COMPONENT, "reopening files after SIGHUP", "publisher=%s",
             d->publisher->name);
    if (d->dead_letter.fd >= 0) {
        close(d->dead_letter.fd);
        d->dead_letter.fd = -1;
    }
    if (d->state && d->backend->reopen) {
        rc = d->backend->reopen(d->state);
        if (rc < 0)
            fail_backend(d, rc, "reopen");
    }
}

static void run_loop(struct driver *d)
{
    while (!*d->options->stop && !d->config_error && !d->ring_error) {
        uint64_t now = monotonic_ms();

        if (d->options->hangup && *d->options->hangup)
            handle_hangup(d);
        /* Completions of the last wait free room to read into at once. */
        release_completed(d);
        fill_window(d, now);
        fce_window_promote(&d->window, now);
        open_backend(d, now);
        publish_ready(d, now);
        release_completed(d);
        touch_stats(d, now);
        wait_for_work(d, now, true);
    }
}

/* After a stop request: no new records; wait for those in flight. */
static void drain(struct driver *d)
{
    uint64_t timeout = d->options->drain_timeout_ms
                           ? d->options->drain_timeout_ms
                           : FCE_DRIVER_DRAIN_TIMEOUT;
    uint64_t deadline = monotonic_ms() + timeout;
    uint64_t now;

    while (d->state && d->window.in_flight > 0 &&
           (now = monotonic_ms()) < deadline) {
        int rc = d->backend->poll(d->state,
                                  (int)min_u64(deadline - now, IDLE_WAIT_MS));
        if (rc < 0)
            break;
        release_completed(d);
    }
    release_completed(d);
    fce_info(COMPONENT, "stopped",
             "publisher=%s backend=%s delivered=%llu dead_lettered=%llu "
             "left_in_ring=%zu unacknowledged=%zu",
             d->publisher->name, d->publisher->type,
             (unsigned long long)d->delivered,
             (unsigned long long)d->dead_lettered, fce_window_count(&d->window),
             d->window.in_flight);
}

/* ---- setup ---- */

static void open_counters(struct driver *d)
{
    struct counters *c = &d->counters;
    struct fce_stats *s = d->stats;

    if (!s)
        return;
    c->delivered = fce_stats_counter(s, "delivered");
    c->retried = fce_stats_counter(s, "retried");
    c->dead_lettered = fce_stats_counter(s, "dead_lettered");
    c->malformed = fce_stats_counter(s, "malformed");
    c->in_flight = fce_stats_counter(s, "in_flight");
    c->held = fce_stats_counter(s, "held");
    c->batches = fce_stats_counter(s, "batches");
    c->bytes = fce_stats_counter(s, "bytes");
    c->reopens = fce_stats_counter(s, "reopens");
    c->open_failures = fce_stats_counter(s, "open_failures");
    c->last_error_unix_ms = fce_stats_counter(s, "last_error_unix_ms");
}

static void apply_batch_policy(struct driver *d)
{
    const struct fce_batch_policy *batch = &d->publisher->batch;

    d->max_records = batch->max_records > 0 ? (size_t)batch->max_records
                                            : FCE_DRIVER_MAX_RECORDS;
    if (d->max_records > d->window.capacity)
        d->max_records = d->window.capacity;
    d->max_bytes = batch->max_bytes ? batch->max_bytes : FCE_DRIVER_MAX_BYTES;
    d->linger_ms = batch->linger_ms;
}

static char *default_dead_letter_path(const char *ring_path)
{
    size_t len = strlen(ring_path);
    const char *suffix = ".dead-letter.jsonl";
    char *path;

    if (len > 5 && strcmp(ring_path + len - 5, ".ring") == 0)
        len -= 5;
    path = malloc(len + strlen(suffix) + 1);
    if (path) {
        memcpy(path, ring_path, len);
        strcpy(path + len, suffix);
    }
    return path;
}

static int setup(struct driver *d, const struct fce_driver_options *options)
{
    char err[256] = "";
    char *dead_letter_path = NULL;
    size_t capacity = options->max_in_flight ? options->max_in_flight
                                             : FCE_DRIVER_MAX_IN_FLIGHT;
    int rc;

    d->options = options;
    d->publisher = options->publisher;
    d->backend = options->backend;
    d->ctx.publisher = options->publisher;
    d->ctx.settings = options->publisher->settings;
    d->ctx.driver = d;
    d->ctx.complete = on_complete;
    d->random_state =
        ((uint64_t)getpid() << 32) ^ unix_ms() ^ 0x9E3779B97F4A7C15ULL;
    d->dead_letter.fd = -1;

    rc = fce_window_init(&d->window, capacity);
    if (rc)
        return rc;
    apply_batch_policy(d);
    d->batch = calloc(d->max_records, sizeof(d->batch[0]));
    if (!d->batch)
        return -ENOMEM;

    if (!options->dead_letter_path)
        dead_letter_path = default_dead_letter_path(options->ring_path);
    rc = fce_dead_letter_init(&d->dead_letter, options->dead_letter_path
                                                   ? options->dead_letter_path
                                                   : dead_letter_path);
    free(dead_letter_path);
    if (rc)
        return rc;

    if (options->stats_path) {
        rc = fce_stats_open(options->stats_path, d->publisher->name, &d->stats,
                            err, sizeof(err));
        if (rc) {
            fce_error(COMPONENT, "cannot open the stats file",
                      "publisher=%s path=%s error=%s", d->publisher->name,
                      fce_log_quote(options->stats_path), fce_log_quote(err));
            return rc;
        }
        open_counters(d);
    }

    rc = fce_ring_attach(options->ring_path, &d->ring, err, sizeof(err));
    if (rc)
        fce_error(COMPONENT, "cannot attach the ring",
                  "publisher=%s path=%s error=%s", d->publisher->name,
                  fce_log_quote(options->ring_path), fce_log_quote(err));
    return rc;
}

static void teardown(struct driver *d)
{
    close_backend(d);
    if (d->ring)
        fce_ring_detach(d->ring);
    if (d->stats)
        fce_stats_close(d->stats);
    fce_dead_letter_close(&d->dead_letter);
    fce_window_free(&d->window);
    free(d->batch);
}

int fce_driver_run(const struct fce_driver_options *options)
{
    struct driver d = {0};
    int rc = setup(&d, options);

    if (rc)
        goto cleanup;

    fce_info(COMPONENT, "started",
             "publisher=%s backend=%s ring=%s max_records=%zu "
             "max_bytes=%llu linger_ms=%llu max_in_flight=%zu",
             d.publisher->name, d.publisher->type,
             fce_log_quote(options->ring_path), d.max_records,
             (unsigned long long)d.max_bytes, (unsigned long long)d.linger_ms,
             d.window.capacity);
    run_loop(&d);
    if (d.config_error) {
        rc = -EINVAL;
        goto cleanup;
    }
    /* After a ring error, deliver what is already held, then exit 1. */
    drain(&d);
    if (d.ring_error)
        rc = d.ring_error;

cleanup:
    teardown(&d);
    return rc;
}
