/*
 * Unit tests of the ring: layout, validation, the record path, restarts,
 * futex waits across processes, and fce_size_parse. Rings live in fresh
 * temporary folders, both in /dev/shm and on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fce_ring.h"
#include "ring_layout.h"

struct fixture {
    char dir[256];
    char path[320];
    char err[512];
};

static int setup_in(void **state, const char *base)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "%s/fce-ring-test.XXXXXX", base);
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof(fx->path), "%s/test.ring", fx->dir);
    *state = fx;
    return 0;
}

static int setup_shm(void **state)
{
    return setup_in(state, "/dev/shm");
}

static int setup_disk(void **state)
{
    const char *tmp = getenv("TMPDIR");

    return setup_in(state, tmp && *tmp ? tmp : "/tmp");
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

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Creates the fixture's ring and attaches a producer and a consumer. */
static void open_pair(struct fixture *fx, uint64_t capacity,
                      uint32_t max_record, struct fce_ring **producer,
                      struct fce_ring **consumer)
{
    int rc = fce_ring_create(fx->path, capacity, max_record, fx->err,
                             sizeof(fx->err));

    assert_int_equal(rc, 0);
    assert_int_equal(
        fce_ring_attach(fx->path, producer, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(
        fce_ring_attach(fx->path, consumer, fx->err, sizeof(fx->err)), 0);
}

/* Fills a payload with bytes derived from seq, so a reader can check it. */
static void fill_payload(uint8_t *payload, uint32_t len, uint64_t seq)
{
    for (uint32_t i = 0; i < len; i++)
        payload[i] = (uint8_t)(seq * 31 + i * 7);
}

static int payload_matches(const uint8_t *payload, uint32_t len, uint64_t seq)
{
    for (uint32_t i = 0; i < len; i++)
        if (payload[i] != (uint8_t)(seq * 31 + i * 7))
            return 0;
    return 1;
}

/* Reserves, fills and commits one record; returns its sequence number. */
static uint64_t put(struct fce_ring *ring, uint32_t kind, uint32_t len)
{
    struct fce_ring_info info;
    uint8_t *payload = fce_ring_reserve(ring, len);

    assert_non_null(payload);
    fce_ring_info(ring, &info);
    fill_payload(payload, len, info.next_seq);
    return fce_ring_commit(ring, kind, len);
}

/* Reads one record and checks its payload against its sequence number. */
static void get(struct fce_ring *ring, struct fce_ring_record *record)
{
    assert_int_equal(fce_ring_read(ring, record), 0);
    assert_true(payload_matches(record->data, record->len, record->seq));
}

/* Writes bytes at offset of the ring file at path. */
static void poke(const char *path, off_t offset, const void *bytes, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0600);

    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, size, offset), (ssize_t)size);
    close(fd);
}

static void poke_u32(const char *path, size_t offset, uint32_t value)
{
    poke(path, (off_t)offset, &value, sizeof(value));
}

static void poke_u64(const char *path, size_t offset, uint64_t value)
{
    poke(path, (off_t)offset, &value, sizeof(value));
}

/* ---- create and attach ---- */

