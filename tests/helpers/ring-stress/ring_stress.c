/*
 * ring-stress: the producer and consumer of the multi-process ring stress
 * test (tests/e2e/ring-stress.sh), which kills both with SIGKILL at random
 * moments and restarts them.
 *
 *   ring-stress produce RING TOTAL
 *       commits records 1..TOTAL. After a restart it resumes at the ring's
 *       next sequence number, so a record it was writing when killed is
 *       written again with the same number.
 *   ring-stress consume RING SINK TOTAL
 *       reads records, checks each one, "delivers" new ones to the SINK
 *       file (its durable progress, saved every 32 records and before
 *       every release; releases come in batches of 1 to 1024 records) and
 *       exits 0 once TOTAL records are delivered.
 *   ring-stress report SINK
 *       prints the SINK counters as key=value.
 *
 * A record's payload is [seq][checksum][words derived from seq], and its
 * length is derived from seq too, so the consumer can check every byte.
 * The consumer counts losses (a sequence gap), corruptions (a bad length,
 * seq or checksum), duplicates (records at or below the delivered mark,
 * which the ring hands out again after a consumer restart) and window
 * violations (a restart that does not resume exactly at the committed
 * tail, or a tail past what was delivered).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fce_ring.h"

#define SINK_MAGIC 0x4b4e495353454346ull /* "FCESSINK" */
#define MAX_RECORD 4096u

/* The consumer's durable state, rewritten with one pwrite per batch. */
struct sink {
    uint64_t magic;
    uint64_t delivered; /* highest sequence number handed on */
    uint64_t duplicates;
    uint64_t lost;
    uint64_t corrupt;
    uint64_t window_violations;
    uint64_t restarts;
    uint64_t checked; /* records whose checksum was verified */
};

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Mostly small records, sometimes up to the maximum. */
static uint32_t length_of(uint64_t seq)
{
    uint64_t r = mix(seq);

    if (r % 64 == 0)
        return 16 + (uint32_t)((r >> 8) % (MAX_RECORD - 15));
    return 16 + (uint32_t)((r >> 8) % 240);
}

static uint64_t checksum(const uint8_t *payload, uint32_t len)
{
    uint64_t sum = 0xcbf29ce484222325ull, word;
    uint32_t i = 16;

    /* FNV-1a over 8-byte words (the bytes at 8..15 hold the sum). */
    memcpy(&word, payload, 8);
    sum = (sum ^ word) * 0x100000001b3ull;
    for (; i + 8 <= len; i += 8) {
        memcpy(&word, payload + i, 8);
        sum = (sum ^ word) * 0x100000001b3ull;
    }
    for (; i < len; i++)
        sum = (sum ^ payload[i]) * 0x100000001b3ull;
    return sum;
}

static void fill(uint8_t *payload, uint32_t len, uint64_t seq)
{
    uint64_t sum, word;
    uint32_t i = 16;

    memcpy(payload, &seq, 8);
    for (; i + 8 <= len; i += 8) {
        word = mix(seq * 8191 + i);
        memcpy(payload + i, &word, 8);
    }
    word = mix(~seq);
    memcpy(payload + i, &word, len - i);
    sum = checksum(payload, len);
    memcpy(payload + 8, &sum, 8);
}

static int parse_count(const char *text, uint64_t *value)
{
    char *end;

    errno = 0;
    *value = strtoull(text, &end, 10);
    return errno || *end || end == text ? -1 : 0;
}

static int attach(const char *path, enum fce_ring_side side,
                  struct fce_ring **ring)
{
    char err[512];

    if (fce_ring_attach(path, ring, err, sizeof(err)) != 0 ||
        fce_ring_claim(*ring, side, err, sizeof(err)) != 0) {
        fprintf(stderr, "ring-stress: %s\n", err);
        return -1;
    }
    return 0;
}

/* ---- producer ---- */

