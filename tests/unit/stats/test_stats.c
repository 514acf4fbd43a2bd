/* Unit tests of the stats files: counters, reopen, readers, bad files. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fce_stats.h"

struct fixture {
    char dir[256];
    char path[320];
    char err[512];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/dev/shm/fce-stats-test.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof(fx->path), "%s/encoder.stats", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char command[400];

    snprintf(command, sizeof(command), "rm -rf '%s'", fx->dir);
    if (system(command) != 0)
        fprintf(stderr, "# could not remove %s\n", fx->dir);
    free(fx);
    return 0;
}

static struct fce_stats *open_stats(struct fixture *fx, const char *process)
{
    struct fce_stats *stats = NULL;

    if (fce_stats_open(fx->path, process, &stats, fx->err, sizeof(fx->err)))
        fail_msg("fce_stats_open: %s", fx->err);
    return stats;
}

static const struct fce_stats_entry *
find_entry(const struct fce_stats_snapshot *snapshot, const char *name)
{
    for (size_t i = 0; i < snapshot->count; i++)
        if (strcmp(snapshot->entries[i].name, name) == 0)
            return &snapshot->entries[i];
    return NULL;
}

static void test_counters_and_snapshot(void **state)
{
    struct fixture *fx = *state;
    struct fce_stats *stats = open_stats(fx, "encoder");
    struct fce_stats_snapshot snapshot;
    uint64_t *records = fce_stats_counter(stats, "records_in");
    uint64_t *fill = fce_stats_counter(stats, "ring_fill_bytes");

    assert_non_null(records);
    assert_non_null(fill);
    assert_ptr_equal(fce_stats_counter(stats, "records_in"), records);
    fce_stats_add(records, 5);
    fce_stats_add(records, 2);
    fce_stats_set(fill, 1234);
    fce_stats_set(fill, 99);
    fce_stats_add(NULL, 1); /* a missing counter is ignored */

    assert_int_equal(
        fce_stats_read(fx->path, &snapshot, fx->err, sizeof(fx->err)), 0);
    assert_string_equal(snapshot.process, "encoder");
    assert_int_equal(snapshot.pid, getpid());
    assert_int_equal(snapshot.count, 2);
    assert_string_equal(snapshot.entries[0].name, "records_in");
    assert_int_equal(snapshot.entries[0].value, 7);
    assert_string_equal(snapshot.entries[1].name, "ring_fill_bytes");
    assert_int_equal(snapshot.entries[1].value, 99);
    assert_true(snapshot.started_unix_ms > 0);
    fce_stats_close(stats);
}

