/*
 * Unit tests of the publisher driver: the window's completion tracking,
 * the backoff computation, and the whole loop over a real ring with a test
 * backend that completes records out of order, retries and rejects.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "driver.h"
#include "fce_ring.h"
#include "fce_stats.h"
#include "window.h"

/* ---- window ---- */

static void push_n(struct fce_window *w, size_t n, uint64_t now)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = w->next + 1;

        fce_window_push(w, seq, seq * 100, 10, now);
    }
}

static void window_releases_prefix_only(void **unused)
{
    struct fce_window w;
    struct fce_pub_record *batch[8];
    struct fce_release_mark mark = {0};

    (void)unused;
    assert_int_equal(fce_window_init(&w, 8), 0);
    push_n(&w, 4, 0);
    assert_int_equal(fce_window_take(&w, batch, 8, 1000), 4);
    fce_window_begin(&w, batch, 4);
    fce_window_end(&w, batch, 4, 4);
    assert_int_equal(w.in_flight, 4);

    /* Records 2 and 4 complete first: nothing can be released. */
    fce_window_done(&w, fce_slot_of(batch[1]));
    fce_window_done(&w, fce_slot_of(batch[3]));
    assert_false(fce_window_release(&w, &mark));

    /* Record 1 completes: the tail moves past 1 and 2 only. */
    fce_window_done(&w, fce_slot_of(batch[0]));
    assert_true(fce_window_release(&w, &mark));
    assert_int_equal(mark.end, 200);
    assert_int_equal(mark.seq, 2);
    assert_int_equal(mark.bytes, 20);
    assert_int_equal(fce_window_count(&w), 2);

    fce_window_done(&w, fce_slot_of(batch[2]));
    assert_true(fce_window_release(&w, &mark));
    assert_int_equal(mark.end, 400);
    assert_int_equal(mark.seq, 4);
    assert_int_equal(mark.bytes, 20);
    assert_int_equal(fce_window_count(&w), 0);
    assert_int_equal(w.in_flight, 0);
    fce_window_free(&w);
}

static void window_batches_by_count_and_bytes(void **unused)
{
    struct fce_window w;
    struct fce_pub_record *batch[16];

    (void)unused;
    assert_int_equal(fce_window_init(&w, 16), 0);
    push_n(&w, 10, 0);
    assert_int_equal(w.fresh_bytes, 100);
    assert_int_equal(fce_window_take(&w, batch, 3, 1000), 3);
    assert_int_equal(fce_window_take(&w, batch, 16, 45), 4);
    /* A first record larger than max_bytes still goes alone. */
    assert_int_equal(fce_window_take(&w, batch, 16, 5), 1);
    fce_window_free(&w);
}

static void window_unaccepted_return_to_cursor(void **unused)
{
    struct fce_window w;
    struct fce_pub_record *batch[8];

    (void)unused;
    assert_int_equal(fce_window_init(&w, 8), 0);
    push_n(&w, 6, 0);
    assert_int_equal(fce_window_take(&w, batch, 8, 1000), 6);
    fce_window_begin(&w, batch, 6);
    assert_int_equal(fce_window_fresh(&w), 0);
    fce_window_end(&w, batch, 6, 2); /* the backend took two */
    assert_int_equal(w.in_flight, 2);
    assert_int_equal(fce_window_fresh(&w), 4);
    assert_int_equal(w.fresh_bytes, 40);
    assert_int_equal(w.ready_retries, 0);
    assert_int_equal(fce_window_take(&w, batch, 8, 1000), 4);
    assert_int_equal(batch[0]->seq, 3);
    assert_int_equal(batch[0]->attempts, 0);
    fce_window_free(&w);
}

static void window_retries_come_first(void **unused)
{
    struct fce_window w;
    struct fce_pub_record *batch[8];

    (void)unused;
    assert_int_equal(fce_window_init(&w, 8), 0);
    push_n(&w, 3, 0);
    fce_window_take(&w, batch, 8, 1000);
    fce_window_begin(&w, batch, 3);
    fce_window_end(&w, batch, 3, 3);

    fce_window_retry(&w, fce_slot_of(batch[1]), 50);
    fce_window_done(&w, fce_slot_of(batch[0]));
    fce_window_done(&w, fce_slot_of(batch[2]));
    push_n(&w, 2, 10);
    assert_int_equal(fce_window_promote(&w, 49), 0);
    assert_int_equal(fce_window_promote(&w, 50), 1);

    assert_int_equal(fce_window_take(&w, batch, 8, 1000), 3);
    assert_int_equal(batch[0]->seq, 2);
    assert_int_equal(batch[0]->attempts, 1);
    assert_int_equal(batch[1]->seq, 4);
    assert_int_equal(batch[2]->seq, 5);
    fce_window_free(&w);
}

