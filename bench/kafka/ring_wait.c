/*
 * kafka-ring-wait: waits until the consumer of a ring has released COUNT
 * records and prints the milliseconds that took, so bench-kafka can time
 * the publisher without spawning a process per check.
 *
 *   kafka-ring-wait RING COUNT [TIMEOUT_MS]
 *
 * Reads the ring header every millisecond (fce_ring_inspect, which never
 * attaches as producer or consumer). Prints "released N in MS ms" and
 * exits 0, or exits 1 on a timeout (default 120000 ms) or a bad ring.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fce_ring.h"

static double now_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
}

static int parse_u64(const char *text, uint64_t *value)
{
    char *end;

    errno = 0;
    *value = strtoull(text, &end, 10);
    return errno || end == text || *end || text[0] == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
    const struct timespec tick = {0, 1000000};
    struct fce_ring_info info;
    uint64_t count, timeout_ms = 120000;
    char err[256];
    double start = now_ms();

    if (argc < 3 || argc > 4 || parse_u64(argv[2], &count) ||
        (argc == 4 && parse_u64(argv[3], &timeout_ms))) {
        fprintf(stderr, "usage: kafka-ring-wait RING COUNT [TIMEOUT_MS]\n");
        return 2;
    }
    for (;;) {
        if (fce_ring_inspect(argv[1], &info, err, sizeof(err)) != 0) {
            fprintf(stderr, "kafka-ring-wait: %s\n", err);
            return 1;
        }
        if (info.records_out >= count)
            break;
        if (now_ms() - start > (double)timeout_ms) {
            fprintf(stderr,
                    "kafka-ring-wait: timed out after %llu ms with %llu of "
                    "%llu records released\n",
                    (unsigned long long)timeout_ms,
                    (unsigned long long)info.records_out,
                    (unsigned long long)count);
            return 1;
        }
        nanosleep(&tick, NULL);
    }
    printf("released %llu in %.1f ms\n", (unsigned long long)info.records_out,
           now_ms() - start);
    return 0;
}
