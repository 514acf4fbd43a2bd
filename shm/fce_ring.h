/*
 * fce_ring: a single-producer, single-consumer ring of variable-length
 * records in a shared file mapping (/dev/shm or a plain file on disk).
 *
 * Exactly one process produces and one consumes at a time; a restarted
 * process of either side attaches again and continues:
 *   - the producer continues at the committed head and sequence number
 *     (exact even after a SIGKILL inside fce_ring_commit()), so a record
 *     that was reserved but never committed is never visible and its
 *     number goes to the next record;
 *   - the consumer continues at the committed tail, so records it had read
 *     but not released are read again (at-least-once, never lossy).
 *
 * Records are contiguous in the mapping and stay valid, unchanged, until
 * the consumer releases them, so a consumer can hand payload pointers to a
 * network library without copying.
 *
 * The library never logs. Functions return 0 or a negative errno; those
 * that take err/err_size also write a one-line message naming the problem.
 *
 * Claiming a side registers the process for membarrier(2) global
 * expedited barriers, so that commit and release need no fence; set
 * FCE_RING_MEMBARRIER=0 to use fences instead (slower, no barrier IPIs).
 */
#ifndef FCE_RING_H
#define FCE_RING_H

#include <stddef.h>
#include <stdint.h>

struct fce_ring;

/* Largest max_record accepted (records beyond this need a bigger design). */
#define FCE_RING_MAX_RECORD_LIMIT (64u << 20)

/* A record as fce_ring_read() returns it to the consumer. */
struct fce_ring_record {
    uint64_t seq;     /* producer's sequence number, from 1, no gaps */
    uint64_t end;     /* position after this record: pass to release */
    uint32_t kind;    /* caller-defined tag given to commit */
    uint32_t len;     /* payload bytes */
    const void *data; /* payload, valid until released */
};

/* Header values, fill level and counters, as `fce ring inspect` prints. */
struct fce_ring_info {
    uint32_t version;
    uint64_t capacity;               /* bytes for records */
    uint32_t max_record;             /* largest payload accepted */
    uint64_t head;                   /* committed producer position (bytes) */
    uint64_t tail;                   /* committed consumer position (bytes) */
    uint64_t used;                   /* head - tail */
    uint64_t next_seq;               /* sequence number of the next record */
    uint64_t records_in, bytes_in;   /* committed by the producer */
    uint64_t records_out, bytes_out; /* released by the consumer */
    uint64_t producer_waits;         /* times the producer slept */
    uint64_t consumer_waits;         /* times the consumer slept */
    uint64_t times_full;             /* reservations that found no room */
    int32_t producer_pid, consumer_pid; /* last to claim, 0 if none */
    int producer_attached;              /* a process holds the side now */
    int consumer_attached;
    uint64_t created_unix_ms;
};

/*
 * Creates the ring file at path with room for capacity bytes of records
 * (header excluded) and payloads up to max_record bytes. Parent folders
 * must exist. An existing file with a valid header and the same capacity
 * and max_record is kept as it is, with its records, and 0 is returned;
 * with other values it fails with -EEXIST. A capacity of 0, not a
 * multiple of 8, smaller than one record of max_record bytes (16 + max
 * record rounded up to 8), or larger than the file system can hold fails
 * with -EINVAL or -ENOSPC and the value in err. The file's blocks are
 * allocated at creation (posix_fallocate), so a full file system fails
 * here, never later with SIGBUS. The file is created with mode 0660.
 */
int fce_ring_create(const char *path, uint64_t capacity, uint32_t max_record,
                    char *err, size_t err_size);

/*
 * Maps an existing ring. Validates magic, version, sizes and positions and
 * fails with -EPROTO (or -EINVAL, -ENOENT...) and a message naming the bad
 * field. The handle is for one side: call only producer functions or only
 * consumer functions on it. A handle is not thread-safe and must not be
 * used by a forked child (the child shares the parent's side lock).
 */
int fce_ring_attach(const char *path, struct fce_ring **ring, char *err,
                    size_t err_size);

enum fce_ring_side {
    FCE_RING_PRODUCER = 1,
    FCE_RING_CONSUMER = 2,
};

/*
 * Takes one side of the ring for this handle: an exclusive lock on the
 * file that the kernel drops when the process dies, so a restarted process
 * can claim again at once. Recovers the side's committed state and records
 * the pid. The first producer or consumer call claims implicitly; call this
 * first to fail early with a message. Returns 0 (also when this handle
 * already holds that side), -EBUSY when another handle or process holds
 * it, -EINVAL when this handle holds the other side, or -EPROTO when the
 * side's state in the header is inconsistent.
 */
int fce_ring_claim(struct fce_ring *ring, enum fce_ring_side side, char *err,
                   size_t err_size);