/* Publishes all fresh records of w as one batch and returns the count. */
static size_t publish_fresh(struct fce_window *w, struct fce_pub_record **batch,
                            size_t max)
{
    size_t count = fce_window_take(w, batch, max, 100000);

    fce_window_begin(w, batch, count);
    fce_window_end(w, batch, count, count);
    return count;
}

static void window_promotes_in_ring_order(void **unused)
{
    struct fce_window w;
    struct fce_pub_record *batch[8];

    (void)unused;
    assert_int_equal(fce_window_init(&w, 8), 0);
    push_n(&w, 3, 0);
    assert_int_equal(publish_fresh(&w, batch, 8), 3);

    /* Jitter gave the newer record the earlier due time. */
    fce_window_retry(&w, fce_slot_of(batch[0]), 80);
    fce_window_retry(&w, fce_slot_of(batch[1]), 40);
    fce_window_done(&w, fce_slot_of(batch[2]));
    assert_int_equal(fce_window_promote(&w, 50), 0);
    assert_int_equal(w.ready_retries, 0);
    assert_int_equal(w.min_due_ms, 80);

    assert_int_equal(fce_window_promote(&w, 80), 2);
    assert_int_equal(fce_window_take(&w, batch, 8, 1000), 2);
    assert_int_equal(batch[0]->seq, 1);
    assert_int_equal(batch[1]->seq, 2);
    fce_window_free(&w);
}

static void window_holds_fresh_during_backoff(void **unused)
{
    struct fce_window w;
    struct fce_pub_record *batch[8];

    (void)unused;
    assert_int_equal(fce_window_init(&w, 8), 0);
    push_n(&w, 2, 0);
    assert_int_equal(publish_fresh(&w, batch, 8), 2);
    fce_window_retry(&w, fce_slot_of(batch[0]), 100);
    fce_window_done(&w, fce_slot_of(batch[1]));
    push_n(&w, 3, 10);

    /* Fresh records 3..5 wait: they may share a key with record 1. */
    assert_true(fce_window_fresh_held(&w));
    assert_int_equal(fce_window_take(&w, batch, 8, 1000), 0);

    assert_int_equal(fce_window_promote(&w, 100), 1);
    assert_false(fce_window_fresh_held(&w));
    assert_int_equal(fce_window_take(&w, batch, 8, 1000), 4);
    assert_int_equal(batch[0]->seq, 1);
    assert_int_equal(batch[1]->seq, 3);
    assert_int_equal(batch[3]->seq, 5);
    fce_window_free(&w);
}

static void window_leftover_retries_go_first(void **unused)
{
    struct fce_window w;
    struct fce_pub_record *batch[8];

    (void)unused;
    assert_int_equal(fce_window_init(&w, 8), 0);
    push_n(&w, 3, 0); /* 10 bytes each */
    assert_int_equal(publish_fresh(&w, batch, 8), 3);
    for (size_t i = 0; i < 3; i++)
        fce_window_retry(&w, fce_slot_of(batch[i]), 10);
    fce_window_push(&w, 4, 400, 1, 5); /* small enough to fit */
    fce_window_push(&w, 5, 500, 1, 5);
    assert_int_equal(fce_window_promote(&w, 10), 3);

    /* 25 bytes hold two retries. The third retry does not fit, and the
     * fresh records, which would, wait behind it for the next batch. */
    assert_int_equal(fce_window_take(&w, batch, 8, 25), 2);
    assert_int_equal(batch[1]->seq, 2);
    fce_window_begin(&w, batch, 2);
    fce_window_end(&w, batch, 2, 2);
    assert_int_equal(fce_window_take(&w, batch, 8, 25), 3);
    assert_int_equal(batch[0]->seq, 3);
    assert_int_equal(batch[1]->seq, 4);
    assert_int_equal(batch[2]->seq, 5);
    fce_window_free(&w);
}

