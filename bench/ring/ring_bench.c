/*
 * ring-bench: records per second between two processes through an
 * fce_ring, a pipe(2) and a Unix socketpair, in one run.
 *
 * Every transport carries the same records: a 16-byte header (length,
 * kind, sequence number) and the payload padded to 8 bytes, whose first 8
 * bytes repeat the sequence number. The producer copies the payload from a
 * template and stamps the sequence number. The consumer checks it and adds
 * it to a sum, which the parent checks against 1 + 2 + ... + N. The pipe and
 * socket producers make one write(2) per record, as a stage does that
 * hands each record on as soon as it has it (the ring's commit also
 * publishes each record at once); a batched pipe that fills 64 KiB before
 * each write is measured too, for reference. Producer and consumer are
 * pinned to different CPUs when there are two.
 *
 *   ring-bench [--scale F] [--repeat N] [--only TRANSPORT]
 *
 * --scale multiplies the record counts, --repeat sets the runs per case
 * (the median is reported), --only measures one transport.
 *
 * The last line reads
 *   bench ring: ours=<records/s> peer=pipe <records/s> ratio=<ours/peer>
 * for 64-byte records.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fce_ring.h"

#define FRAME_HEADER  16
#define MAX_PAYLOAD   1024
#define PIPE_CHUNK    (64 * 1024)
#define RELEASE_EVERY 64

enum transport {
    T_RING,
    T_PIPE,
    T_SOCKET,
    T_PIPE_BATCHED,
};

static const char *transport_names[] = {"ring", "pipe", "socketpair",
                                        "pipe-batched"};

struct frame_header {
    uint32_t len;
    uint32_t kind;
    uint64_t seq;
};

/* The consumer's report to the parent. */
struct result {
    uint64_t records;
    uint64_t sum;
    uint64_t nanoseconds;                    /* first record to last */
    uint64_t producer_waits, consumer_waits; /* ring only: futex sleeps */
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin_to_cpu(int cpu)
{
    cpu_set_t set;

    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static uint32_t padded(uint32_t len)
{
    return (len + 7) & ~7u;
}

static void die(const char *what)
{
    perror(what);
    _exit(1);
}

/* ---- ring ---- */

static void ring_produce(const char *path, uint64_t records, uint32_t len,
                         const uint8_t *template)
{
    struct fce_ring *ring;
    char err[512];

    if (fce_ring_attach(path, &ring, err, sizeof(err)) != 0) {
        fprintf(stderr, "ring-bench: %s\n", err);
        _exit(1);
    }
    for (uint64_t seq = 1; seq <= records; seq++) {
        uint8_t *payload;

        if (fce_ring_reserve_wait(ring, len, -1, (void **)&payload) != 0)
            die("reserve");
        memcpy(payload, template, len);
        memcpy(payload, &seq, sizeof(seq));
        fce_ring_commit(ring, 1, len);
    }
    fce_ring_detach(ring);
}

static void ring_consume(const char *path, uint64_t records,
                         struct result *result)
{
    struct fce_ring *ring;
    struct fce_ring_record record;
    struct fce_ring_info info;
    uint64_t start = 0, unreleased = 0, last_end = 0;
    char err[512];

    if (fce_ring_attach(path, &ring, err, sizeof(err)) != 0) {
        fprintf(stderr, "ring-bench: %s\n", err);
        _exit(1);
    }
    while (result->records < records) {
        int rc = fce_ring_read(ring, &record);
        uint64_t word;

        if (rc == -EAGAIN) {
            /* Release the held records before waiting; while records
             * keep coming, release every RELEASE_EVERY of them. */
            fce_ring_release(ring, last_end);
            unreleased = 0;
            rc = fce_ring_read_wait(ring, &record, -1);
        }
        if (rc != 0)
            die("read");
        if (start == 0)
            start = now_ns();
        memcpy(&word, record.data, sizeof(word));
        if (word != record.seq)
            _exit(3);
        result->sum += word;
        result->records++;
        last_end = record.end;
        if (++unreleased == RELEASE_EVERY) {
            fce_ring_release(ring, last_end);
            unreleased = 0;
        }
    }
    fce_ring_release(ring, last_end);
    result->nanoseconds = now_ns() - start;
    fce_ring_info(ring, &info);
    result->producer_waits = info.producer_waits;
    result->consumer_waits = info.consumer_waits;
    fce_ring_detach(ring);
}

/* ---- pipe and socketpair ---- */

static void write_all(int fd, const uint8_t *bytes, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, bytes, size);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("write");
        bytes += n;
        size -= (size_t)n;
    }
}

