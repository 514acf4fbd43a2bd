/*
 * The driver's window of held records. Invariants:
 *   base <= retry_hint <= cursor <= next, and next - base <= capacity;
 *   every slot from cursor to next is fresh and ready;
 *   ready_retries counts the ready slots below cursor, none below
 *   retry_hint, so a batch without retries never scans.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "window.h"

int fce_window_init(struct fce_window *window, size_t capacity)
{
    memset(window, 0, sizeof(*window));
    if (capacity == 0)
        return -EINVAL;

    window->slots = calloc(capacity, sizeof(window->slots[0]));
    if (!window->slots)
        return -ENOMEM;
    window->capacity = capacity;
    window->min_due_ms = UINT64_MAX;
    return 0;
}

void fce_window_free(struct fce_window *window)
{
    free(window->slots);
    memset(window, 0, sizeof(*window));
}

struct fce_slot *fce_window_push(struct fce_window *window, uint64_t seq,
                                 uint64_t end, size_t size, uint64_t now_ms)
{
    struct fce_slot *slot = fce_window_slot(window, window->next);

    memset(slot, 0, sizeof(*slot));
    slot->record.seq = seq;
    slot->record.size = size;
    slot->index = window->next;
    slot->end = end;
    slot->ready_ms = now_ms;
    slot->state = FCE_SLOT_READY;
    slot->fresh = true;

    window->next++;
    window->fresh_bytes += size;
    return slot;
}

/* Ready retries below the cursor, oldest first. Moves retry_hint past the
 * slots that are not ready so the next scan starts later. */
static size_t take_retries(struct fce_window *window,
                           struct fce_pub_record **records, size_t max_records,
                           uint64_t max_bytes, uint64_t *bytes)
{
    size_t count = 0, seen = 0;
    bool hint_moves = true;

    for (uint64_t i = window->retry_hint; i < window->cursor; i++) {
        struct fce_slot *slot = fce_window_slot(window, i);

        if (slot->state != FCE_SLOT_READY) {
            if (hint_moves)
                window->retry_hint = i + 1;
            continue;
        }
        hint_moves = false;
        if (count == max_records ||
            (count > 0 && *bytes + slot->record.size > max_bytes))
            break;
        records[count++] = &slot->record;
        *bytes += slot->record.size;
        if (++seen == window->ready_retries)
            break;
    }
    return count;
}

size_t fce_window_take(struct fce_window *window,
                       struct fce_pub_record **records, size_t max_records,
                       uint64_t max_bytes)
{
    uint64_t bytes = 0;
    size_t count = 0;

    if (window->ready_retries > 0)
        count = take_retries(window, records, max_records, max_bytes, &bytes);

    /* Fresh records follow every retry, so none overtakes an older record
     * of its key: not while a retry waits in backoff or is left over.
     * TODO(driver): hold back only the keys that have a record in backoff,
     * so other keys keep flowing until the window fills. */
    if (window->backoff > 0 || count < window->ready_retries)
        return count;
    for (uint64_t i = window->cursor; i < window->next; i++) {
        struct fce_slot *slot = fce_window_slot(window, i);

        if (count == max_records ||
            (count > 0 && bytes + slot->record.size > max_bytes))
            break;
        records[count++] = &slot->record;
        bytes += slot->record.size;
    }
    return count;
}

void fce_window_begin(struct fce_window *window,
                      struct fce_pub_record **records, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        struct fce_slot *slot = fce_slot_of(records[i]);

        if (slot->fresh) {
            /* Fresh records of a batch are the next ones after cursor. */
            window->cursor = slot->index + 1;
            window->fresh_bytes -= slot->record.size;
            slot->fresh = false;
        } else {
            window->ready_retries--;
        }
        slot->state = FCE_SLOT_IN_FLIGHT;
        slot->record.attempts++;
        window->in_flight++;
    }
}

