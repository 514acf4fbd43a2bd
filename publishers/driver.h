/*
 * The publisher driver: one loop shared by every backend. It reads the
 * publisher's ring, batches records, hands them to the backend, retries,
 * dead-letters, and releases the ring tail as records complete (see
 * fce_backend.h for the backend's side and window.h for the bookkeeping).
 *
 * Used by fce-publisher and its unit tests; single-threaded.
 */
#ifndef FCE_DRIVER_H
#define FCE_DRIVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "fce_backend.h"
#include "fce_buf.h"
#include "fce_config.h"

/* Defaults for batch and retry fields the configuration left at zero. */
#define FCE_DRIVER_MAX_RECORDS     500
#define FCE_DRIVER_MAX_BYTES       (1u << 20)
#define FCE_DRIVER_RETRY_INITIAL   100   /* ms */
#define FCE_DRIVER_RETRY_MAX       30000 /* ms */
#define FCE_DRIVER_RETRY_GROWTH    200   /* percent per attempt */
#define FCE_DRIVER_MAX_IN_FLIGHT   16384 /* records held at once */
#define FCE_DRIVER_DRAIN_TIMEOUT   10000 /* ms */
#define FCE_DRIVER_OPEN_BACKOFF_MS 500

/*
 * Computes the wait before retry number attempt (1 for the first retry):
 * initial * multiplier^(attempt-1), capped at max, then moved by up to
 * +-jitter percent using random (any 64-bit value), and capped at max
 * again. Zero policy fields take the FCE_DRIVER_RETRY_* defaults.
 */
uint64_t fce_backoff_ms(const struct fce_retry_policy *policy, uint32_t attempt,
                        uint64_t random);

/* The dead-letter file: one JSON object per line, appended and synced. */
struct fce_dead_letter {
    char *path;
    int fd; /* -1 until the first record */
    struct fce_buf line;
};

/* Prepares writing to path (the file opens on the first record). */
int fce_dead_letter_init(struct fce_dead_letter *dead_letter, const char *path);

void fce_dead_letter_close(struct fce_dead_letter *dead_letter);

/*
 * Appends one line {"reason", "publisher", "backend", "seq", "attempts",
 * "time", "event"} and syncs it. event is the structured CloudEvent; a
 * record that did not parse has "record_base64" instead. Returns 0 or a
 * negative errno; the record must then stay in the ring.
 */
int fce_dead_letter_write(struct fce_dead_letter *dead_letter,
                          const struct fce_publisher_config *publisher,
                          const struct fce_pub_record *record, bool malformed,
                          const void *raw, size_t raw_len, const char *reason);

struct fce_driver_options {
    const struct fce_publisher_config *publisher;
    const struct fce_backend *backend;
    const char *ring_path;
    const char *stats_path;       /* NULL: no stats file */
    const char *dead_letter_path; /* NULL: <ring path>.dead-letter.jsonl */
    size_t max_in_flight;         /* 0: FCE_DRIVER_MAX_IN_FLIGHT */
    uint64_t drain_timeout_ms;    /* 0: FCE_DRIVER_DRAIN_TIMEOUT */
    /* Set by signal handlers: stop (SIGTERM/SIGINT), hangup (SIGHUP). */
    volatile sig_atomic_t *stop;
    volatile sig_atomic_t *hangup;
};

/*
 * Runs the loop until *stop is set, then drains: no new records are taken,
 * in-flight records get drain_timeout_ms to complete, and the completed
 * ones are released. Returns 0, -EINVAL when the backend reported a
 * configuration error from open(), or another negative errno when the ring
 * or the stats file cannot be used (logged).
 */
int fce_driver_run(const struct fce_driver_options *options);

#endif