static void test_create_attach_roundtrip(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;

    open_pair(fx, 4096, 256, &producer, &consumer);
    assert_int_equal(put(producer, 1, 10), 1);
    assert_int_equal(put(producer, 2, 0), 2);
    assert_int_equal(put(producer, 3, 256), 3);

    get(consumer, &record);
    assert_int_equal(record.seq, 1);
    assert_int_equal(record.kind, 1);
    assert_int_equal(record.len, 10);
    assert_int_equal((uintptr_t)record.data % 8, 0);
    get(consumer, &record);
    assert_int_equal(record.kind, 2);
    assert_int_equal(record.len, 0);
    get(consumer, &record);
    assert_int_equal(record.seq, 3);
    assert_int_equal(record.len, 256);
    assert_int_equal(fce_ring_read(consumer, &record), -EAGAIN);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_reopen_keeps_records(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;

    open_pair(fx, 4096, 256, &producer, &consumer);
    put(producer, 7, 100);
    put(producer, 8, 50);
    fce_ring_detach(producer);
    fce_ring_detach(consumer);

    /* Creating again with the same sizes keeps the file and its records. */
    assert_int_equal(
        fce_ring_create(fx->path, 4096, 256, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(
        fce_ring_attach(fx->path, &consumer, fx->err, sizeof(fx->err)), 0);
    get(consumer, &record);
    assert_int_equal(record.seq, 1);
    assert_int_equal(record.kind, 7);
    get(consumer, &record);
    assert_int_equal(record.seq, 2);
    assert_int_equal(record.len, 50);
    fce_ring_detach(consumer);
}

static void test_create_other_sizes_fails(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(
        fce_ring_create(fx->path, 4096, 256, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(
        fce_ring_create(fx->path, 8192, 256, fx->err, sizeof(fx->err)),
        -EEXIST);
    assert_non_null(strstr(fx->err, "capacity 4096"));
    assert_non_null(strstr(fx->err, "not 8192"));
}

static void test_create_rejects_non_ring(void **state)
{
    struct fixture *fx = *state;

    poke(fx->path, 0, "hello, world, this is text", 26);
    assert_int_equal(
        fce_ring_create(fx->path, 4096, 256, fx->err, sizeof(fx->err)),
        -EPROTO);
    assert_non_null(strstr(fx->err, "not a ring file"));
}

static void expect_create_error(struct fixture *fx, uint64_t capacity,
                                uint32_t max_record, int rc, const char *text)
{
    assert_int_equal(fce_ring_create(fx->path, capacity, max_record, fx->err,
                                     sizeof(fx->err)),
                     rc);
    if (!strstr(fx->err, text))
        fail_msg("error '%s' does not contain '%s'", fx->err, text);
    assert_int_equal(access(fx->path, F_OK), -1);
}

static void test_capacity_errors(void **state)
{
    struct fixture *fx = *state;

    expect_create_error(fx, 0, 256, -EINVAL, "capacity 0");
    expect_create_error(fx, 200, 256, -EINVAL, "capacity 200 bytes for ring");
    expect_create_error(fx, 200, 256, -EINVAL, "use at least 272");
    expect_create_error(fx, 4100, 256, -EINVAL, "multiple of 8");
    expect_create_error(fx, 1ull << 50, 256, -ENOSPC, "1125899906842624");
    expect_create_error(fx, 1ull << 50, 256, -ENOSPC, "bytes free");
    expect_create_error(fx, 4096, 0, -EINVAL, "max record 0");
    expect_create_error(fx, 1ull << 30, FCE_RING_MAX_RECORD_LIMIT + 1, -EINVAL,
                        "max record 67108865");
}

static void test_create_missing_folder(void **state)
{
    struct fixture *fx = *state;
    char path[400];

    snprintf(path, sizeof(path), "%s/missing/test.ring", fx->dir);
    assert_int_equal(fce_ring_create(path, 4096, 256, fx->err, sizeof(fx->err)),
                     -ENOENT);
    assert_non_null(strstr(fx->err, "does not exist"));
}

static void test_attach_missing_file(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *ring = NULL;

    assert_int_equal(fce_ring_attach(fx->path, &ring, fx->err, sizeof(fx->err)),
                     -ENOENT);
    assert_null(ring);
    assert_non_null(strstr(fx->err, "not found"));
    assert_non_null(strstr(fx->err, "fce ring create"));
}

static void test_attach_not_regular_file(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *ring = NULL;

    assert_int_equal(fce_ring_attach(fx->dir, &ring, fx->err, sizeof(fx->err)),
                     -EINVAL);
    assert_non_null(strstr(fx->err, "not a ring file"));
}

/* ---- bad and truncated headers ---- */

struct bad_field {
    size_t offset;
    int wide; /* 8-byte field */
    uint64_t value;
    const char *text; /* expected in the error */
};

#define HDR(field) offsetof(struct ring_header, field)

static void test_bad_headers(void **state)
{
    struct fixture *fx = *state;
    const struct bad_field cases[] = {
        {HDR(magic), 1, 0x1122334455667788ull, "bad magic 0x1122334455667788"},
        {HDR(version), 0, 9, "unsupported version 9"},
        {HDR(header_size), 0, 512, "bad header_size 512"},
        {HDR(flags), 0, 4, "unknown flags 0x4"},
        {HDR(max_record), 0, 0, "bad max_record 0"},
        {HDR(max_record), 0, 4096, "bad capacity 4096"},
        {HDR(capacity), 1, 4100, "bad capacity 4100"},
        {HDR(capacity), 1, 0, "bad capacity 0"},
        {HDR(capacity), 1, 8192, "truncated ring"},
        {HDR(capacity), 1, 2048, "bad size of ring"},
        {HDR(consumer.pos), 1, 64, "tail 64 is past head 0"},
        {HDR(producer.pos), 1, 8192, "exceeds capacity 4096"},
        {HDR(producer.pos), 1, 12, "must be multiples of 8"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fce_ring *ring = NULL;

        unlink(fx->path);
        assert_int_equal(
            fce_ring_create(fx->path, 4096, 256, fx->err, sizeof(fx->err)), 0);
        if (cases[i].wide)
            poke_u64(fx->path, cases[i].offset, cases[i].value);
        else
            poke_u32(fx->path, cases[i].offset, (uint32_t)cases[i].value);

        fx->err[0] = '\0';
        assert_int_equal(
            fce_ring_attach(fx->path, &ring, fx->err, sizeof(fx->err)),
            -EPROTO);
        assert_null(ring);
        if (!strstr(fx->err, cases[i].text))
            fail_msg("case %zu: error '%s' does not contain '%s'", i, fx->err,
                     cases[i].text);
        assert_non_null(strstr(fx->err, fx->path));
    }
}

static void expect_truncated(struct fixture *fx, off_t size, const char *text)
{
    struct fce_ring *ring = NULL;
    struct fce_ring_info info;

    unlink(fx->path);
    assert_int_equal(
        fce_ring_create(fx->path, 4096, 256, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(truncate(fx->path, size), 0);
    assert_int_equal(fce_ring_attach(fx->path, &ring, fx->err, sizeof(fx->err)),
                     -EPROTO);
    if (!strstr(fx->err, text))
        fail_msg("error '%s' does not contain '%s'", fx->err, text);
    assert_int_equal(
        fce_ring_inspect(fx->path, &info, fx->err, sizeof(fx->err)), -EPROTO);
}

static void test_truncated_files(void **state)
{
    struct fixture *fx = *state;

    expect_truncated(fx, 0, "truncated ring");
    expect_truncated(fx, 0, "0 bytes");
    expect_truncated(fx, 100, "100 bytes, shorter than the 4096-byte header");
    expect_truncated(fx, 4096 + 4000, "8096 bytes, but capacity 4096 needs");
    expect_truncated(fx, 4096 + 4096 + 8, "bad size of ring");
}

/* ---- the record path ---- */

static void test_empty_and_full(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;
    struct fce_ring_info info;
    uint64_t count = 0, last_end = 0;

    open_pair(fx, 1024, 64, &producer, &consumer);
    assert_int_equal(fce_ring_read(consumer, &record), -EAGAIN);

    /* 80-byte records: 12 fill 960 bytes, the 13th needs 80 of 64 left. */
    while (fce_ring_reserve(producer, 64) != NULL) {
        fce_ring_commit(producer, 0, 64);
        count++;
    }
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(count, 12);
    fce_ring_info(producer, &info);
    assert_int_equal(info.used, 960);
    assert_int_equal(info.times_full, 1);

    /* A smaller record still fits in the 64 bytes before the end; then 8
     * bytes are left, too few for any record. */
    assert_non_null(fce_ring_reserve(producer, 40));
    fce_ring_commit(producer, 0, 40);
    assert_null(fce_ring_reserve(producer, 0));
    assert_int_equal(errno, EAGAIN);
    fce_ring_info(producer, &info);
    assert_int_equal(info.used, 1016);
    assert_int_equal(info.times_full, 2);

    for (uint64_t i = 0; i < count + 1; i++) {
        assert_int_equal(fce_ring_read(consumer, &record), 0);
        last_end = record.end;
    }
    assert_int_equal(fce_ring_read(consumer, &record), -EAGAIN);
    fce_ring_release(consumer, last_end);
    fce_ring_info(consumer, &info);
    assert_int_equal(info.used, 0);
    assert_int_equal(info.records_out, count + 1);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_wrap_around(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;
    struct fce_ring_info info;
    const uint8_t *start, *stop;
    uint64_t expected = 1;

    open_pair(fx, 1000, 200, &producer, &consumer);
    start = consumer->data;
    stop = consumer->data + consumer->capacity;

    /* Sizes that do not divide the capacity force markers at every lap. */
    for (uint64_t i = 0; i < 20000; i++) {
        uint32_t len = (uint32_t)((i * 37) % 201);

        put(producer, (uint32_t)i, len);
        if (i % 3 != 2)
            continue;
        while (fce_ring_read(consumer, &record) == 0) {
            assert_true(payload_matches(record.data, record.len, record.seq));
            assert_int_equal(record.seq, expected);
            assert_true((const uint8_t *)record.data >= start);
            assert_true((const uint8_t *)record.data + record.len <= stop);
            expected++;
            fce_ring_release(consumer, record.end);
        }
    }
    while (fce_ring_read(consumer, &record) == 0) {
        assert_int_equal(record.seq, expected);
        expected++;
        fce_ring_release(consumer, record.end);
    }
    fce_ring_info(producer, &info);
    assert_int_equal(expected, 20001);
    assert_int_equal(info.records_out, 20000);
    assert_true(info.head > 100 * info.capacity);
    assert_int_equal(info.head, info.tail);
    assert_int_equal(info.bytes_in, info.bytes_out);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_record_fills_ring_exactly(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;
    uint64_t capacity = ring_record_size(256);

    /* The smallest valid ring: one record of max_record bytes. */
    open_pair(fx, capacity, 256, &producer, &consumer);
    assert_int_equal(put(producer, 1, 256), 1);
    assert_null(fce_ring_reserve(producer, 0));
    assert_int_equal(errno, EAGAIN);
    get(consumer, &record);
    assert_int_equal(record.len, 256);
    fce_ring_release(consumer, record.end);

    /* From a non-zero offset the record must wrap: the producer publishes
     * a marker, and the consumer releases it while holding nothing. */
    assert_int_equal(put(producer, 2, 8), 2);
    get(consumer, &record);
    fce_ring_release(consumer, record.end);
    assert_null(fce_ring_reserve(producer, 256));
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(fce_ring_read(consumer, &record), -EAGAIN);
    assert_int_equal(put(producer, 3, 256), 3);
    get(consumer, &record);
    assert_int_equal(record.seq, 3);
    assert_true((const uint8_t *)record.data ==
                consumer->data + RING_RECORD_HEADER);
    fce_ring_release(consumer, record.end);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_record_fills_free_space(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_info info;

    /* 512 bytes: 3 records of 144 leave 80 bytes, exactly one record of
     * 64 bytes of payload. */
    open_pair(fx, 512, 128, &producer, &consumer);
    for (int i = 0; i < 3; i++)
        put(producer, 0, 128);
    put(producer, 0, 64);
    fce_ring_info(producer, &info);
    assert_int_equal(info.used, 512);
    assert_null(fce_ring_reserve(producer, 0));

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_max_size_records(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;
    void *payload;

    open_pair(fx, 3 * ring_record_size(65536), 65536, &producer, &consumer);
    for (int lap = 0; lap < 10; lap++) {
        put(producer, 0, 65536);
        put(producer, 0, 65536);
        get(consumer, &record);
        assert_int_equal(record.len, 65536);
        get(consumer, &record);
        fce_ring_release(consumer, record.end);
    }
    assert_null(fce_ring_reserve(producer, 65537));
    assert_int_equal(errno, EMSGSIZE);
    assert_int_equal(fce_ring_reserve_wait(producer, 65537, 10, &payload),
                     -EMSGSIZE);
    assert_int_equal(fce_ring_commit(producer, 0, 1), 0);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_commit_shrinks_reservation(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;
    struct fce_ring_info info;
    uint8_t *payload;

    open_pair(fx, 4096, 1024, &producer, &consumer);
    payload = fce_ring_reserve(producer, 1024);
    assert_non_null(payload);
    memcpy(payload, "0123456789", 10);
    assert_int_equal(fce_ring_commit(producer, 5, 2000), 0);
    assert_int_equal(fce_ring_commit(producer, 5, 10), 1);
    assert_int_equal(fce_ring_commit(producer, 5, 10), 0);

    fce_ring_info(producer, &info);
    assert_int_equal(info.head, ring_record_size(10));
    assert_int_equal(info.bytes_in, 10);
    assert_int_equal(fce_ring_read(consumer, &record), 0);
    assert_int_equal(record.len, 10);
    assert_memory_equal(record.data, "0123456789", 10);
    assert_int_equal(record.end, ring_record_size(10));

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_release_and_rewind(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record first, second, record;
    struct fce_ring_info info;

    open_pair(fx, 4096, 256, &producer, &consumer);
    for (int i = 0; i < 5; i++)
        put(producer, 0, 40);

    get(consumer, &first);
    get(consumer, &second);
    get(consumer, &record);
    fce_ring_release(consumer, first.end);
    fce_ring_release(consumer, first.end - 8);   /* backwards: ignored */
    fce_ring_release(consumer, record.end + 56); /* past read: ignored */
    fce_ring_info(consumer, &info);
    assert_int_equal(info.records_out, 1);
    assert_int_equal(info.tail, first.end);
    assert_int_equal(info.bytes_out, 40);

    fce_ring_rewind(consumer);
    get(consumer, &record);
    assert_int_equal(record.seq, 2);

    /* An end inside a record releases up to the boundary before it. */
    get(consumer, &record);
    fce_ring_release(consumer, record.end - 8);
    fce_ring_info(consumer, &info);
    assert_int_equal(info.tail, second.end);
    assert_int_equal(info.records_out, 2);

    /* A new consumer starts at the committed tail: seq 3 comes again. */
    fce_ring_detach(consumer);
    assert_int_equal(
        fce_ring_attach(fx->path, &consumer, fx->err, sizeof(fx->err)), 0);
    get(consumer, &record);
    assert_int_equal(record.seq, 3);
    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_release_past_markers(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record a, b;
    struct fce_ring_info info;

    /* 400 bytes: records of 176 bytes; the third one wraps. */
    open_pair(fx, 400, 160, &producer, &consumer);
    put(producer, 0, 160);
    put(producer, 0, 160);
    get(consumer, &a);
    get(consumer, &b);
    fce_ring_release(consumer, a.end);
    put(producer, 0, 160);
    /* The consumer reads past the marker while it still holds b. */
    get(consumer, &a);
    assert_int_equal(a.seq, 3);
    fce_ring_release(consumer, b.end);
    fce_ring_info(consumer, &info);
    assert_int_equal(info.tail, 400); /* b's end and the marker */
    assert_int_equal(info.records_out, 2);
    fce_ring_release(consumer, a.end);
    fce_ring_info(consumer, &info);
    assert_int_equal(info.used, 0);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

/* The counted release gives what the walk gives, across a wrap marker,
 * and falls back to the walk when the count is not one it can trust. */
static void test_release_counted(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record a, b, c;
    struct fce_ring_info info;

    open_pair(fx, 400, 160, &producer, &consumer);
    put(producer, 0, 160);
    put(producer, 0, 100);
    get(consumer, &a);
    get(consumer, &b);
    fce_ring_release_counted(consumer, a.end, a.seq, 160);
    fce_ring_info(consumer, &info);
    assert_int_equal(info.tail, a.end);
    assert_int_equal(info.records_out, 1);
    assert_int_equal(info.bytes_out, 160);

    /* The third record wraps; b is released while the reader is past
     * the marker, so the marker goes too. */
    put(producer, 0, 160);
    get(consumer, &c);
    assert_int_equal(c.seq, 3);
    fce_ring_release_counted(consumer, b.end, b.seq, 100);
    fce_ring_info(consumer, &info);
    assert_int_equal(info.tail, 400);
    assert_int_equal(info.records_out, 2);
    assert_int_equal(info.bytes_out, 260);

    /* A sequence number already released: counted by the walk. */
    put(producer, 0, 40);
    get(consumer, &a);
    fce_ring_release_counted(consumer, c.end, 1, 999);
    fce_ring_info(consumer, &info);
    assert_int_equal(info.tail, c.end);
    assert_int_equal(info.records_out, 3);
    assert_int_equal(info.bytes_out, 420);
    fce_ring_release_counted(consumer, a.end, a.seq, 40);
    fce_ring_info(consumer, &info);
    assert_int_equal(info.used, 0);
    assert_int_equal(info.bytes_out, 460);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_counters(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;
    struct fce_ring_info info;

    open_pair(fx, 4096, 256, &producer, &consumer);
    put(producer, 0, 10);
    put(producer, 0, 20);
    put(producer, 0, 30);
    get(consumer, &record);
    get(consumer, &record);
    fce_ring_release(consumer, record.end);

    fce_ring_info(consumer, &info);
    assert_int_equal(info.records_in, 3);
    assert_int_equal(info.bytes_in, 60);
    assert_int_equal(info.records_out, 2);
    assert_int_equal(info.bytes_out, 30);
    assert_int_equal(info.next_seq, 4);
    assert_int_equal(info.used, ring_record_size(30));
    assert_int_equal(info.producer_pid, getpid());
    assert_int_equal(info.consumer_pid, getpid());
    assert_int_equal(info.capacity, 4096);
    assert_int_equal(info.max_record, 256);
    assert_int_equal(info.version, RING_VERSION);

    assert_int_equal(
        fce_ring_inspect(fx->path, &info, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(info.records_in, 3);
    assert_int_equal(info.records_out, 2);
    assert_true(info.producer_attached);
    assert_true(info.consumer_attached);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
    assert_int_equal(
        fce_ring_inspect(fx->path, &info, fx->err, sizeof(fx->err)), 0);
    assert_false(info.producer_attached);
    assert_int_equal(info.producer_pid, 0);
}

static void test_damaged_record(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;

    open_pair(fx, 4096, 256, &producer, &consumer);
    put(producer, 0, 16);
    put(producer, 0, 16);
    /* The second record claims 10000 bytes, more than max_record. */
    poke_u32(fx->path, RING_HEADER_SIZE + ring_record_size(16), 10000);
    get(consumer, &record);
    assert_int_equal(fce_ring_read(consumer, &record), -EPROTO);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_damaged_record_at_end(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;

    /* A 4088-byte record leaves 8 bytes before the end of a 4096-byte
     * buffer (and of the mapping): room for a wrap marker's len only. */
    open_pair(fx, 4096, 4072, &producer, &consumer);
    put(producer, 0, 4072);
    get(consumer, &record);
    fce_ring_release(consumer, record.end);
    put(producer, 0, 8); /* wraps: marker at 4088, record at 0 */
    /* A damaged marker must not make the consumer read past the end. */
    poke_u32(fx->path, RING_HEADER_SIZE + 4088, 0);
    assert_int_equal(fce_ring_read(consumer, &record), -EPROTO);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

/* ---- sides and restarts ---- */

static void test_one_producer_at_a_time(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer, *other;
    pid_t child;
    int status;

    open_pair(fx, 4096, 256, &producer, &consumer);
    assert_int_equal(
        fce_ring_claim(producer, FCE_RING_PRODUCER, fx->err, sizeof(fx->err)),
        0);
    assert_int_equal(
        fce_ring_claim(producer, FCE_RING_CONSUMER, fx->err, sizeof(fx->err)),
        -EINVAL);
    assert_int_equal(
        fce_ring_attach(fx->path, &other, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(
        fce_ring_claim(other, FCE_RING_PRODUCER, fx->err, sizeof(fx->err)),
        -EBUSY);
    assert_non_null(strstr(fx->err, "already has a producer"));
    assert_null(fce_ring_reserve(other, 8));
    assert_int_equal(errno, EBUSY);

    /* Another process is refused too. */
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct fce_ring *ring;

        if (fce_ring_attach(fx->path, &ring, NULL, 0) != 0)
            _exit(2);
        _exit(fce_ring_claim(ring, FCE_RING_PRODUCER, NULL, 0) == -EBUSY ? 0
                                                                         : 1);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    fce_ring_detach(producer);
    assert_int_equal(
        fce_ring_claim(other, FCE_RING_PRODUCER, fx->err, sizeof(fx->err)), 0);
    fce_ring_detach(other);
    fce_ring_detach(consumer);
}

static void test_producer_crash_leaves_nothing(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;
    pid_t child;
    int status;

    assert_int_equal(
        fce_ring_create(fx->path, 4096, 256, fx->err, sizeof(fx->err)), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        uint8_t *payload;

        if (fce_ring_attach(fx->path, &producer, NULL, 0) != 0)
            _exit(2);
        for (int i = 0; i < 3; i++) {
            payload = fce_ring_reserve(producer, 32);
            memset(payload, 'a' + i, 32);
            fce_ring_commit(producer, 0, 32);
        }
        payload = fce_ring_reserve(producer, 32);
        memset(payload, 'x', 32);
        raise(SIGKILL); /* dies mid-record */
        _exit(3);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));

    assert_int_equal(
        fce_ring_attach(fx->path, &consumer, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(
        fce_ring_attach(fx->path, &producer, fx->err, sizeof(fx->err)), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fce_ring_read(consumer, &record), 0);
        assert_int_equal(((const char *)record.data)[0], 'a' + i);
    }
    assert_int_equal(fce_ring_read(consumer, &record), -EAGAIN);
    /* The restarted producer continues the numbering exactly. */
    assert_int_equal(put(producer, 0, 8), 4);
    assert_int_equal(fce_ring_read(consumer, &record), 0);
    assert_int_equal(record.seq, 4);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_torn_commit_recovers(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_info info;
    struct ring_log entry;
    uint32_t slot;

    open_pair(fx, 4096, 256, &producer, &consumer);
    put(producer, 0, 8);
    put(producer, 0, 8);
    fce_ring_info(producer, &info);
    fce_ring_detach(producer);

    /* A producer killed after flipping the log slot but before storing
     * head: the flipped entry describes a record nobody can see. */
    slot = consumer->hdr->producer.log_slot ^ 1;
    entry.pos = info.head + 24;
    entry.records = 3;
    entry.bytes = 24;
    poke(fx->path, (off_t)(HDR(producer.log) + slot * sizeof(struct ring_log)),
         &entry, sizeof(entry));
    poke_u32(fx->path, HDR(producer.log_slot), slot);

    assert_int_equal(
        fce_ring_attach(fx->path, &producer, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(put(producer, 0, 8), 3);
    fce_ring_detach(producer);

    /* Neither entry matching the head is damage, not a crash. */
    poke_u64(fx->path, HDR(producer.log[0].pos), 8);
    poke_u64(fx->path, HDR(producer.log[1].pos), 16);
    assert_int_equal(
        fce_ring_attach(fx->path, &producer, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(
        fce_ring_claim(producer, FCE_RING_PRODUCER, fx->err, sizeof(fx->err)),
        -EPROTO);
    assert_non_null(strstr(fx->err, "bad producer state"));
    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

/* ---- futex waits ---- */

static void test_read_wait_times_out(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;
    struct fce_ring_info info;
    double start, elapsed;

    open_pair(fx, 4096, 256, &producer, &consumer);
    start = now_ms();
    assert_int_equal(fce_ring_read_wait(consumer, &record, 50), -ETIMEDOUT);
    elapsed = now_ms() - start;
    assert_true(elapsed >= 49.0);
    assert_true(elapsed < 1000.0);
    fce_ring_info(consumer, &info);
    assert_true(info.consumer_waits >= 1);

    start = now_ms();
    assert_int_equal(fce_ring_read_wait(consumer, &record, 0), -ETIMEDOUT);
    assert_true(now_ms() - start < 50.0);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

static void test_reserve_wait_times_out(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_info info;
    void *payload;
    double start, elapsed;

    open_pair(fx, 512, 128, &producer, &consumer);
    while (fce_ring_reserve(producer, 128))
        fce_ring_commit(producer, 0, 128);
    start = now_ms();
    assert_int_equal(fce_ring_reserve_wait(producer, 128, 50, &payload),
                     -ETIMEDOUT);
    elapsed = now_ms() - start;
    assert_true(elapsed >= 49.0);
    assert_true(elapsed < 1000.0);
    fce_ring_info(producer, &info);
    assert_true(info.producer_waits >= 1);
    assert_int_equal(info.times_full, 2);

    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

/* Child: attaches to path, sleeps delay_ms, then commits one record. */
static void commit_later(const char *path, int delay_ms)
{
    struct fce_ring *ring;
    void *payload;

    if (fce_ring_attach(path, &ring, NULL, 0) != 0)
        _exit(2);
    usleep((useconds_t)delay_ms * 1000);
    payload = fce_ring_reserve(ring, 8);
    if (!payload)
        _exit(3);
    memcpy(payload, "wakeup!!", 8);
    fce_ring_commit(ring, 9, 8);
    fce_ring_detach(ring);
    _exit(0);
}

static void test_consumer_woken_by_other_process(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *consumer;
    struct fce_ring_record record;
    struct fce_ring_info info;
    double start, elapsed;
    pid_t child;
    int status;

    assert_int_equal(
        fce_ring_create(fx->path, 4096, 256, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(
        fce_ring_attach(fx->path, &consumer, fx->err, sizeof(fx->err)), 0);
    assert_int_equal(
        fce_ring_claim(consumer, FCE_RING_CONSUMER, fx->err, sizeof(fx->err)),
        0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0)
        commit_later(fx->path, 200);

    start = now_ms();
    assert_int_equal(fce_ring_read_wait(consumer, &record, 10000), 0);
    elapsed = now_ms() - start;
    assert_int_equal(record.kind, 9);
    assert_memory_equal(record.data, "wakeup!!", 8);
    assert_true(elapsed >= 150.0);
    assert_true(elapsed < 5000.0);
    fce_ring_info(consumer, &info);
    assert_true(info.consumer_waits >= 1);

    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0);
    fce_ring_detach(consumer);
}

static void test_producer_woken_by_other_process(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    double start, elapsed;
    void *payload;
    pid_t child;
    int status;

    open_pair(fx, 512, 128, &producer, &consumer);
    fce_ring_detach(consumer);
    while (fce_ring_reserve(producer, 128))
        fce_ring_commit(producer, 0, 128);

    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct fce_ring_record record;

        if (fce_ring_attach(fx->path, &consumer, NULL, 0) != 0)
            _exit(2);
        usleep(200 * 1000);
        if (fce_ring_read(consumer, &record) != 0)
            _exit(3);
        fce_ring_release(consumer, record.end);
        _exit(0);
    }
    start = now_ms();
    assert_int_equal(fce_ring_reserve_wait(producer, 128, 10000, &payload), 0);
    elapsed = now_ms() - start;
    assert_true(elapsed >= 150.0);
    assert_true(elapsed < 5000.0);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0);
    fce_ring_detach(producer);
}

static void test_one_record_ring_across_processes(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *consumer;
    struct fce_ring_record record;
    struct fce_ring_info info;
    pid_t child;
    int status;

    /* Room for one maximum record: every record but the first from
     * offset 0 needs a marker published alone and released on reading. */
    assert_int_equal(fce_ring_create(fx->path, ring_record_size(1000), 1000,
                                     fx->err, sizeof(fx->err)),
                     0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct fce_ring *producer;

        if (fce_ring_attach(fx->path, &producer, NULL, 0) != 0)
            _exit(2);
        for (uint64_t seq = 1; seq <= 300; seq++) {
            uint32_t len = seq % 2 ? 1000 : (uint32_t)(seq % 997);
            uint8_t *payload;

            if (fce_ring_reserve_wait(producer, len, 5000, (void **)&payload) !=
                0)
                _exit(3);
            fill_payload(payload, len, seq);
            if (fce_ring_commit(producer, 0, len) != seq)
                _exit(4);
        }
        _exit(0);
    }

    assert_int_equal(
        fce_ring_attach(fx->path, &consumer, fx->err, sizeof(fx->err)), 0);
    for (uint64_t seq = 1; seq <= 300; seq++) {
        assert_int_equal(fce_ring_read_wait(consumer, &record, 5000), 0);
        assert_int_equal(record.seq, seq);
        assert_true(payload_matches(record.data, record.len, record.seq));
        fce_ring_release(consumer, record.end);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    fce_ring_info(consumer, &info);
    assert_int_equal(info.records_out, 300);
    assert_int_equal(info.used, 0);
    assert_int_equal(fce_ring_sync(consumer), 0);
    fce_ring_detach(consumer);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int signo)
{
    (void)signo;
    alarms++;
}

static void test_wait_returns_eintr(void **state)
{
    struct fixture *fx = *state;
    struct fce_ring *producer, *consumer;
    struct fce_ring_record record;
    struct sigaction action = {0};
    struct itimerval timer = {{0, 0}, {0, 50 * 1000}};
    void *payload;

    open_pair(fx, 512, 128, &producer, &consumer);
    /* SA_RESTART on purpose: the wait must still return -EINTR. */
    action.sa_handler = on_alarm;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &action, NULL), 0);

    assert_int_equal(setitimer(ITIMER_REAL, &timer, NULL), 0);
    assert_int_equal(fce_ring_read_wait(consumer, &record, -1), -EINTR);
    assert_int_equal(alarms, 1);

    while (fce_ring_reserve(producer, 128))
        fce_ring_commit(producer, 0, 128);
    assert_int_equal(setitimer(ITIMER_REAL, &timer, NULL), 0);
    assert_int_equal(fce_ring_reserve_wait(producer, 128, -1, &payload),
                     -EINTR);
    assert_int_equal(alarms, 2);

    signal(SIGALRM, SIG_DFL);
    fce_ring_detach(producer);
    fce_ring_detach(consumer);
}

/* ---- fce_size_parse ---- */

static void test_size_parse_valid(void **state)
{
    const struct {
        const char *text;
        uint64_t bytes;
    } cases[] = {
        {"4096", 4096},
        {"0", 0},
        {"64KiB", 64ull << 10},
        {"64MiB", 64ull << 20},
        {"1GiB", 1ull << 30},
        {"1G", 1ull << 30},
        {"1g", 1ull << 30},
        {"1MB", 1000000},
        {"2KB", 2000},
        {"8k", 8192},
        {"3Mi", 3ull << 20},
        {"64 MiB", 64ull << 20},
        {" 7 ", 7},
        {"10B", 10},
        {"2TiB", 2ull << 40},
        {"1TB", 1000000000000ull},
        {"18446744073709551615", UINT64_MAX},
        {"16777215TiB", 16777215ull << 40},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t bytes = 1;

        if (fce_size_parse(cases[i].text, &bytes) != 0)
            fail_msg("'%s' was rejected", cases[i].text);
        if (bytes != cases[i].bytes)
            fail_msg("'%s' parsed as %llu, expected %llu", cases[i].text,
                     (unsigned long long)bytes,
                     (unsigned long long)cases[i].bytes);
    }
}

static void test_size_parse_invalid(void **state)
{
    const char *cases[] = {
        "",
        " ",
        "abc",
        "-1",
        "-1KiB",
        "+1",
        "1.5G",
        "1 XB",
        "1KiBs",
        "12 34",
        "MiB",
        "1 MiB x",
        "18446744073709551616",
        "16777216TiB",
        "99999999999999999999999",
        "0x10",
    };
    uint64_t bytes = 42;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (fce_size_parse(cases[i], &bytes) != -EINVAL)
            fail_msg("'%s' was accepted", cases[i]);
    assert_int_equal(bytes, 42);
    assert_int_equal(fce_size_parse(NULL, &bytes), -EINVAL);
}

#define IN_SHM(test) cmocka_unit_test_setup_teardown(test, setup_shm, teardown)
#define ON_DISK(test)                                                          \
    cmocka_unit_test_setup_teardown(test, setup_disk, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        IN_SHM(test_create_attach_roundtrip),
        ON_DISK(test_create_attach_roundtrip),
        IN_SHM(test_reopen_keeps_records),
        ON_DISK(test_reopen_keeps_records),
        IN_SHM(test_create_other_sizes_fails),
        IN_SHM(test_create_rejects_non_ring),
        IN_SHM(test_capacity_errors),
        ON_DISK(test_capacity_errors),
        IN_SHM(test_create_missing_folder),
        IN_SHM(test_attach_missing_file),
        IN_SHM(test_attach_not_regular_file),
        IN_SHM(test_bad_headers),
        ON_DISK(test_truncated_files),
        IN_SHM(test_empty_and_full),
        IN_SHM(test_wrap_around),
        ON_DISK(test_wrap_around),
        IN_SHM(test_record_fills_ring_exactly),
        IN_SHM(test_record_fills_free_space),
        IN_SHM(test_max_size_records),
        IN_SHM(test_commit_shrinks_reservation),
        IN_SHM(test_release_and_rewind),
        IN_SHM(test_release_past_markers),
        IN_SHM(test_release_counted),
        IN_SHM(test_counters),
        IN_SHM(test_damaged_record),
        IN_SHM(test_damaged_record_at_end),
        IN_SHM(test_one_producer_at_a_time),
        IN_SHM(test_producer_crash_leaves_nothing),
        ON_DISK(test_producer_crash_leaves_nothing),
        IN_SHM(test_torn_commit_recovers),
        IN_SHM(test_read_wait_times_out),
        IN_SHM(test_reserve_wait_times_out),
        IN_SHM(test_consumer_woken_by_other_process),
        ON_DISK(test_consumer_woken_by_other_process),
        IN_SHM(test_producer_woken_by_other_process),
        IN_SHM(test_wait_returns_eintr),
        IN_SHM(test_one_record_ring_across_processes),
        ON_DISK(test_one_record_ring_across_processes),
        cmocka_unit_test(test_size_parse_valid),
        cmocka_unit_test(test_size_parse_invalid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
