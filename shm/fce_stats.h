/*
 * fce_stats: a process's live counters in a small shared file, so that
 * `fce stat` and ingest's /metrics can read every process without asking it.
 *
 * One file per process, <ring directory>/<process name>.stats, written by
 * that process only. Counters are 64-bit, monotonic, updated with relaxed
 * atomics (readers want totals, not ordering with other memory); gauges are
 * the same slots set rather than added to. The library never logs.
 */
#ifndef FCE_STATS_H
#define FCE_STATS_H

#include <stddef.h>
#include <stdint.h>

struct fce_stats;

#define FCE_STATS_NAME_MAX 47  /* longest counter name, bytes */
#define FCE_STATS_SLOTS    128 /* counters per file */

/*
 * Creates or reopens the stats file of the process named process at path.
 * Reopening keeps the counters (a restarted process continues its totals)
 * and records the new pid and start time.
 */
int fce_stats_open(const char *path, const char *process,
                   struct fce_stats **stats, char *err, size_t err_size);

void fce_stats_close(struct fce_stats *stats);

/*
 * Returns the counter slot called name, adding it on first use, or NULL
 * when the name is too long or the file is full. The pointer stays valid
 * until fce_stats_close(); keep it instead of looking it up per event.
 * Names are Prometheus-style: lowercase, digits and '_'.
 */
uint64_t *fce_stats_counter(struct fce_stats *stats, const char *name);

static inline void fce_stats_add(uint64_t *counter, uint64_t n)
{
    if (counter)
        __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline void fce_stats_set(uint64_t *gauge, uint64_t value)
{
    if (gauge)
        __atomic_store_n(gauge, value, __ATOMIC_RELAXED);
}

/* One counter as a reader sees it. */
struct fce_stats_entry {
    char name[FCE_STATS_NAME_MAX + 1];
    uint64_t value;
};

/* What fce_stats_read() returns about one process. */
struct fce_stats_snapshot {
    char process[FCE_STATS_NAME_MAX + 1];
    int32_t pid;
    uint64_t started_unix_ms; /* when the current process opened it */
    uint64_t updated_unix_ms; /* last fce_stats_touch() */
    size_t count;
    struct fce_stats_entry entries[FCE_STATS_SLOTS];
};

/* Reads the stats file at path without writing to it. */
int fce_stats_read(const char *path, struct fce_stats_snapshot *snapshot,
                   char *err, size_t err_size);

/* Records that the process is alive (call about once a second). */
void fce_stats_touch(struct fce_stats *stats);

#endif