static int produce(const char *path, uint64_t total)
{
    struct fce_ring *ring;
    struct fce_ring_info info;
    uint64_t seq;

    if (attach(path, FCE_RING_PRODUCER, &ring) != 0)
        return 1;
    fce_ring_info(ring, &info);
    fprintf(stderr, "ring-stress: producer resumes at seq %" PRIu64 "\n",
            info.next_seq);

    for (seq = info.next_seq; seq <= total; seq++) {
        uint32_t len = length_of(seq);
        /* Every 16th record reserves the maximum and commits less. */
        uint32_t reserve = seq % 16 == 0 ? MAX_RECORD : len;
        void *payload;
        int rc;

        do
            rc = fce_ring_reserve_wait(ring, reserve, 1000, &payload);
        while (rc == -ETIMEDOUT);
        if (rc != 0) {
            fprintf(stderr, "ring-stress: reserve failed: %s\n", strerror(-rc));
            return 1;
        }
        fill(payload, len, seq);
        if (fce_ring_commit(ring, (uint32_t)(seq & 0xff), len) != seq) {
            fprintf(stderr,
                    "ring-stress: commit did not return seq %" PRIu64 "\n",
                    seq);
            return 3;
        }
    }
    fce_ring_detach(ring);
    return 0;
}

/* ---- consumer ---- */

struct consumer {
    struct fce_ring *ring;
    struct sink sink;
    int sink_fd;
    uint64_t expected;    /* next sequence number the ring must return */
    uint64_t pending_end; /* end of the last record read, not released */
    uint32_t pending, batch;
};

static int save_sink(struct consumer *c)
{
    if (pwrite(c->sink_fd, &c->sink, sizeof(c->sink), 0) !=
        (ssize_t)sizeof(c->sink)) {
        perror("ring-stress: write sink");
        return -1;
    }
    return 0;
}

/* Hands the batch on (the sink write) and only then releases it. */
static int flush(struct consumer *c)
{
    if (c->pending == 0)
        return 0;
    if (save_sink(c) != 0)
        return -1;
    fce_ring_release(c->ring, c->pending_end);
    c->pending = 0;
    c->batch = 1 + (uint32_t)(mix(c->sink.delivered) % 1024);
    return 0;
}

static int load_sink(struct consumer *c, const char *path)
{
    ssize_t got;

    c->sink_fd = open(path, O_RDWR | O_CREAT, 0600);
    if (c->sink_fd < 0) {
        perror("ring-stress: open sink");
        return -1;
    }
    got = pread(c->sink_fd, &c->sink, sizeof(c->sink), 0);
    if (got == 0) {
        memset(&c->sink, 0, sizeof(c->sink));
        c->sink.magic = SINK_MAGIC;
    } else if (got != (ssize_t)sizeof(c->sink) || c->sink.magic != SINK_MAGIC) {
        fprintf(stderr, "ring-stress: %s is not a sink file\n", path);
        return -1;
    }
    return 0;
}

static void check_record(struct consumer *c, const struct fce_ring_record *r)
{
    const uint8_t *payload = r->data;
    uint64_t seq = 0, sum = 0;

    if (r->len >= 16) {
        memcpy(&seq, payload, 8);
        memcpy(&sum, payload + 8, 8);
    }
    if (r->len != length_of(r->seq) || seq != r->seq ||
        sum != checksum(payload, r->len) || r->kind != (r->seq & 0xff)) {
        fprintf(stderr, "ring-stress: corrupt record seq %" PRIu64 "\n",
                r->seq);
        c->sink.corrupt++;
    }
    c->sink.checked++;

    if (r->seq > c->expected) {
        fprintf(stderr,
                "ring-stress: lost %" PRIu64 " records before %" PRIu64 "\n",
                r->seq - c->expected, r->seq);
        c->sink.lost += r->seq - c->expected;
    } else if (r->seq < c->expected) {
        c->sink.window_violations++;
    }
    c->expected = r->seq + 1;

    if (r->seq <= c->sink.delivered)
        c->sink.duplicates++;
    else
        c->sink.delivered = r->seq;
}