static void window_requeue_after_reopen(void **unused)
{
    struct fce_window w;
    struct fce_pub_record *batch[8];
    struct fce_release_mark mark;

    (void)unused;
    assert_int_equal(fce_window_init(&w, 8), 0);
    push_n(&w, 4, 0);
    fce_window_take(&w, batch, 8, 1000);
    fce_window_begin(&w, batch, 4);
    fce_window_end(&w, batch, 4, 4);
    fce_window_done(&w, fce_slot_of(batch[0]));
    fce_window_requeue(&w);
    assert_int_equal(w.in_flight, 0);
    assert_int_equal(w.ready_retries, 3);
    assert_true(fce_window_release(&w, &mark));
    assert_int_equal(mark.end, 100);
    assert_int_equal(mark.seq, 1);
    assert_int_equal(fce_window_take(&w, batch, 8, 1000), 3);
    assert_int_equal(batch[0]->seq, 2);
    assert_int_equal(batch[2]->seq, 4);
    fce_window_free(&w);
}

/* ---- backoff ---- */

static void backoff_grows_and_caps(void **unused)
{
    struct fce_retry_policy policy = {
        .initial_ms = 100, .max_ms = 1000, .multiplier_pct = 200};

    (void)unused;
    assert_int_equal(fce_backoff_ms(&policy, 1, 0), 100);
    assert_int_equal(fce_backoff_ms(&policy, 2, 0), 200);
    assert_int_equal(fce_backoff_ms(&policy, 4, 0), 800);
    assert_int_equal(fce_backoff_ms(&policy, 5, 0), 1000);
    assert_int_equal(fce_backoff_ms(&policy, 4000000000u, 0), 1000);
}

static void backoff_jitter_stays_in_range(void **unused)
{
    struct fce_retry_policy policy = {.initial_ms = 1000,
                                      .max_ms = 10000,
                                      .multiplier_pct = 150,
                                      .jitter_pct = 20};
    uint64_t low = UINT64_MAX, high = 0;

    (void)unused;
    for (uint64_t r = 0; r < 5000; r++) {
        uint64_t wait = fce_backoff_ms(&policy, 1, r * 2654435761u);

        low = wait < low ? wait : low;
        high = wait > high ? wait : high;
    }
    assert_true(low >= 800);
    assert_true(high <= 1200);
    assert_true(high - low > 300); /* it does spread */
    /* At the cap, jitter never goes above max. */
    assert_true(fce_backoff_ms(&policy, 50, 12345) <= 10000);
}

static void backoff_defaults_for_zero(void **unused)
{
    struct fce_retry_policy policy = {0};

    (void)unused;
    assert_int_equal(fce_backoff_ms(&policy, 1, 0), FCE_DRIVER_RETRY_INITIAL);
    assert_int_equal(fce_backoff_ms(&policy, 100, 0), FCE_DRIVER_RETRY_MAX);
}

/* ---- the loop, with a test backend ---- */

/* Completes records from poll() in reverse order of arrival; the first
 * attempt of every fifth record is retried, every seventh is rejected. */
struct test_backend {
    const struct fce_backend_ctx *ctx;
    struct fce_pub_record *held[64];
    size_t count;
    size_t capacity; /* records it takes before it is full */
};

static struct {
    uint64_t delivered, retried, rejected, published, opens;
    volatile sig_atomic_t stop;
    uint64_t target;
} run;

static int test_open(const struct fce_backend_ctx *ctx, void **state)
{
    struct test_backend *b = calloc(1, sizeof(*b));

    b->ctx = ctx;
    b->capacity = 5;
    run.opens++;
    *state = b;
    return 0;
}

static int test_publish(void *state, struct fce_pub_record **records,
                        size_t count)
{
    struct test_backend *b = state;
    size_t taken = 0;

    while (taken < count && b->count < b->capacity)
        b->held[b->count++] = records[taken++];
    run.published += taken;
    return (int)taken;
}

static int test_poll(void *state, int timeout_ms)
{
    struct test_backend *b = state;

    (void)timeout_ms;
    while (b->count > 0) {
        struct fce_pub_record *r = b->held[--b->count];
        enum fce_outcome outcome = FCE_OUTCOME_DELIVERED;

        if (r->seq % 7 == 0)
            outcome = FCE_OUTCOME_REJECTED;
        else if (r->seq % 5 == 0 && r->attempts == 1)
            outcome = FCE_OUTCOME_RETRY;
        run.delivered += outcome == FCE_OUTCOME_DELIVERED;
        run.retried += outcome == FCE_OUTCOME_RETRY;
        run.rejected += outcome == FCE_OUTCOME_REJECTED;
        b->ctx->complete(b->ctx->driver, r, outcome, "test outcome");
    }
    if (run.delivered + run.rejected >= run.target)
        run.stop = 1;
    return 0;
}

