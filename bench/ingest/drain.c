/*
 * ingest-drain: consumes a ring and releases every record, counting them,
 * so ingest benchmarks and tests run without an encoder. Prints the count
 * on SIGTERM or SIGINT, or once --count records arrived.
 *
 *   ingest-drain RING [--delay-ms MS] [--count N] [--check-kinds] [--poll]
 *
 * --delay-ms waits before attaching (to let a ring fill first);
 * --check-kinds exits 1 when a record's kind is not an fce_kind or its
 * payload is not a valid ingest record; --poll reads without sleeping on
 * the ring's futex.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fce_event.h"
#include "fce_ring.h"

static volatile sig_atomic_t stopping;

static void on_signal(int signo)
{
    (void)signo;
    stopping = 1;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    long delay_ms = 0;
    unsigned long long want = 0, seen = 0, bad = 0;
    int check = 0, poll = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc)
            delay_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            want = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--check-kinds") == 0)
            check = 1;
        else if (strcmp(argv[i], "--poll") == 0)
            poll = 1;
        else if (!path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: ingest-drain RING [--delay-ms MS] "
                            "[--count N] [--check-kinds] [--poll]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "ingest-drain: no ring given\n");
        return 2;
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct timespec pause = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);

    struct fce_ring *ring;
    char err[256];
    if (fce_ring_attach(path, &ring, err, sizeof(err)) < 0) {
        fprintf(stderr, "ingest-drain: %s\n", err);
        return 1;
    }
    while (!stopping && (!want || seen < want)) {
        struct fce_ring_record record;
        /* Polls with a short sleep rather than fce_ring_read_wait(), so
         * the producer never pays for a futex wake: the benchmark measures
         * ingest, not the consumer's wake-up strategy. */
        int rc = poll ? fce_ring_read(ring, &record)
                      : fce_ring_read_wait(ring, &record, 100);
        if (rc == -EAGAIN) {
            struct timespec nap = {0, 1000000};
            nanosleep(&nap, NULL);
            continue;
        }
        if (rc == -ETIMEDOUT || rc == -EINTR)
            continue;
        if (rc < 0)
            break;
        struct fce_event_view view;
        if (check &&
            fce_event_record_read(record.data, record.len,
                                  (enum fce_kind)record.kind, &view) < 0)
            bad++;
        fce_ring_release(ring, record.end);
        seen++;
    }
    fce_ring_detach(ring);
    printf("%llu\n", seen);
    fflush(stdout);
    return bad ? 1 : 0;
}
