/*
 * The ring file layout and the handle, shared by the ring's .c files and
 * its unit tests (which write bad bytes into ring files). Not a public
 * interface: other modules use fce_ring.h only.
 *
 * File: a 4096-byte header, then capacity bytes of records. Fields are in
 * host byte order; a ring never crosses machines.
 *
 * Positions: head and tail are 64-bit byte counts since the ring was
 * created, so they only grow (2^64 bytes is centuries of traffic). The
 * byte at position p lives at data[p % capacity], head - tail is the number
 * of bytes in use (0..capacity), and the free space is [head, tail +
 * capacity). Handles track p % capacity incrementally, so the fast path
 * never divides. A record never straddles the end of the buffer: when it
 * does not fit in [off, capacity), the producer writes a wrap marker at off
 * and the record starts at offset 0 of the next lap, position head +
 * (capacity - off). The skipped bytes stay "in use" until the consumer
 * passes the marker, so a wrap needs (capacity - off) + size bytes free.
 * The marker normally becomes visible with the record's commit. When even
 * an empty ring has no room for skip + size (a record almost as large as
 * the ring), the producer publishes the marker alone, and a consumer that
 * holds nothing releases a marker as soon as it reads it; that lets a ring
 * of exactly one maximum record make progress from any offset.
 */
#ifndef FCE_RING_LAYOUT_H
#define FCE_RING_LAYOUT_H

#include <stdint.h>

#include "fce_ring.h"

#define RING_MAGIC       0x31474e4952454346ull /* "FCERING1" in memory */
#define RING_VERSION     1u
#define RING_HEADER_SIZE 4096u
#define RING_ALIGN       8u
/* Two 64-byte lines: x86 prefetches lines in pairs, so a 64-byte block
 * would still share traffic with its neighbour. */
#define RING_BLOCK 128

#define RING_WRAP_LEN UINT32_MAX /* record len of a wrap marker */

/* Record header; the payload follows, padded to RING_ALIGN. */
struct ring_record {
    uint32_t len; /* payload bytes, or RING_WRAP_LEN */
    uint32_t kind;
    uint64_t seq;
};

#define RING_RECORD_HEADER ((uint32_t)sizeof(struct ring_record))

/*
 * The state of one side at one position. A side keeps two entries and a
 * slot index: it writes the unused entry, flips the index, and only then
 * stores the position readers see. After a SIGKILL at any instruction, one
 * of the two entries matches the published position, so a restarted
 * producer gets the exact next sequence number (and both sides their
 * exact counters) without scanning records.
 */
struct ring_log {
    uint64_t pos;     /* the head or tail this entry describes */
    uint64_t records; /* records committed (released) before pos */
    uint64_t bytes;   /* payload bytes committed (released) before pos */
};

/* One side's block: written by that side only, read by the other side and
 * by monitors. All fields are accessed with __atomic builtins. */
struct ring_side {
    uint64_t pos; /* committed head or tail */
    struct ring_log log[2];
    uint32_t log_slot; /* 0 or 1: the entry that matches pos */
    int32_t pid;       /* attached process, 0 when none */
    uint64_t waits;    /* times this side slept on a futex */
    uint64_t full;     /* producer only: reservations that found no room */
};

/* Futex words and sleeper flags. Written only on the slow path (a side
 * going to sleep, or waking the other), so the fast path only reads the
 * flag of the other side from a line that stays shared in both caches. */
struct ring_sync {
    uint32_t data_futex; /* consumer sleeps here; producer bumps it */
    uint32_t consumer_sleeping;
    uint32_t room_futex; /* producer sleeps here; consumer bumps it */
    uint32_t producer_sleeping;
    /* Indexed by enum fce_ring_side: 1 when that side's process sends a
     * membarrier before every sleep (see ring_ops.c). */
    uint32_t light_barrier[3];
};

struct ring_header {
    /* Identity, written once by fce_ring_create(). */
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;
    uint64_t capacity;
    uint32_t max_record;
    uint32_t flags; /* none defined yet; must be 0 */
    uint64_t created_unix_ms;
    uint8_t pad0[RING_BLOCK - 40];

    struct ring_side producer;
    uint8_t pad1[RING_BLOCK - sizeof(struct ring_side)];
    struct ring_side consumer;
    uint8_t pad2[RING_BLOCK - sizeof(struct ring_side)];
    struct ring_sync sync;
    uint8_t pad3[RING_BLOCK - sizeof(struct ring_sync)];
};

_Static_assert(sizeof(struct ring_header) == 4 * RING_BLOCK,
               "ring header blocks must be 128 bytes each");
_Static_assert(sizeof(struct ring_header) <= RING_HEADER_SIZE,
               "ring header must fit its page");

struct fce_ring {
    struct ring_header *hdr;
    uint8_t *data;
    uint64_t capacity;
    uint32_t max_record;
    size_t map_size;
    int fd;
    int role;  /* 0 until claimed, then FCE_RING_PRODUCER or _CONSUMER */
    int other; /* the other side, once claimed */
    int light_barrier; /* this process is registered for membarrier */
    char *path;

    /* Producer: local copies of the committed state and the reservation. */
    uint64_t head, head_off;
    uint64_t tail_cache; /* last tail seen; reloaded only when short */
    uint64_t records_in, bytes_in;
    uint64_t res_pos, res_off; /* reserved record's start */
    uint32_t res_len;
    int reserved;

    /* Consumer: read position ahead of the committed tail. */
    uint64_t read_pos, read_off;
    uint64_t head_cache; /* last head seen; reloaded only when caught up */
    uint64_t read_records, read_bytes;
    uint64_t tail, tail_off;
    uint64_t released_records, released_bytes;
};

/* Bytes a record of len payload bytes takes in the ring. */
static inline uint64_t ring_record_size(uint32_t len)
{
    return RING_RECORD_HEADER +
           (((uint64_t)len + RING_ALIGN - 1) & ~(uint64_t)(RING_ALIGN - 1));
}

/* Reads a side's log entry that matches its published position (see
 * struct ring_log). Returns 0, or -EPROTO when neither entry matches. */
int ring_log_read(const struct ring_side *side, struct ring_log *entry);

/* Writes a side's next log entry and then publishes its position with a
 * release store. */
void ring_log_publish(struct ring_side *side, const struct ring_log *entry);

/* Registers this process for MEMBARRIER_CMD_GLOBAL_EXPEDITED once.
 * Returns whether it is registered (ring_ops.c). */
int ring_barrier_register(void);

#endif