static void test_close(void *state)
{
    free(state);
}

static const struct fce_backend_type test_type = {.name = "test"};
static const struct fce_backend test_backend = {
    .type = &test_type,
    .open = test_open,
    .publish = test_publish,
    .poll = test_poll,
    .close = test_close,
};

static const char garbage[] = "not a CloudEvent record";

/* Writes count records; those whose seq is in bad[] hold garbage. */
static void fill_ring_with(const char *path, size_t count, const uint64_t *bad,
                           size_t bad_count)
{
    struct fce_ring *ring;
    char err[256];

    assert_int_equal(fce_ring_create(path, 1 << 20, 4096, err, sizeof(err)), 0);
    assert_int_equal(fce_ring_attach(path, &ring, err, sizeof(err)), 0);
    for (size_t i = 0; i < count; i++) {
        bool is_bad = false;

        for (size_t b = 0; b < bad_count; b++)
            is_bad = is_bad || bad[b] == i + 1;
        if (is_bad) {
            void *payload = fce_ring_reserve(ring, sizeof(garbage));

            assert_non_null(payload);
            memcpy(payload, garbage, sizeof(garbage));
            fce_ring_commit(ring, FCE_KIND_WORKFLOW, sizeof(garbage));
            continue;
        }
        struct fce_ce ce = {.kind = FCE_KIND_WORKFLOW,
                            .attr_count = 1,
                            .attrs = {{"id", 2, "x", 1}},
                            .partition_key = "p/d/n",
                            .partition_key_len = 5,
                            .data = (const uint8_t *)"data",
                            .data_len = 4};
        size_t size = fce_ce_record_size(&ce);
        void *payload = fce_ring_reserve(ring, (uint32_t)size);

        assert_non_null(payload);
        fce_ce_record_write(payload, &ce);
        fce_ring_commit(ring, FCE_KIND_WORKFLOW, (uint32_t)size);
    }
    fce_ring_detach(ring);
}

static void fill_ring(const char *path, size_t count)
{
    fill_ring_with(path, count, NULL, 0);
}

static uint64_t counter(const struct fce_stats_snapshot *snapshot,
                        const char *name)
{
    for (size_t i = 0; i < snapshot->count; i++)
        if (strcmp(snapshot->entries[i].name, name) == 0)
            return snapshot->entries[i].value;
    fail_msg("counter %s is missing from the stats file", name);
    return 0;
}

static void loop_completes_every_record(void **unused)
{
    char folder[] = "/tmp/fce-driver-XXXXXX";
    char ring_path[128], dead_path[128], line[8192];
    struct fce_publisher_config publisher = {
        .name = "test",
        .type = "test",
        .retry = {.initial_ms = 1, .max_ms = 5, .multiplier_pct = 200},
        .batch = {.max_records = 3, .max_bytes = 1 << 20, .linger_ms = 0},
    };
    struct fce_driver_options options = {0};
    struct fce_ring_info info;
    size_t lines = 0;
    FILE *dead;
    char err[256];

    (void)unused;
    assert_non_null(mkdtemp(folder));
    snprintf(ring_path, sizeof(ring_path), "%s/test.ring", folder);
    snprintf(dead_path, sizeof(dead_path), "%s/dead.jsonl", folder);
    fill_ring(ring_path, 40);
    memset(&run, 0, sizeof(run));
    run.target = 40;

    options.publisher = &publisher;
    options.backend = &test_backend;
    options.ring_path = ring_path;
    options.dead_letter_path = dead_path;
    options.max_in_flight = 16;
    options.stop = &run.stop;
    /* No stats_path: the counters stay NULL and updating them is a no-op. */
    assert_int_equal(fce_driver_run(&options), 0);

    /* seq 7, 14, 21, 28, 35 rejected; 5, 10, ... retried once each. */
    assert_int_equal(run.rejected, 5);
    assert_int_equal(run.delivered, 35);
    /* 5 10 15 20 25 30 40; 35 is rejected first. */
    assert_int_equal(run.retried, 7);
    assert_int_equal(run.published, 47);

    /* Every record was released, so the ring is empty. */
    assert_int_equal(fce_ring_inspect(ring_path, &info, err, sizeof(err)), 0);
    assert_int_equal(info.records_out, 40);
    assert_int_equal(info.used, 0);

    dead = fopen(dead_path, "r");
    assert_non_null(dead);
    while (fgets(line, sizeof(line), dead)) {
        assert_non_null(strstr(line, "\"reason\":\"test outcome\""));
        assert_non_null(strstr(line, "\"publisher\":\"test\""));
        assert_non_null(strstr(line, "\"event\":{"));
        lines++;
    }
    fclose(dead);
    assert_int_equal(lines, 5);

    unlink(ring_path);
    unlink(dead_path);
    rmdir(folder);
}