/* Unmaps the ring. Uncommitted reservations and unreleased reads are
 * dropped from this handle; the shared state keeps only what was
 * committed or released. */
void fce_ring_detach(struct fce_ring *ring);

/* ---- producer side ---- */

/*
 * Reserves room for a payload of len bytes and returns a pointer to write
 * it to (8-byte aligned), or NULL: errno is EMSGSIZE when len >
 * max_record, EAGAIN when the ring is full now, or an fce_ring_claim()
 * error. Nothing is visible until fce_ring_commit(); a second reserve
 * before the commit replaces the first. Never makes a system call unless
 * the handle claims the producer side or the consumer sleeps.
 */
void *fce_ring_reserve(struct fce_ring *ring, uint32_t len);

/*
 * Like fce_ring_reserve(), but spins briefly and then sleeps on a futex
 * until the consumer frees room, for at most timeout_ms (-1: no limit).
 * Returns 0 and the pointer in *payload, or -EMSGSIZE, -ETIMEDOUT, -EINTR
 * when a signal handler ran (with or without SA_RESTART), or an
 * fce_ring_claim() error.
 */
int fce_ring_reserve_wait(struct fce_ring *ring, uint32_t len, int timeout_ms,
                          void **payload);

/*
 * Publishes the reserved record with its kind and final length (len may be
 * smaller than reserved, never larger) and wakes a sleeping consumer.
 * Returns the record's sequence number, or 0 (and commits nothing) when
 * there is no reservation or len is larger than reserved.
 */
uint64_t fce_ring_commit(struct fce_ring *ring, uint32_t kind, uint32_t len);

/* ---- consumer side ---- */

/*
 * Reads the next record after this handle's read position, which starts
 * at the committed tail and moves ahead of it. Returns 0, -EAGAIN when
 * there is none yet, -EPROTO when the record at the read position is
 * damaged (a bad length or a sequence gap; the file was overwritten), or
 * an fce_ring_claim() error.
 */
int fce_ring_read(struct fce_ring *ring, struct fce_ring_record *record);

/*
 * Like fce_ring_read(), but spins briefly and then sleeps on a futex until
 * a record arrives, for at most timeout_ms (-1: no limit). Returns what
 * fce_ring_read() returns, or -ETIMEDOUT, or -EINTR when a signal handler
 * ran. A consumer that waits while it holds unreleased records can leave
 * a full ring stuck until the timeout: release first when it can.
 */
int fce_ring_read_wait(struct fce_ring *ring, struct fce_ring_record *record,
                       int timeout_ms);

/*
 * Commits the consumer's tail up to end (a record's end position): all
 * records before it are released, their room is reused and a waiting
 * producer is woken. An end at or before the tail, or past the read
 * position, is ignored; one between two record boundaries releases up to
 * the boundary before it. Releasing up to the read position costs O(1);
 * an earlier end walks the record headers after the tail.
 */
void fce_ring_release(struct fce_ring *ring, uint64_t end);

/*
 * Like fce_ring_release(), in O(1), for a consumer that counted what it
 * releases: end is the end of the record with sequence number seq, and
 * bytes the payload bytes of the records between the tail and end. A seq
 * outside the records read and not yet released falls back to the walk.
 */
void fce_ring_release_counted(struct fce_ring *ring, uint64_t end, uint64_t seq,
                              uint64_t bytes);

/* Moves the read position back to the committed tail, so the next read
 * returns the oldest unreleased record again. */
void fce_ring_rewind(struct fce_ring *ring);

/* ---- both sides ---- */

/*
 * Writes the ring's dirty pages to its file and waits (msync). Committed
 * records of a ring on disk survive a crash of any process without this,
 * and a clean reboot too; only a power loss or a kernel crash can lose
 * what was committed since the last sync. Returns 0 or a negative errno.
 */
int fce_ring_sync(struct fce_ring *ring);

/* Fills info from the shared header. Safe from any process, any time. */
void fce_ring_info(const struct fce_ring *ring, struct fce_ring_info *info);

/*
 * Reads the header of the ring at path without attaching as producer or
 * consumer (for `fce ring inspect` and monitoring).
 */
int fce_ring_inspect(const char *path, struct fce_ring_info *info, char *err,
                     size_t err_size);

/*
 * Parses a size in bytes: digits and an optional unit, case-insensitive,
 * with optional spaces between: 4096, 64KiB, 64 MiB, 1GiB, 1G, 1MB. K, M,
 * G, T and KiB, MiB, GiB, TiB (also Ki, Mi...) are powers of 1024; KB, MB,
 * GB, TB are powers of 1000; B is 1. Returns 0, or -EINVAL for text that
 * is not such a size, a negative number, or a value above UINT64_MAX.
 */
int fce_size_parse(const char *text, uint64_t *bytes);

#endif