static void stream_produce(int fd, uint64_t records, uint32_t len,
                           const uint8_t *template, int batched)
{
    static uint8_t buffer[PIPE_CHUNK + FRAME_HEADER + MAX_PAYLOAD];
    uint32_t frame = FRAME_HEADER + padded(len);
    size_t used = 0;

    for (uint64_t seq = 1; seq <= records; seq++) {
        struct frame_header header = {len, 1, seq};
        uint8_t *out = buffer + used;

        memcpy(out, &header, sizeof(header));
        memcpy(out + FRAME_HEADER, template, len);
        memcpy(out + FRAME_HEADER, &seq, sizeof(seq));
        used += frame;
        if (!batched || used + frame > PIPE_CHUNK) {
            write_all(fd, buffer, used);
            used = 0;
        }
    }
    write_all(fd, buffer, used);
}

/* Parses whole frames from buffer; returns the bytes consumed. */
static size_t parse_frames(const uint8_t *buffer, size_t size,
                           struct result *result)
{
    size_t at = 0;

    while (size - at >= FRAME_HEADER) {
        struct frame_header header;
        uint64_t word;
        size_t frame;

        memcpy(&header, buffer + at, sizeof(header));
        frame = FRAME_HEADER + padded(header.len);
        if (size - at < frame)
            break;
        memcpy(&word, buffer + at + FRAME_HEADER, sizeof(word));
        if (word != header.seq)
            _exit(3);
        result->sum += word;
        result->records++;
        at += frame;
    }
    return at;
}

static void stream_consume(int fd, uint64_t records, struct result *result)
{
    static uint8_t buffer[2 * PIPE_CHUNK];
    size_t have = 0;
    uint64_t start = 0;

    while (result->records < records) {
        ssize_t n = read(fd, buffer + have, sizeof(buffer) - have);
        size_t used;

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("read");
        if (start == 0)
            start = now_ns();
        have += (size_t)n;
        used = parse_frames(buffer, have, result);
        memmove(buffer, buffer + used, have - used);
        have -= used;
    }
    result->nanoseconds = now_ns() - start;
}

/* ---- one measurement ---- */

struct run {
    enum transport transport;
    uint32_t len;
    uint64_t records;
    const char *ring_path;
};

static void run_consumer(const struct run *run, int fd, int result_fd)
{
    struct result result = {0};

    pin_to_cpu(1);
    if (run->transport == T_RING)
        ring_consume(run->ring_path, run->records, &result);
    else
        stream_consume(fd, run->records, &result);
    write_all(result_fd, (const uint8_t *)&result, sizeof(result));
    _exit(0);
}

static void run_producer(const struct run *run, int fd, const uint8_t *template)
{
    pin_to_cpu(0);
    if (run->transport == T_RING)
        ring_produce(run->ring_path, run->records, run->len, template);
    else
        stream_produce(fd, run->records, run->len, template,
                       run->transport == T_PIPE_BATCHED);
    _exit(0);
}

static int open_channel(enum transport transport, int fds[2])
{
    if (transport == T_RING) {
        fds[0] = fds[1] = -1;
        return 0;
    }
    if (transport == T_SOCKET)
        return socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
    return pipe(fds);
}

static void close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* The consumer's report of the last measurement. */
static struct result last_result;