static void loop_dead_letters_malformed_records(void **unused)
{
    char folder[] = "/tmp/fce-driver-XXXXXX";
    char ring_path[128], dead_path[128], stats_path[128], line[8192];
    const uint64_t bad[] = {2, 4};
    struct fce_publisher_config publisher = {
        .name = "test",
        .type = "test",
        .retry = {.initial_ms = 1, .max_ms = 5, .multiplier_pct = 200},
        .batch = {.max_records = 8, .max_bytes = 1 << 20},
    };
    struct fce_driver_options options = {0};
    static struct fce_stats_snapshot snapshot;
    struct fce_ce ce;
    size_t lines = 0;
    FILE *dead;
    char err[256];

    (void)unused;
    assert_int_not_equal(fce_ce_record_read(garbage, sizeof(garbage), &ce), 0);
    assert_non_null(mkdtemp(folder));
    snprintf(ring_path, sizeof(ring_path), "%s/test.ring", folder);
    snprintf(dead_path, sizeof(dead_path), "%s/dead.jsonl", folder);
    snprintf(stats_path, sizeof(stats_path), "%s/test.stats", folder);
    fill_ring_with(ring_path, 5, bad, 2);
    memset(&run, 0, sizeof(run));
    run.target = 3; /* seq 1, 3 and 5; 5 after one retry */

    options.publisher = &publisher;
    options.backend = &test_backend;
    options.ring_path = ring_path;
    options.dead_letter_path = dead_path;
    options.stats_path = stats_path;
    options.stop = &run.stop;
    assert_int_equal(fce_driver_run(&options), 0);
    assert_int_equal(run.delivered, 3);
    assert_int_equal(run.published, 4); /* the garbage never reaches it */

    /* The malformed records are kept whole, in base64. */
    dead = fopen(dead_path, "r");
    assert_non_null(dead);
    while (fgets(line, sizeof(line), dead)) {
        assert_non_null(strstr(line, "\"reason\":\"malformed ring record\""));
        assert_non_null(
            strstr(line, "\"record_base64\":\"bm90IGEgQ2xvdWRFdmVudCBy"));
        assert_null(strstr(line, "\"event\""));
        lines++;
    }
    fclose(dead);
    assert_int_equal(lines, 2);

    assert_int_equal(fce_stats_read(stats_path, &snapshot, err, sizeof(err)),
                     0);
    assert_string_equal(snapshot.process, "test");
    assert_int_equal(counter(&snapshot, "delivered"), 3);
    assert_int_equal(counter(&snapshot, "dead_lettered"), 2);
    assert_int_equal(counter(&snapshot, "malformed"), 2);
    assert_int_equal(counter(&snapshot, "retried"), 1);
    assert_int_equal(counter(&snapshot, "in_flight"), 0);
    assert_int_equal(counter(&snapshot, "held"), 0);
    assert_int_equal(counter(&snapshot, "reopens"), 0);
    assert_int_equal(counter(&snapshot, "open_failures"), 0);
    assert_true(counter(&snapshot, "batches") >= 2);
    assert_true(counter(&snapshot, "bytes") > 0);
    assert_true(counter(&snapshot, "last_error_unix_ms") > 0);

    unlink(ring_path);
    unlink(dead_path);
    unlink(stats_path);
    rmdir(folder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_releases_prefix_only),
        cmocka_unit_test(window_batches_by_count_and_bytes),
        cmocka_unit_test(window_unaccepted_return_to_cursor),
        cmocka_unit_test(window_retries_come_first),
        cmocka_unit_test(window_promotes_in_ring_order),
        cmocka_unit_test(window_holds_fresh_during_backoff),
        cmocka_unit_test(window_leftover_retries_go_first),
        cmocka_unit_test(window_requeue_after_reopen),
        cmocka_unit_test(backoff_grows_and_caps),
        cmocka_unit_test(backoff_jitter_stays_in_range),
        cmocka_unit_test(backoff_defaults_for_zero),
        cmocka_unit_test(loop_completes_every_record),
        cmocka_unit_test(loop_dead_letters_malformed_records),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
