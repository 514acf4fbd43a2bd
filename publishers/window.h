/*
 * fce_window: the records the publisher driver holds between reading them
 * from its ring and releasing them, in ring order.
 *
 * Each record is in one state: ready (never published, or due for a retry),
 * in flight (accepted by the backend), backoff (waiting to be retried) or
 * done (delivered or dead-lettered). Completions arrive in any order; the
 * ring tail moves only past the oldest records that are all done, so a
 * crash re-reads every record whose completion was not yet known.
 *
 * Slots are addressed by an absolute index that grows without wrapping;
 * slot i lives at slots[i % capacity]. The window never allocates after
 * fce_window_init(). Single-threaded: the driver's thread only.
 */
#ifndef FCE_WINDOW_H
#define FCE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fce_backend.h"

enum fce_slot_state {
    FCE_SLOT_READY,
    FCE_SLOT_IN_FLIGHT,
    FCE_SLOT_BACKOFF,
    FCE_SLOT_DONE,
};

struct fce_slot {
    struct fce_pub_record record; /* first, so a record maps to its slot */
    uint64_t index;               /* absolute index in the window */
    uint64_t end;                 /* ring position after the record */
    uint64_t ready_ms;            /* read time; for a retry, its due time */
    enum fce_slot_state state;
    bool fresh;      /* never handed to the backend */
    bool malformed;  /* the ring record did not parse */
    const void *raw; /* the ring payload, valid until released */
};

struct fce_window {
    struct fce_slot *slots;
    size_t capacity;
    uint64_t base;        /* oldest slot not yet released */
    uint64_t next;        /* index the next pushed record gets */
    uint64_t cursor;      /* oldest fresh slot; all later ones are fresh */
    uint64_t retry_hint;  /* no ready retry below this index */
    size_t ready_retries; /* ready slots below cursor */
    size_t in_flight;     /* slots in FCE_SLOT_IN_FLIGHT */
    size_t backoff;       /* slots in FCE_SLOT_BACKOFF */
    uint64_t fresh_bytes; /* payload bytes from cursor to next */
    uint64_t min_due_ms;  /* no retry is due before (backoff > 0) */
};

/* Allocates capacity slots. Returns 0 or -ENOMEM (-EINVAL for 0). */
int fce_window_init(struct fce_window *window, size_t capacity);

void fce_window_free(struct fce_window *window);

static inline size_t fce_window_count(const struct fce_window *window)
{
    return (size_t)(window->next - window->base);
}

static inline bool fce_window_full(const struct fce_window *window)
{
    return fce_window_count(window) == window->capacity;
}

/* Whether fresh records wait for a retry in backoff (fce_window_take()). */
static inline bool fce_window_fresh_held(const struct fce_window *window)
{
    return window->backoff > 0;
}

/* Records never handed to the backend yet. */
static inline size_t fce_window_fresh(const struct fce_window *window)
{
    return (size_t)(window->next - window->cursor);
}

static inline struct fce_slot *fce_window_slot(const struct fce_window *window,
                                               uint64_t index)
{
    return &window->slots[index % window->capacity];
}

static inline struct fce_slot *fce_slot_of(struct fce_pub_record *record)
{
    return (struct fce_slot *)record;
}

/*
 * Appends a record read from the ring, fresh and ready, and returns its
 * slot so the caller can fill record.ce. The window must not be full.
 */
struct fce_slot *fce_window_push(struct fce_window *window, uint64_t seq,
                                 uint64_t end, size_t size, uint64_t now_ms);

/*
 * Collects ready records for one publish() call: due retries first, oldest
 * first, then fresh records in ring order, until max_records or max_bytes
 * (a first record larger than max_bytes still goes alone). Fresh records
 * come only when no record waits in backoff and every ready retry fits,
 * so retries keep the ring order of each key. Returns the count written
 * to records; states are unchanged.
 */
size_t fce_window_take(struct fce_window *window,
                       struct fce_pub_record **records, size_t max_records,
                       uint64_t max_bytes);

/* Marks the records of a batch in flight before publish() is called, so
 * completions from inside publish() find them in flight. */
void fce_window_begin(struct fce_window *window,
                      struct fce_pub_record **records, size_t count);

/* After publish(): records from accepted on were not taken by the backend
 * and become ready again, as they were. */
void fce_window_end(struct fce_window *window, struct fce_pub_record **records,
                    size_t count, size_t accepted);

/* Marks an in-flight or ready record done (delivered or dead-lettered). */
void fce_window_done(struct fce_window *window, struct fce_slot *slot);

/* Marks an in-flight record to be retried at due_ms. */
void fce_window_retry(struct fce_window *window, struct fce_slot *slot,
                      uint64_t due_ms);

/* Makes backoff records whose due time is at most now_ms ready, in ring
 * order, up to the first one not yet due. Returns how many became ready. */
size_t fce_window_promote(struct fce_window *window, uint64_t now_ms);

/* Makes every in-flight record ready again (the backend was closed). */
void fce_window_requeue(struct fce_window *window);

/* The records fce_window_release() dropped, in the form that
 * fce_ring_release_counted() takes. */
struct fce_release_mark {
    uint64_t end;   /* ring position after the last record dropped */
    uint64_t seq;   /* its sequence number */
    uint64_t bytes; /* payload bytes of every record dropped */
};

/*
 * Drops the done records at the old end of the window. Returns true and
 * fills *mark when any was dropped.
 */
bool fce_window_release(struct fce_window *window,
                        struct fce_release_mark *mark);

/* Time the oldest fresh record was read, or UINT64_MAX when none is. */
uint64_t fce_window_oldest_fresh_ms(const struct fce_window *window);

#endif