static void test_reopen_keeps_totals(void **state)
{
    struct fixture *fx = *state;
    struct fce_stats *stats = open_stats(fx, "encoder");
    struct fce_stats_snapshot snapshot;
    pid_t child;
    int status;

    fce_stats_add(fce_stats_counter(stats, "records_in"), 10);
    fce_stats_close(stats);
    assert_int_equal(
        fce_stats_read(fx->path, &snapshot, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(snapshot.pid, 0); /* closed cleanly */

    /* A restarted process (another pid) continues the totals. */
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct fce_stats *again;

        if (fce_stats_open(fx->path, "encoder", &again, NULL, 0) != 0)
            _exit(2);
        fce_stats_add(fce_stats_counter(again, "records_in"), 5);
        fce_stats_add(fce_stats_counter(again, "errors"), 1);
        _exit(0); /* killed-like exit: no close */
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0);

    assert_int_equal(
        fce_stats_read(fx->path, &snapshot, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(snapshot.pid, child);
    assert_int_equal(snapshot.count, 2);
    assert_int_equal(find_entry(&snapshot, "records_in")->value, 15);
    assert_int_equal(find_entry(&snapshot, "errors")->value, 1);
}

static void test_counter_names(void **state)
{
    struct fixture *fx = *state;
    struct fce_stats *stats = open_stats(fx, "encoder");
    char name[64];

    assert_null(fce_stats_counter(stats, ""));
    assert_null(fce_stats_counter(stats, "Records"));
    assert_null(fce_stats_counter(stats, "records-in"));
    assert_null(fce_stats_counter(stats, "records in"));
    memset(name, 'a', 48);
    name[48] = '\0';
    assert_null(fce_stats_counter(stats, name));
    name[47] = '\0';
    assert_non_null(fce_stats_counter(stats, name));
    fce_stats_close(stats);
}

static void test_file_full(void **state)
{
    struct fixture *fx = *state;
    struct fce_stats *stats = open_stats(fx, "encoder");
    struct fce_stats_snapshot snapshot;
    char name[32];

    for (int i = 0; i < FCE_STATS_SLOTS; i++) {
        snprintf(name, sizeof(name), "counter_%d", i);
        fce_stats_add(fce_stats_counter(stats, name), (uint64_t)i);
    }
    assert_null(fce_stats_counter(stats, "one_too_many"));
    assert_non_null(fce_stats_counter(stats, "counter_0"));

    assert_int_equal(
        fce_stats_read(fx->path, &snapshot, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(snapshot.count, FCE_STATS_SLOTS);
    assert_int_equal(find_entry(&snapshot, "counter_127")->value, 127);
    fce_stats_close(stats);
}

static void test_touch_updates_time(void **state)
{
    struct fixture *fx = *state;
    struct fce_stats *stats = open_stats(fx, "encoder");
    struct fce_stats_snapshot before, after;

    assert_int_equal(
        fce_stats_read(fx->path, &before, fx->err, sizeof(fx->err)), 0);
    usleep(20 * 1000);
    fce_stats_touch(stats);
    assert_int_equal(fce_stats_read(fx->path, &after, fx->err, sizeof(fx->err)),
                     0);
    assert_true(after.updated_unix_ms >= before.updated_unix_ms + 15);
    assert_int_equal(after.started_unix_ms, before.started_unix_ms);
    fce_stats_close(stats);
}

static void test_other_process_name_fails(void **state)
{
    struct fixture *fx = *state;
    struct fce_stats *stats = open_stats(fx, "encoder");
    struct fce_stats *other = NULL;

    fce_stats_close(stats);
    assert_int_equal(fce_stats_open(fx->path, "kafka-main", &other, fx->err,
                                    sizeof(fx->err)),
                     -EEXIST);
    assert_null(other);
    assert_non_null(strstr(fx->err, "belongs to process encoder"));
    assert_int_equal(
        fce_stats_open(fx->path, "bad name", &other, fx->err, sizeof(fx->err)),
        -EINVAL);
    assert_non_null(strstr(fx->err, "invalid process name 'bad name'"));
}

static void test_second_writer_fails(void **state)
{
    struct fixture *fx = *state;
    struct fce_stats *stats = open_stats(fx, "encoder");
    pid_t child;
    int status;

    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct fce_stats *other;

        _exit(fce_stats_open(fx->path, "encoder", &other, NULL, 0) == -EBUSY
                  ? 0
                  : 1);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0);
    fce_stats_close(stats);
}

static void write_file(const char *path, const void *bytes, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, size), (ssize_t)size);
    close(fd);
}

static void test_bad_files(void **state)
{
    struct fixture *fx = *state;
    struct fce_stats_snapshot snapshot;
    struct fce_stats *stats = NULL;
    static char zeros[8320];

    write_file(fx->path, "not a stats file at all", 23);
    assert_int_equal(
        fce_stats_read(fx->path, &snapshot, fx->err, sizeof(fx->err)), -EPROTO);
    assert_non_null(strstr(fx->err, "truncated stats file"));
    assert_int_equal(
        fce_stats_open(fx->path, "encoder", &stats, fx->err, sizeof(fx->err)),
        -EPROTO);
    assert_null(stats);

    write_file(fx->path, zeros, sizeof(zeros));
    assert_int_equal(
        fce_stats_read(fx->path, &snapshot, fx->err, sizeof(fx->err)), -EPROTO);
    assert_non_null(strstr(fx->err, "not a stats file"));

    unlink(fx->path);
    assert_int_equal(
        fce_stats_read(fx->path, &snapshot, fx->err, sizeof(fx->err)), -ENOENT);
    assert_non_null(strstr(fx->err, fx->path));
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        TEST(test_counters_and_snapshot), TEST(test_reopen_keeps_totals),
        TEST(test_counter_names),         TEST(test_file_full),
        TEST(test_touch_updates_time),    TEST(test_other_process_name_fails),
        TEST(test_second_writer_fails),   TEST(test_bad_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
