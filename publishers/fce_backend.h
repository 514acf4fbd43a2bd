/*
 * fce_backend: the interface between the publisher driver (one loop shared
 * by every backend) and a backend (kafka, sns, sqs, pubsub, file).
 *
 * The driver reads the publisher's ring, batches records by count, bytes
 * and time, and hands batches to publish(). The backend completes every
 * record it accepted exactly once through ctx->complete(), from publish()
 * or later from poll(), in any order. The driver tracks completions,
 * retries FCE_OUTCOME_RETRY records with backoff, writes
 * FCE_OUTCOME_REJECTED records to the dead-letter file, and commits the
 * ring tail only up to the oldest record not yet completed.
 *
 * All callbacks run on the driver's one thread.
 */
#ifndef FCE_BACKEND_H
#define FCE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "fce_ce.h"
#include "fce_config.h"
#include "fce_option.h"

/* One ring record while the driver holds it. */
struct fce_pub_record {
    uint64_t seq;       /* ring sequence number: the record's identity */
    struct fce_ce ce;   /* points into the ring; valid until completed */
    size_t size;        /* ring payload bytes, for batch limits */
    uint32_t attempts;  /* publish() calls that included it, this one too */
    void *backend_data; /* the backend's own, while the record is in flight */
};

enum fce_outcome {
    FCE_OUTCOME_DELIVERED, /* acknowledged by the service */
    FCE_OUTCOME_RETRY,     /* transient failure: try again after backoff */
    FCE_OUTCOME_REJECTED,  /* can never succeed: dead-letter it */
};

struct fce_backend_ctx {
    const struct fce_publisher_config *publisher;
    const void *settings; /* the backend's struct, filled from its options */
    void *driver;
    /* reason: short text for logs and the dead-letter file, or NULL. */
    void (*complete)(void *driver, struct fce_pub_record *record,
                     enum fce_outcome outcome, const char *reason);
};

struct fce_backend {
    const struct fce_backend_type *type;

    /* Connects or prepares. Returns 0 or a negative errno (logged by the
     * backend); the driver retries open with backoff. */
    int (*open)(const struct fce_backend_ctx *ctx, void **state);

    /*
     * Takes up to count records and returns how many it accepted, in order
     * from the first (0 when it has no room now), or a negative errno when
     * the backend is broken and must be reopened. Accepted records are
     * completed exactly once, possibly before publish() returns.
     */
    int (*publish)(void *state, struct fce_pub_record **records, size_t count);

    /* Serves I/O and delivers completions, waiting at most timeout_ms.
     * Returns 0, or a negative errno when the backend must be reopened. */
    int (*poll)(void *state, int timeout_ms);

    /* Frees the backend. Records still in flight are not completed: the
     * driver publishes them again to the next instance. */
    void (*close)(void *state);

    /* Optional (NULL: nothing to do). Reopens what the backend writes to,
     * after SIGHUP (log rotation). Returns 0 or a negative errno, which
     * makes the driver close and reopen the backend. */
    int (*reopen)(void *state);
};

/* Looks a backend up by type name among those linked in, or NULL. */
const struct fce_backend *fce_backend_find(const char *name);

#endif