void fce_window_end(struct fce_window *window, struct fce_pub_record **records,
                    size_t count, size_t accepted)
{
    /* Backwards, so fresh records return to the cursor one by one. */
    for (size_t i = count; i > accepted; i--) {
        struct fce_slot *slot = fce_slot_of(records[i - 1]);

        slot->record.attempts--;
        if (slot->state != FCE_SLOT_IN_FLIGHT)
            continue; /* completed although not accepted: keep the result */
        window->in_flight--;
        slot->state = FCE_SLOT_READY;
        if (slot->record.attempts == 0 && slot->index + 1 == window->cursor) {
            window->cursor = slot->index;
            window->fresh_bytes += slot->record.size;
            slot->fresh = true;
            continue;
        }
        window->ready_retries++;
        if (slot->index < window->retry_hint)
            window->retry_hint = slot->index;
    }
}

/* Leaves the state a slot had before it is moved to another. */
static void leave_state(struct fce_window *window, struct fce_slot *slot)
{
    switch (slot->state) {
    case FCE_SLOT_IN_FLIGHT:
        window->in_flight--;
        break;
    case FCE_SLOT_BACKOFF:
        window->backoff--;
        break;
    case FCE_SLOT_READY:
        /* Not fresh: the driver finishes a record only after
         * fce_window_begin() took it past the cursor. */
        window->ready_retries--;
        break;
    case FCE_SLOT_DONE:
        break;
    }
}

void fce_window_done(struct fce_window *window, struct fce_slot *slot)
{
    leave_state(window, slot);
    slot->state = FCE_SLOT_DONE;
}

void fce_window_retry(struct fce_window *window, struct fce_slot *slot,
                      uint64_t due_ms)
{
    leave_state(window, slot);
    slot->state = FCE_SLOT_BACKOFF;
    slot->ready_ms = due_ms;
    window->backoff++;
    if (due_ms < window->min_due_ms)
        window->min_due_ms = due_ms;
}

size_t fce_window_promote(struct fce_window *window, uint64_t now_ms)
{
    size_t promoted = 0;

    if (window->backoff == 0 || now_ms < window->min_due_ms)
        return 0;

    /* In ring order, up to the first record not yet due: a later record
     * never becomes ready before an older one, whatever their jitter. */
    window->min_due_ms = UINT64_MAX;
    for (uint64_t i = window->base; i < window->cursor; i++) {
        struct fce_slot *slot = fce_window_slot(window, i);

        if (slot->state != FCE_SLOT_BACKOFF)
            continue;
        if (slot->ready_ms > now_ms) {
            window->min_due_ms = slot->ready_ms;
            break;
        }
        slot->state = FCE_SLOT_READY;
        window->backoff--;
        window->ready_retries++;
        if (i < window->retry_hint)
            window->retry_hint = i;
        promoted++;
    }
    return promoted;
}

void fce_window_requeue(struct fce_window *window)
{
    for (uint64_t i = window->base; i < window->cursor; i++) {
        struct fce_slot *slot = fce_window_slot(window, i);

        if (slot->state != FCE_SLOT_IN_FLIGHT)
            continue;
        slot->state = FCE_SLOT_READY;
        window->in_flight--;
        window->ready_retries++;
        if (i < window->retry_hint)
            window->retry_hint = i;
    }
}

bool fce_window_release(struct fce_window *window,
                        struct fce_release_mark *mark)
{
    uint64_t start = window->base;
    struct fce_release_mark dropped = {0};

    while (window->base < window->cursor) {
        struct fce_slot *slot = fce_window_slot(window, window->base);

        if (slot->state != FCE_SLOT_DONE)
            break;
        dropped.end = slot->end;
        dropped.seq = slot->record.seq;
        dropped.bytes += slot->record.size;
        window->base++;
    }
    if (window->retry_hint < window->base)
        window->retry_hint = window->base;
    if (window->base == start)
        return false;
    *mark = dropped;
    return true;
}

uint64_t fce_window_oldest_fresh_ms(const struct fce_window *window)
{
    if (window->cursor == window->next)
        return UINT64_MAX;
    return fce_window_slot(window, window->cursor)->ready_ms;
}
