/*
 * The record path: reserve and commit (producer), read and release
 * (consumer), and the futex sleeps of both sides. ring_layout.h describes
 * the layout and the position arithmetic.
 *
 * Fast path: each side keeps a private copy of the other side's position
 * and reloads it (one cache-line transfer) only when the copy shows the
 * ring is full or empty, so a burst of records costs one transfer per
 * burst, not per record.
 *
 * Sleeping: a side with nothing to do spins briefly, then sets its sleeper
 * flag and loads the other side's position again before it sleeps on its
 * futex word. The other side stores its position and then loads the flag.
 * Both pairs of store and load need a full barrier between them, so that
 * at least one side sees the other's store and no wakeup is lost. The
 * barrier is asymmetric: the sleeping side, on its rare slow path, issues
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which runs a full barrier
 * on every CPU that runs a registered process, so the fast paths (commit
 * and release) need only a compiler barrier and make no system call when
 * nobody sleeps. A process that cannot register (a kernel before 4.16, a
 * seccomp filter, or FCE_RING_MEMBARRIER=0 in its environment) falls back
 * to a full fence on its fast path, and so does any side whose peer did
 * not register.
 */
#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fce_ring.h"
#include "ring_layout.h"

/* Polls of the other side's position before sleeping, with a pause
 * between them: about 10 us where a pause takes 25 ns (measured on the
 * AMD EPYC build machine), enough to cover a peer busy between records. */
#define SPIN_ROUNDS 400

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield" ::: "memory");
#endif
}

/* Adds one to a counter that only this side writes. */
static inline void bump(uint64_t *counter)
{
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
}

/* ---- futex ---- */

static void deadline_after(struct timespec *deadline, int timeout_ms)
{
    /* An unbounded wait sleeps in one-hour steps, so that every wait has a
     * deadline (see futex_wait). */
    long long ms = timeout_ms < 0 ? 3600 * 1000LL : timeout_ms;

    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (ms % 1000) * 1000000;
    if (deadline->tv_nsec >= 1000000000) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000;
    }
}

/* Moves deadline to at most ms milliseconds from now. */
static void cap_deadline(struct timespec *deadline, int ms)
{
    struct timespec cap;

    deadline_after(&cap, ms);
    if (cap.tv_sec < deadline->tv_sec ||
        (cap.tv_sec == deadline->tv_sec && cap.tv_nsec < deadline->tv_nsec))
        *deadline = cap;
}

static int deadline_passed(const struct timespec *deadline)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/*
 * Sleeps while *word == expected, until the absolute CLOCK_MONOTONIC
 * deadline. Shared (not FUTEX_PRIVATE) because the word lives in a file
 * mapping of two processes. With a deadline, the kernel ends the wait with
 * EINTR whenever a signal handler runs, even one installed with SA_RESTART.
 * Returns 0 (woken, or the word had changed), -ETIMEDOUT or -EINTR.
 */
static int futex_wait(uint32_t *word, uint32_t expected,
                      const struct timespec *deadline)
{
    if (syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, deadline, NULL,
                FUTEX_BITSET_MATCH_ANY) == 0)
        return 0;
    return errno == EAGAIN ? 0 : -errno;
}