static int start_consumer(struct consumer *c, const char *ring_path,
                          const char *sink_path)
{
    struct fce_ring_info info;

    if (load_sink(c, sink_path) != 0 ||
        attach(ring_path, FCE_RING_CONSUMER, &c->ring) != 0)
        return -1;
    fce_ring_info(c->ring, &info);
    /* The tail only moves after the sink write, so it can never be past
     * the delivered mark; re-reads start right after the tail. */
    if (info.records_out > c->sink.delivered) {
        fprintf(stderr,
                "ring-stress: tail at %" PRIu64 " is past delivered %" PRIu64
                "\n",
                info.records_out, c->sink.delivered);
        c->sink.window_violations++;
    }
    c->expected = info.records_out + 1;
    c->sink.restarts++;
    c->batch = 1 + (uint32_t)(mix(c->sink.restarts) % 1024);
    fprintf(stderr,
            "ring-stress: consumer resumes at seq %" PRIu64
            ", delivered %" PRIu64 "\n",
            c->expected, c->sink.delivered);
    return save_sink(c);
}

static int consume(const char *ring_path, const char *sink_path, uint64_t total)
{
    struct consumer c = {0};
    struct fce_ring_record record;

    if (start_consumer(&c, ring_path, sink_path) != 0)
        return 1;
    while (c.sink.delivered < total) {
        int rc = fce_ring_read(c.ring, &record);

        /* Nothing to read now: like a publisher that lingers for a fuller
         * batch, wait 2 ms with the batch held, then hand it on before a
         * longer sleep (a full ring cannot move until it is released). */
        if (rc == -EAGAIN)
            rc = fce_ring_read_wait(c.ring, &record, c.pending ? 2 : 200);
        if (rc == -ETIMEDOUT) {
            if (flush(&c) != 0)
                return 1;
            continue;
        }
        if (rc != 0) {
            fprintf(stderr, "ring-stress: read failed: %s\n", strerror(-rc));
            c.sink.corrupt++;
            save_sink(&c);
            return 4;
        }
        check_record(&c, &record);
        c.pending++;
        c.pending_end = record.end;
        /* Every 32 records the batch so far is "sent" (the delivered mark
         * is saved); the release waits for the whole batch, as a publisher
         * waits for the broker's acknowledgement. */
        if (c.pending % 32 == 0 && save_sink(&c) != 0)
            return 1;
        if (c.pending >= c.batch && flush(&c) != 0)
            return 1;
    }
    if (flush(&c) != 0)
        return 1;
    fce_ring_detach(c.ring);
    return c.sink.corrupt || c.sink.lost || c.sink.window_violations ? 5 : 0;
}

static int report(const char *sink_path)
{
    struct consumer c = {0};

    if (load_sink(&c, sink_path) != 0)
        return 1;
    printf("delivered=%" PRIu64 " duplicates=%" PRIu64 " lost=%" PRIu64
           " corrupt=%" PRIu64 " window_violations=%" PRIu64
           " restarts=%" PRIu64 " checked=%" PRIu64 "\n",
           c.sink.delivered, c.sink.duplicates, c.sink.lost, c.sink.corrupt,
           c.sink.window_violations, c.sink.restarts, c.sink.checked);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t total;

    if (argc == 4 && strcmp(argv[1], "produce") == 0 &&
        parse_count(argv[3], &total) == 0)
        return produce(argv[2], total);
    if (argc == 5 && strcmp(argv[1], "consume") == 0 &&
        parse_count(argv[4], &total) == 0)
        return consume(argv[2], argv[3], total);
    if (argc == 3 && strcmp(argv[1], "report") == 0)
        return report(argv[2]);
    fprintf(stderr, "usage: ring-stress produce RING TOTAL\n"
                    "       ring-stress consume RING SINK TOTAL\n"
                    "       ring-stress report SINK\n");
    return 2;
}