/* Runs one measurement. Returns records per second, or a negative value. */
static double measure(const struct run *run, const uint8_t *template)
{
    struct result result = {0};
    int channel[2], results[2], status, failed = 0;
    pid_t consumer, producer;

    if (open_channel(run->transport, channel) != 0 || pipe(results) != 0)
        return -1;
    consumer = fork();
    if (consumer == 0) {
        close_fd(channel[1]);
        run_consumer(run, channel[0], results[1]);
    }
    producer = fork();
    if (producer == 0) {
        close_fd(channel[0]);
        run_producer(run, channel[1], template);
    }
    close_fd(channel[0]);
    close_fd(channel[1]);
    close(results[1]);

    if (read(results[0], &result, sizeof(result)) != (ssize_t)sizeof(result))
        failed = 1;
    close(results[0]);
    waitpid(producer, &status, 0);
    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    waitpid(consumer, &status, 0);
    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;

    if (failed || result.records != run->records ||
        result.sum != run->records * (run->records + 1) / 2) {
        fprintf(stderr, "ring-bench: %s run with %u-byte records failed\n",
                transport_names[run->transport], run->len);
        return -1;
    }
    last_result = result;
    return (double)result.records * 1e9 / (double)result.nanoseconds;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median of repeat measurements, each on a fresh ring. */
static double median_rate(struct run *run, const uint8_t *template, int repeat,
                          const char *dir)
{
    double rates[16];
    char path[512], err[512];

    snprintf(path, sizeof(path), "%s/bench.ring", dir);
    run->ring_path = path;
    for (int i = 0; i < repeat; i++) {
        unlink(path);
        if (run->transport == T_RING &&
            fce_ring_create(path, 4u << 20, MAX_PAYLOAD, err, sizeof(err))) {
            fprintf(stderr, "ring-bench: %s\n", err);
            return -1;
        }
        rates[i] = measure(run, template);
        if (rates[i] < 0)
            return -1;
    }
    unlink(path);
    qsort(rates, (size_t)repeat, sizeof(rates[0]), compare_doubles);
    return rates[repeat / 2];
}

/* Records per run: about one second each on a 2-core VM. */
static uint64_t records_for(enum transport transport, uint32_t len,
                            double scale)
{
    static const double base[2][4] = {
        {20e6, 1.5e6, 1.5e6, 10e6}, /* 64-byte records */
        {4e6, 0.8e6, 0.8e6, 2e6},   /* 1 KiB records */
    };
    double count = base[len > 64][transport] * scale;

    return count < 1000 ? 1000 : (uint64_t)count;
}

static int parse_args(int argc, char **argv, double *scale, int *repeat,
                      const char **only)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--scale") == 0)
            *scale = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--repeat") == 0)
            *repeat = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--only") == 0)
            *only = argv[i + 1];
        else
            return -1;
    }
    if ((argc - 1) % 2 != 0 || *scale <= 0 || *repeat < 1 || *repeat > 15) {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const uint32_t sizes[] = {64, 1024};
    static uint8_t template[MAX_PAYLOAD];
    double scale = 1.0, ring64 = 0, pipe64 = 0;
    int repeat = 3;
    const char *only = NULL;
    char dir[] = "/dev/shm/fce-ring-bench.XXXXXX";

    if (parse_args(argc, argv, &scale, &repeat, &only) != 0) {
        fprintf(stderr, "usage: ring-bench [--scale F] [--repeat 1..15] "
                        "[--only ring|pipe|socketpair|pipe-batched]\n");
        return 2;
    }
    if (!mkdtemp(dir)) {
        perror("ring-bench: mkdtemp");
        return 1;
    }
    for (size_t i = 0; i < sizeof(template); i++)
        template[i] = (uint8_t)(i * 13);

    for (size_t s = 0; s < 2; s++) {
        double ring_rate = 0;

        for (int t = T_RING; t <= T_PIPE_BATCHED; t++) {
            struct run run = {(enum transport)t, sizes[s], 0, NULL};
            double rate;

            if (only && strcmp(only, transport_names[t]) != 0)
                continue;
            run.records = records_for(run.transport, run.len, scale);
            rate = median_rate(&run, template, repeat, dir);
            if (rate < 0) {
                rmdir(dir);
                return 1;
            }
            if (t == T_RING)
                ring_rate = rate;
            printf("bench ring: size=%u transport=%s records=%" PRIu64
                   " rate=%.0f records/s (%.2f GB/s) ring/this=%.1f\n",
                   run.len, transport_names[t], run.records, rate,
                   rate * run.len / 1e9, ring_rate / rate);
            if (s == 0 && t == T_RING)
                ring64 = rate;
            if (s == 0 && t == T_PIPE)
                pipe64 = rate;
            if (t == T_RING)
                printf("bench ring: size=%u transport=ring futex sleeps: "
                       "producer %" PRIu64 " consumer %" PRIu64 " (last run)\n",
                       run.len, last_result.producer_waits,
                       last_result.consumer_waits);
            fflush(stdout);
        }
    }
    rmdir(dir);
    if (!only)
        printf("bench ring: ours=%.0f peer=pipe %.0f ratio=%.1f\n", ring64,
               pipe64, ring64 / pipe64);
    return 0;
}