static void wake(uint32_t *word)
{
    /* Release: pairs with the acquire load of the word in
     * sleep_until_moved(), so a sleeper that sees the new word also sees
     * the position stored before it. */
    __atomic_fetch_add(word, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int ring_barrier_register(void)
{
    static int state; /* 0 not tried, 1 registered, -1 unavailable */
    int current = __atomic_load_n(&state, __ATOMIC_RELAXED);
    const char *disabled;
    long commands;

    if (current != 0)
        return current == 1;
    disabled = getenv("FCE_RING_MEMBARRIER");
    commands = disabled && strcmp(disabled, "0") == 0
                   ? 0
                   : syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    current =
        commands > 0 && (commands & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
                syscall(SYS_membarrier,
                        MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0
            ? 1
            : -1;
    __atomic_store_n(&state, current, __ATOMIC_RELAXED);
    return current == 1;
}

/* Wakes the other side if it sleeps; called right after publishing. */
static void wake_if_sleeping(struct fce_ring *ring, uint32_t *flag,
                             uint32_t *word)
{
    /* Orders the position store before the flag load (see the top of
     * this file): the sleeper's membarrier does it when both processes
     * are registered, a full fence otherwise. */
    if (ring->light_barrier &&
        __atomic_load_n(&ring->hdr->sync.light_barrier[ring->other],
                        __ATOMIC_RELAXED))
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    else
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(flag, __ATOMIC_RELAXED))
        wake(word);
}

/* Spins while *watched == seen. Returns whether it moved. */
static int spin_until_moved(const uint64_t *watched, uint64_t seen)
{
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (__atomic_load_n(watched, __ATOMIC_RELAXED) != seen)
            return 1;
        cpu_relax();
    }
    return 0;
}

/*
 * Sleeps on word while the other side's position *watched is still seen.
 * The caller reloads the position with acquire ordering afterwards.
 * Returns 0, -ETIMEDOUT or -EINTR.
 */
static int sleep_until_moved(struct fce_ring *ring, uint32_t *word,
                             uint32_t *flag, const uint64_t *watched,
                             uint64_t seen, uint64_t *waits,
                             const struct timespec *deadline)
{
    /* Acquire: pairs with the release increment in wake(). */
    uint32_t value = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    struct timespec capped = *deadline;
    int rc = 0;

    __atomic_store_n(flag, 1, __ATOMIC_RELAXED);
    /* Orders the flag store before the position load, here and on every
     * CPU that runs the other side (see the top of this file). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (ring->light_barrier)
        syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
    else if (__atomic_load_n(&ring->hdr->sync.light_barrier[ring->other],
                             __ATOMIC_RELAXED))
        /* NOTE: a registered peer may still skip its fence for a commit
         * or two after this process claimed its side, so a sleep that
         * cannot send a membarrier lasts at most 10 ms. */
        cap_deadline(&capped, 10);

    if (__atomic_load_n(watched, __ATOMIC_RELAXED) == seen) {
        bump(waits);
        rc = futex_wait(word, value, &capped);
        if (rc == -ETIMEDOUT && !deadline_passed(deadline))
            rc = 0;
    }
    __atomic_store_n(flag, 0, __ATOMIC_RELAXED);
    return rc;
}

/* ---- producer ---- */

static void publish_head(struct fce_ring *ring)
{
    struct ring_sync *sync = &ring->hdr->sync;
    struct ring_log entry = {ring->head, ring->records_in, ring->bytes_in};

    ring_log_publish(&ring->hdr->producer, &entry);
    wake_if_sleeping(ring, &sync->consumer_sleeping, &sync->data_futex);
}

/* Returns whether the bytes up to position end are free, reloading the
 * tail only when the cached one shows they are not. */
static int have_room(struct fce_ring *ring, uint64_t end)
{
    if (end - ring->tail_cache <= ring->capacity)
        return 1;
    /* Acquire: pairs with the consumer's release store of tail in
     * ring_log_publish(), so its reads of the freed bytes are done before
     * this side overwrites them. */
    ring->tail_cache =
        __atomic_load_n(&ring->hdr->consumer.pos, __ATOMIC_ACQUIRE);
    return end - ring->tail_cache <= ring->capacity;
}

/*
 * Writes a wrap marker at head and moves head to the next lap, for a record
 * of size bytes that does not fit before the end of the buffer. When the
 * record fits after the marker, the commit publishes both. When it does
 * not but the ring is empty, the marker is published alone: the consumer
 * releases it on reading, and only then is the whole buffer free. Otherwise
 * the ring is full for this record.
 */
static int wrap(struct fce_ring *ring, uint64_t size)
{
    uint64_t skip = ring->capacity - ring->head_off;
    struct ring_record *marker = (void *)(ring->data + ring->head_off);
    int fits = have_room(ring, ring->head + skip + size);

    if (!fits && ring->tail_cache != ring->head)
        return -EAGAIN;
    marker->len = RING_WRAP_LEN;
    ring->head += skip;
    ring->head_off = 0;
    if (!fits)
        publish_head(ring);
    return 0;
}

static int reserve_once(struct fce_ring *ring, uint32_t len, void **payload)
{
    uint64_t size;
    int rc;

    if (len > ring->max_record)
        return -EMSGSIZE;
    if (ring->role != FCE_RING_PRODUCER) {
        rc = fce_ring_claim(ring, FCE_RING_PRODUCER, NULL, 0);
        if (rc != 0)
            return rc;
    }

    size = ring_record_size(len);
    if (ring->head_off + size > ring->capacity) {
        rc = wrap(ring, size);
        if (rc != 0)
            return rc;
    }
    if (!have_room(ring, ring->head + size))
        return -EAGAIN;

    ring->res_pos = ring->head;
    ring->res_off = ring->head_off;
    ring->res_len = len;
    ring->reserved = 1;
    *payload = ring->data + ring->head_off + RING_RECORD_HEADER;
    return 0;
}

void *fce_ring_reserve(struct fce_ring *ring, uint32_t len)
{
    void *payload = NULL;
    int rc = reserve_once(ring, len, &payload);

    if (rc == -EAGAIN)
        bump(&ring->hdr->producer.full);
    if (rc != 0) {
        errno = -rc;
        return NULL;
    }
    return payload;
}

int fce_ring_reserve_wait(struct fce_ring *ring, uint32_t len, int timeout_ms,
                          void **payload)
{
    struct ring_header *hdr = ring->hdr;
    struct timespec deadline;
    int rc = reserve_once(ring, len, payload);

    if (rc != -EAGAIN)
        return rc;
    bump(&hdr->producer.full);
    deadline_after(&deadline, timeout_ms);

    for (;;) {
        int slept = 0;

        if (!spin_until_moved(&hdr->consumer.pos, ring->tail_cache))
            slept = sleep_until_moved(ring, &hdr->sync.room_futex,
                                      &hdr->sync.producer_sleeping,
                                      &hdr->consumer.pos, ring->tail_cache,
                                      &hdr->producer.waits, &deadline);
        if (slept == -EINTR)
            return -EINTR;
        if (slept == -ETIMEDOUT && timeout_ms < 0) {
            deadline_after(&deadline, timeout_ms);
            slept = 0;
        }

        rc = reserve_once(ring, len, payload);
        if (rc != -EAGAIN)
            return rc;
        if (slept == -ETIMEDOUT)
            return -ETIMEDOUT;
    }
}

uint64_t fce_ring_commit(struct fce_ring *ring, uint32_t kind, uint32_t len)
{
    struct ring_record *rec;
    uint64_t seq, size;

    if (!ring->reserved || len > ring->res_len)
        return 0;
    seq = ring->records_in + 1;
    rec = (void *)(ring->data + ring->res_off);
    rec->len = len;
    rec->kind = kind;
    rec->seq = seq;

    size = ring_record_size(len);
    ring->head = ring->res_pos + size;
    ring->head_off = ring->res_off + size;
    if (ring->head_off == ring->capacity)
        ring->head_off = 0;
    ring->records_in = seq;
    ring->bytes_in += len;
    ring->reserved = 0;
    publish_head(ring);
    return seq;
}

/* ---- consumer ---- */

/* Publishes the tail and wakes a producer waiting for room. */
static void release_to(struct fce_ring *ring, uint64_t pos, uint64_t off,
                       uint64_t records, uint64_t bytes)
{
    struct ring_sync *sync = &ring->hdr->sync;
    struct ring_log entry = {pos, records, bytes};

    ring->tail = pos;
    ring->tail_off = off;
    ring->released_records = records;
    ring->released_bytes = bytes;
    ring_log_publish(&ring->hdr->consumer, &entry);
    wake_if_sleeping(ring, &sync->producer_sleeping, &sync->room_futex);
}

/* Moves the read position past a wrap marker. A marker read while the
 * handle holds no records is released at once, so that a producer waiting
 * for the start of the buffer gets it. */
static int skip_marker(struct fce_ring *ring)
{
    int holding = ring->read_pos != ring->tail;
    uint64_t next = ring->read_pos + (ring->capacity - ring->read_off);

    if (next > ring->head_cache)
        return -EPROTO;
    ring->read_pos = next;
    ring->read_off = 0;
    if (!holding)
        release_to(ring, next, 0, ring->read_records, ring->read_bytes);
    return 0;
}

/* Validates the record at the read position and moves past it. The
 * checks keep a damaged ring file from sending the consumer outside the
 * mapping. */
static int take_record(struct fce_ring *ring, const struct ring_record *rec,
                       struct fce_ring_record *record)
{
    uint32_t len = rec->len;
    uint64_t size = ring_record_size(len);
    uint64_t seq;

    /* The size check comes first: 8 bytes before the end of the buffer
     * there is room for a marker's len but not for a record's seq. */
    if (len > ring->max_record || ring->read_off + size > ring->capacity ||
        ring->read_pos + size > ring->head_cache)
        return -EPROTO;
    seq = rec->seq;
    if (seq != ring->read_records + 1)
        return -EPROTO;

    record->seq = seq;
    record->kind = rec->kind;
    record->len = len;
    record->data = rec + 1;
    record->end = ring->read_pos + size;

    ring->read_pos += size;
    ring->read_off += size;
    if (ring->read_off == ring->capacity)
        ring->read_off = 0;
    ring->read_records++;
    ring->read_bytes += len;
    return 0;
}

int fce_ring_read(struct fce_ring *ring, struct fce_ring_record *record)
{
    const struct ring_record *rec;
    int rc;

    if (ring->role != FCE_RING_CONSUMER) {
        rc = fce_ring_claim(ring, FCE_RING_CONSUMER, NULL, 0);
        if (rc != 0)
            return rc;
    }
    for (;;) {
        if (ring->read_pos == ring->head_cache) {
            /* Acquire: pairs with the producer's release store of head in
             * ring_log_publish(), so the record bytes written before it
             * are visible here. */
            ring->head_cache =
                __atomic_load_n(&ring->hdr->producer.pos, __ATOMIC_ACQUIRE);
            if (ring->read_pos == ring->head_cache)
                return -EAGAIN;
        }
        rec = (const void *)(ring->data + ring->read_off);
        if (rec->len != RING_WRAP_LEN)
            return take_record(ring, rec, record);
        rc = skip_marker(ring);
        if (rc != 0)
            return rc;
    }
}

int fce_ring_read_wait(struct fce_ring *ring, struct fce_ring_record *record,
                       int timeout_ms)
{
    struct ring_header *hdr = ring->hdr;
    struct timespec deadline;
    int rc = fce_ring_read(ring, record);

    if (rc != -EAGAIN)
        return rc;
    deadline_after(&deadline, timeout_ms);

    for (;;) {
        int slept = 0;

        if (!spin_until_moved(&hdr->producer.pos, ring->head_cache))
            slept = sleep_until_moved(ring, &hdr->sync.data_futex,
                                      &hdr->sync.consumer_sleeping,
                                      &hdr->producer.pos, ring->head_cache,
                                      &hdr->consumer.waits, &deadline);
        if (slept == -EINTR)
            return -EINTR;
        if (slept == -ETIMEDOUT && timeout_ms < 0) {
            deadline_after(&deadline, timeout_ms);
            slept = 0;
        }

        rc = fce_ring_read(ring, record);
        if (rc != -EAGAIN)
            return rc;
        if (slept == -ETIMEDOUT)
            return -ETIMEDOUT;
    }
}

/*
 * Walks the records between the tail and end to count what is released.
 * Stops at the last record boundary at or before end, then also passes
 * wrap markers the read position is already past.
 */
static void release_walk(struct fce_ring *ring, uint64_t end)
{
    uint64_t pos = ring->tail, off = ring->tail_off;
    uint64_t records = ring->released_records, bytes = ring->released_bytes;

    while (pos < ring->read_pos) {
        const struct ring_record *rec = (const void *)(ring->data + off);
        uint64_t size;

        if (rec->len == RING_WRAP_LEN) {
            size = ring->capacity - off;
        } else {
            size = ring_record_size(rec->len);
            if (pos + size > end)
                break;
            records++;
            bytes += rec->len;
        }
        pos += size;
        off += size;
        if (off == ring->capacity)
            off = 0;
    }
    if (pos > ring->tail)
        release_to(ring, pos, off, records, bytes);
}

void fce_ring_release(struct fce_ring *ring, uint64_t end)
{
    if (ring->role != FCE_RING_CONSUMER || end <= ring->tail ||
        end > ring->read_pos)
        return;
    if (end == ring->read_pos)
        release_to(ring, end, ring->read_off, ring->read_records,
                   ring->read_bytes);
    else
        release_walk(ring, end);
}

void fce_ring_release_counted(struct fce_ring *ring, uint64_t end, uint64_t seq,
                              uint64_t bytes)
{
    const struct ring_record *rec;
    uint64_t pos = end, off;

    if (ring->role != FCE_RING_CONSUMER || end <= ring->tail ||
        end > ring->read_pos)
        return;
    if (end == ring->read_pos || seq <= ring->released_records ||
        seq > ring->read_records) {
        fce_ring_release(ring, end); /* O(1) already, or counts it itself */
        return;
    }
    /* Every position maps to pos % capacity: a wrap marker advances the
     * position by the room it skips. */
    off = end % ring->capacity;
    rec = (const void *)(ring->data + off);
    /* The reader is past end, so the word at off was written: a marker
     * there was passed, and goes with the records before it. */
    if (rec->len == RING_WRAP_LEN) {
        pos += ring->capacity - off;
        off = 0;
    }
    release_to(ring, pos, off, seq, ring->released_bytes + bytes);
}

void fce_ring_rewind(struct fce_ring *ring)
{
    if (ring->role != FCE_RING_CONSUMER)
        return;
    ring->read_pos = ring->tail;
    ring->read_off = ring->tail_off;
    ring->read_records = ring->released_records;
    ring->read_bytes = ring->released_bytes;
}
