/*
 * Ring files: create, attach, validate, claim a side, inspect. The record
 * path (reserve, commit, read, release and the futex waits) is in
 * ring_ops.c; the layout and the position arithmetic in ring_layout.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fce_ring.h"
#include "ring_layout.h"

typedef unsigned long long ull;

static int fail(char *err, size_t err_size, int rc, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_size, int rc, const char *format, ...)
{
    va_list ap;

    if (err && err_size) {
        va_start(ap, format);
        vsnprintf(err, err_size, format, ap);
        va_end(ap);
    }
    return rc;
}

static const char *side_name(int side)
{
    return side == FCE_RING_PRODUCER ? "producer" : "consumer";
}

static struct ring_side *side_block(struct ring_header *hdr, int side)
{
    return side == FCE_RING_PRODUCER ? &hdr->producer : &hdr->consumer;
}

/* ---- the state log of one side (see struct ring_log) ---- */

int ring_log_read(const struct ring_side *side, struct ring_log *entry)
{
    /* Pairs with the release stores of pos and log_slot in
     * ring_log_publish(): the entry written before them is visible. */
    uint64_t pos = __atomic_load_n(&side->pos, __ATOMIC_ACQUIRE);
    uint32_t slot = __atomic_load_n(&side->log_slot, __ATOMIC_ACQUIRE);

    for (uint32_t i = 0; i < 2; i++) {
        const struct ring_log *e = &side->log[(slot + i) & 1];

        if (__atomic_load_n(&e->pos, __ATOMIC_RELAXED) != pos)
            continue;
        entry->pos = pos;
        entry->records = __atomic_load_n(&e->records, __ATOMIC_RELAXED);
        entry->bytes = __atomic_load_n(&e->bytes, __ATOMIC_RELAXED);
        return 0;
    }
    return -EPROTO;
}

void ring_log_publish(struct ring_side *side, const struct ring_log *entry)
{
    uint32_t next =
        (__atomic_load_n(&side->log_slot, __ATOMIC_RELAXED) & 1) ^ 1;
    struct ring_log *e = &side->log[next];

    __atomic_store_n(&e->pos, entry->pos, __ATOMIC_RELAXED);
    __atomic_store_n(&e->records, entry->records, __ATOMIC_RELAXED);
    __atomic_store_n(&e->bytes, entry->bytes, __ATOMIC_RELAXED);

    /* Release: the entry is written before the flip, and the flip before
     * the position, so a crash between any two stores leaves one entry
     * that matches pos. The position store also publishes the records
     * (producer) or the freed room (consumer) to the other side, whose
     * acquire loads of pos are in ring_ops.c. */
    __atomic_store_n(&side->log_slot, next, __ATOMIC_RELEASE);
    __atomic_store_n(&side->pos, entry->pos, __ATOMIC_RELEASE);
}

/* ---- validation ---- */

static int check_sizes(const char *path, uint64_t capacity, uint32_t max_record,
                       char *err, size_t err_size)
{
    uint64_t need = ring_record_size(max_record);

    if (max_record == 0 || max_record > FCE_RING_MAX_RECORD_LIMIT)
        return fail(err, err_size, -EINVAL,
                    "max record %u bytes for ring %s is invalid: use 1 to %u",
                    max_record, path, FCE_RING_MAX_RECORD_LIMIT);
    if (capacity == 0)
        return fail(err, err_size, -EINVAL,
                    "capacity 0 for ring %s is invalid: it must hold at "
                    "least one record of max record %u bytes (%llu bytes)",
                    path, max_record, (ull)need);
    if (capacity < need)
        return fail(err, err_size, -EINVAL,
                    "capacity %llu bytes for ring %s is smaller than one "
                    "record of max record %u bytes: use at least %llu",
                    (ull)capacity, path, max_record, (ull)need);
    if (capacity % RING_ALIGN != 0)
        return fail(err, err_size, -EINVAL,
                    "capacity %llu for ring %s is invalid: use a multiple "
                    "of %u bytes",
                    (ull)capacity, path, RING_ALIGN);
    if (capacity > (uint64_t)INT64_MAX - RING_HEADER_SIZE)
        return fail(err, err_size, -EINVAL,
                    "capacity %llu bytes for ring %s is too large",
                    (ull)capacity, path);
    return 0;
}

/* Checks the fields written once at creation against the file size. */
static int check_identity(const struct ring_header *h, uint64_t file_size,
                          const char *path, char *err, size_t err_size)
{
    uint64_t need;

    if (file_size < sizeof(h->magic))
        return fail(err, err_size, -EPROTO,
                    "truncated ring %s: %llu bytes, shorter than the "
                    "%u-byte header",
                    path, (ull)file_size, RING_HEADER_SIZE);
    if (h->magic != RING_MAGIC)
        return fail(err, err_size, -EPROTO,
                    "bad magic 0x%016llx in %s: not a ring file", (ull)h->magic,
                    path);
    if (h->version != RING_VERSION)
        return fail(err, err_size, -EPROTO,
                    "unsupported version %u in %s: this build reads "
                    "version %u",
                    h->version, path, RING_VERSION);
    if (file_size < RING_HEADER_SIZE)
        return fail(err, err_size, -EPROTO,
                    "truncated ring %s: %llu bytes, shorter than the "
                    "%u-byte header",
                    path, (ull)file_size, RING_HEADER_SIZE);
    if (h->header_size != RING_HEADER_SIZE)
        return fail(err, err_size, -EPROTO,
                    "bad header_size %u in %s: expected %u", h->header_size,
                    path, RING_HEADER_SIZE);
    if (h->flags != 0)
        return fail(err, err_size, -EPROTO, "unknown flags 0x%x in %s",
                    h->flags, path);
    if (h->max_record == 0 || h->max_record > FCE_RING_MAX_RECORD_LIMIT)
        return fail(err, err_size, -EPROTO,
                    "bad max_record %u in %s: must be 1 to %u", h->max_record,
                    path, FCE_RING_MAX_RECORD_LIMIT);
    if (h->capacity == 0 || h->capacity % RING_ALIGN != 0 ||
        h->capacity < ring_record_size(h->max_record) ||
        h->capacity > (uint64_t)INT64_MAX - RING_HEADER_SIZE)
        return fail(err, err_size, -EPROTO,
                    "bad capacity %llu in %s: must be a multiple of %u of at "
                    "least %llu bytes (one record of max_record %u)",
                    (ull)h->capacity, path, RING_ALIGN,
                    (ull)ring_record_size(h->max_record), h->max_record);

    need = RING_HEADER_SIZE + h->capacity;
    if (file_size < need)
        return fail(err, err_size, -EPROTO,
                    "truncated ring %s: %llu bytes, but capacity %llu needs "
                    "%llu",
                    path, (ull)file_size, (ull)h->capacity, (ull)need);
    if (file_size > need)
        return fail(err, err_size, -EPROTO,
                    "bad size of ring %s: %llu bytes, but capacity %llu "
                    "needs exactly %llu",
                    path, (ull)file_size, (ull)h->capacity, (ull)need);
    return 0;
}

/*
 * Reads head and tail as one consistent pair: tail is loaded between two
 * equal loads of head. A busy producer may keep them from agreeing; the
 * check is then skipped, because a producer that commits is alive.
 */
static int read_positions(const struct ring_header *h, uint64_t *head,
                          uint64_t *tail)
{
    for (int i = 0; i < 100; i++) {
        /* Acquire (both): pairs with the release stores of pos in
         * ring_log_publish(), so tail never looks ahead of head. */
        uint64_t h1 = __atomic_load_n(&h->producer.pos, __ATOMIC_ACQUIRE);
        uint64_t t = __atomic_load_n(&h->consumer.pos, __ATOMIC_ACQUIRE);
        uint64_t h2 = __atomic_load_n(&h->producer.pos, __ATOMIC_RELAXED);

        if (h1 == h2) {
            *head = h1;
            *tail = t;
            return 0;
        }
    }
    return -EAGAIN;
}

static int check_positions(const struct ring_header *h, const char *path,
                           char *err, size_t err_size)
{
    uint64_t head, tail;

    if (read_positions(h, &head, &tail) != 0)
        return 0;
    if (head % RING_ALIGN != 0 || tail % RING_ALIGN != 0)
        return fail(err, err_size, -EPROTO,
                    "bad positions in %s: head %llu and tail %llu must be "
                    "multiples of %u",
                    path, (ull)head, (ull)tail, RING_ALIGN);
    if (tail > head)
        return fail(err, err_size, -EPROTO,
                    "bad positions in %s: tail %llu is past head %llu", path,
                    (ull)tail, (ull)head);
    if (head - tail > h->capacity)
        return fail(err, err_size, -EPROTO,
                    "bad positions in %s: head %llu - tail %llu = %llu "
                    "exceeds capacity %llu",
                    path, (ull)head, (ull)tail, (ull)(head - tail),
                    (ull)h->capacity);
    return 0;
}

/* ---- opening ---- */

static int open_failed(const char *path, int rc, char *err, size_t err_size)
{
    if (rc == -EISDIR)
        return fail(err, err_size, -EINVAL, "%s is a folder, not a ring file",
                    path);
    if (rc == -ENOENT)
        return fail(err, err_size, rc,
                    "ring %s not found: create it with "
                    "'fce ring create %s --capacity SIZE'",
                    path, path);
    return fail(err, err_size, rc, "cannot open ring %s: %s", path,
                strerror(-rc));
}

/* Reads the header with pread, so that a short file is never mapped past
 * its end, and validates the fields that do not change. */
static int read_identity(int fd, const char *path, struct ring_header *hdr,
                         uint64_t *file_size, char *err, size_t err_size)
{
    struct stat st;
    ssize_t got;

    if (fstat(fd, &st) != 0)
        return fail(err, err_size, -errno, "cannot stat ring %s: %s", path,
                    strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(err, err_size, -EINVAL,
                    "%s is not a regular file, so not a ring file", path);

    memset(hdr, 0, sizeof(*hdr));
    got = pread(fd, hdr, sizeof(*hdr), 0);
    if (got < 0)
        return fail(err, err_size, -errno, "cannot read ring %s: %s", path,
                    strerror(errno));
    *file_size = (uint64_t)st.st_size;
    return check_identity(hdr, *file_size, path, err, err_size);
}

/*
 * Opens the ring at path. writable maps header and records read-write (a
 * producer or consumer); otherwise only the header is mapped, read-only
 * (inspect, create's check of an existing file).
 */
static int ring_open(const char *path, int writable, struct fce_ring **out,
                     char *err, size_t err_size)
{
    struct fce_ring *ring = calloc(1, sizeof(*ring));
    struct ring_header hdr;
    uint64_t file_size;
    void *map;
    int rc;

    if (!ring || !(ring->path = strdup(path))) {
        free(ring);
        return fail(err, err_size, -ENOMEM, "out of memory opening %s", path);
    }
    ring->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (ring->fd < 0) {
        rc = open_failed(path, -errno, err, err_size);
        goto cleanup;
    }
    rc = read_identity(ring->fd, path, &hdr, &file_size, err, err_size);
    if (rc != 0)
        goto cleanup;

    ring->capacity = hdr.capacity;
    ring->max_record = hdr.max_record;
    ring->map_size = RING_HEADER_SIZE + (writable ? hdr.capacity : 0);
    map = mmap(NULL, ring->map_size,
               writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
               ring->fd, 0);
    if (map == MAP_FAILED) {
        rc = fail(err, err_size, -errno, "cannot map ring %s (%zu bytes): %s",
                  path, ring->map_size, strerror(errno));
        goto cleanup;
    }
    ring->hdr = map;
    ring->data = writable ? (uint8_t *)map + RING_HEADER_SIZE : NULL;

    rc = check_positions(ring->hdr, path, err, err_size);
    if (rc == 0) {
        *out = ring;
        ring = NULL;
    }
cleanup:
    fce_ring_detach(ring);
    return rc;
}

int fce_ring_attach(const char *path, struct fce_ring **ring, char *err,
                    size_t err_size)
{
    return ring_open(path, 1, ring, err, err_size);
}

void fce_ring_detach(struct fce_ring *ring)
{
    if (!ring)
        return;
    if (ring->role && ring->hdr) {
        int32_t pid = (int32_t)getpid();

        __atomic_compare_exchange_n(&side_block(ring->hdr, ring->role)->pid,
                                    &pid, 0, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
    }
    if (ring->hdr)
        munmap(ring->hdr, ring->map_size);
    if (ring->fd >= 0)
        close(ring->fd); /* drops the side's lock */
    free(ring->path);
    free(ring);
}

int fce_ring_sync(struct fce_ring *ring)
{
    return msync(ring->hdr, ring->map_size, MS_SYNC) == 0 ? 0 : -errno;
}

/* ---- creating ---- */

/* Checks that an existing file at path is a ring of these sizes. */
static int check_existing(const char *path, uint64_t capacity,
                          uint32_t max_record, char *err, size_t err_size)
{
    struct fce_ring *ring;
    int rc = ring_open(path, 0, &ring, err, err_size);

    if (rc != 0)
        return rc;
    if (ring->capacity != capacity || ring->max_record != max_record)
        rc = fail(err, err_size, -EEXIST,
                  "ring %s already exists with capacity %llu and max record "
                  "%u, not %llu and %u: keep those sizes, or remove the file "
                  "(its records are lost)",
                  path, (ull)ring->capacity, ring->max_record, (ull)capacity,
                  max_record);
    fce_ring_detach(ring);
    return rc;
}

/* Copies the folder part of path into dir ("." when there is none). */
static void folder_of(const char *path, char *dir, size_t dir_size)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        snprintf(dir, dir_size, ".");
    else if (slash == path)
        snprintf(dir, dir_size, "/");
    else
        snprintf(dir, dir_size, "%.*s", (int)(slash - path), path);
}

static int check_space(const char *path, uint64_t file_size, char *err,
                       size_t err_size)
{
    char dir[PATH_MAX];
    struct statvfs vfs;
    uint64_t avail;

    folder_of(path, dir, sizeof(dir));
    if (statvfs(dir, &vfs) != 0) {
        if (errno == ENOENT)
            return fail(err, err_size, -ENOENT,
                        "folder %s of ring %s does not exist: create it "
                        "first",
                        dir, path);
        return fail(err, err_size, -errno, "cannot check free space in %s: %s",
                    dir, strerror(errno));
    }
    if (__builtin_mul_overflow((uint64_t)vfs.f_bavail, (uint64_t)vfs.f_frsize,
                               &avail))
        avail = UINT64_MAX;
    if (file_size > avail)
        return fail(err, err_size, -ENOSPC,
                    "capacity %llu bytes for ring %s does not fit: the file "
                    "system of %s has %llu bytes free; choose a smaller "
                    "capacity",
                    (ull)(file_size - RING_HEADER_SIZE), path, dir, (ull)avail);
    return 0;
}

static uint64_t now_unix_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int write_header(int fd, const char *path, uint64_t capacity,
                        uint32_t max_record, char *err, size_t err_size)
{
    struct ring_header hdr;
    uint64_t size = RING_HEADER_SIZE + capacity;
    int rc;

    rc = posix_fallocate(fd, 0, (off_t)size);
    if (rc != 0)
        return fail(err, err_size, -rc,
                    "cannot allocate %llu bytes for ring %s: %s", (ull)size,
                    path, strerror(rc));

    memset(&hdr, 0, sizeof(hdr));
    hdr.magic = RING_MAGIC;
    hdr.version = RING_VERSION;
    hdr.header_size = RING_HEADER_SIZE;
    hdr.capacity = capacity;
    hdr.max_record = max_record;
    hdr.created_unix_ms = now_unix_ms();
    if (pwrite(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
        return fail(err, err_size, -EIO, "cannot write the header of %s: %s",
                    path, strerror(errno));
    if (fchmod(fd, 0660) != 0 || fsync(fd) != 0)
        return fail(err, err_size, -errno, "cannot finish ring %s: %s", path,
                    strerror(errno));
    return 0;
}

/*
 * Writes the new ring to a temporary file next to path and links it into
 * place, so that no process ever attaches to a half-written header, and a
 * concurrent create of the same ring gets -EEXIST instead of a clobbered
 * file.
 */
static int write_new(const char *path, uint64_t capacity, uint32_t max_record,
                     char *err, size_t err_size)
{
    char tmp[PATH_MAX];
    int fd = -1;
    int rc;

    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
        return fail(err, err_size, -ENAMETOOLONG, "ring path %s is too long",
                    path);
    fd = mkstemp(tmp);
    if (fd < 0)
        return fail(err, err_size, -errno, "cannot create ring %s: %s", path,
                    strerror(errno));

    rc = write_header(fd, path, capacity, max_record, err, err_size);
    if (rc == 0 && link(tmp, path) != 0)
        rc = errno == EEXIST
                 ? -EEXIST
                 : fail(err, err_size, -errno, "cannot create ring %s: %s",
                        path, strerror(errno));
    close(fd);
    unlink(tmp);
    return rc;
}

int fce_ring_create(const char *path, uint64_t capacity, uint32_t max_record,
                    char *err, size_t err_size)
{
    int rc = check_sizes(path, capacity, max_record, err, err_size);

    if (rc != 0)
        return rc;
    rc = check_existing(path, capacity, max_record, err, err_size);
    if (rc != -ENOENT)
        return rc;

    rc = check_space(path, RING_HEADER_SIZE + capacity, err, err_size);
    if (rc != 0)
        return rc;
    rc = write_new(path, capacity, max_record, err, err_size);
    if (rc == -EEXIST) /* another process created it first */
        rc = check_existing(path, capacity, max_record, err, err_size);
    return rc;
}

/* ---- sides ---- */

static int lock_side(int fd, int side, short type)
{
    struct flock lock = {
        .l_type = type,
        .l_whence = SEEK_SET,
        .l_start = side,
        .l_len = 1,
    };

    return fcntl(fd, F_OFD_SETLK, &lock) == 0 ? 0 : -errno;
}

/* Returns whether another open file holds the lock of side. */
static int side_locked(int fd, int side)
{
    struct flock lock = {
        .l_type = F_WRLCK,
        .l_whence = SEEK_SET,
        .l_start = side,
        .l_len = 1,
    };

    if (fcntl(fd, F_OFD_GETLK, &lock) != 0)
        return 0;
    return lock.l_type != F_UNLCK;
}

static void start_producer(struct fce_ring *ring, const struct ring_log *log)
{
    ring->head = log->pos;
    ring->head_off = log->pos % ring->capacity;
    ring->records_in = log->records;
    ring->bytes_in = log->bytes;
    /* Pairs with the consumer's release of tail in ring_log_publish(). */
    ring->tail_cache =
        __atomic_load_n(&ring->hdr->consumer.pos, __ATOMIC_ACQUIRE);
}

static void start_consumer(struct fce_ring *ring, const struct ring_log *log)
{
    ring->tail = ring->read_pos = log->pos;
    ring->tail_off = ring->read_off = log->pos % ring->capacity;
    ring->released_records = ring->read_records = log->records;
    ring->released_bytes = ring->read_bytes = log->bytes;
    /* Pairs with the producer's release of head in ring_log_publish(). */
    ring->head_cache =
        __atomic_load_n(&ring->hdr->producer.pos, __ATOMIC_ACQUIRE);
}

/* Points log_slot at the entry that matches pos, so that the next publish
 * overwrites the stale one. */
static void repair_log(struct ring_side *side, const struct ring_log *entry)
{
    uint32_t slot = __atomic_load_n(&side->log_slot, __ATOMIC_RELAXED) & 1;

    if (side->log[slot].pos != entry->pos)
        slot ^= 1;
    __atomic_store_n(&side->log_slot, slot, __ATOMIC_RELEASE);
}

int fce_ring_claim(struct fce_ring *ring, enum fce_ring_side side, char *err,
                   size_t err_size)
{
    struct ring_side *block;
    struct ring_log entry;
    int rc;

    if (side != FCE_RING_PRODUCER && side != FCE_RING_CONSUMER)
        return fail(err, err_size, -EINVAL, "unknown ring side %d", side);
    if ((int)side == ring->role)
        return 0;
    if (ring->role)
        return fail(err, err_size, -EINVAL,
                    "this handle of ring %s is its %s, so it cannot be its "
                    "%s too: attach again",
                    ring->path, side_name(ring->role), side_name(side));

    block = side_block(ring->hdr, side);
    rc = lock_side(ring->fd, side, F_WRLCK);
    if (rc == -EAGAIN || rc == -EACCES)
        return fail(err, err_size, -EBUSY,
                    "ring %s already has a %s (pid %d); a ring has one "
                    "producer and one consumer",
                    ring->path, side_name(side),
                    (int)__atomic_load_n(&block->pid, __ATOMIC_RELAXED));
    if (rc != 0)
        return fail(err, err_size, rc, "cannot lock the %s side of %s: %s",
                    side_name(side), ring->path, strerror(-rc));

    if (ring_log_read(block, &entry) != 0) {
        lock_side(ring->fd, side, F_UNLCK);
        return fail(err, err_size, -EPROTO,
                    "bad %s state in %s: no log entry matches position %llu",
                    side_name(side), ring->path, (ull)block->pos);
    }
    repair_log(block, &entry);
    if (side == FCE_RING_PRODUCER)
        start_producer(ring, &entry);
    else
        start_consumer(ring, &entry);
    __atomic_store_n(&block->pid, (int32_t)getpid(), __ATOMIC_RELAXED);
    ring->light_barrier = ring_barrier_register();
    __atomic_store_n(&ring->hdr->sync.light_barrier[side],
                     (uint32_t)ring->light_barrier, __ATOMIC_SEQ_CST);
    ring->role = side;
    ring->other =
        side == FCE_RING_PRODUCER ? FCE_RING_CONSUMER : FCE_RING_PRODUCER;
    return 0;
}

/* ---- monitoring ---- */

/* Reads both sides' log entries as one consistent snapshot; see
 * read_positions() for why tail is read between two reads of head. */
static void read_logs(const struct ring_header *h, struct ring_log *prod,
                      struct ring_log *cons)
{
    for (int i = 0; i < 1000; i++) {
        int a = ring_log_read(&h->producer, prod);
        int b = ring_log_read(&h->consumer, cons);
        uint64_t head = __atomic_load_n(&h->producer.pos, __ATOMIC_RELAXED);

        if (a == 0 && b == 0 && head == prod->pos)
            return;
    }
    /* Still moving (or damaged): report the published positions. */
    prod->pos = __atomic_load_n(&h->producer.pos, __ATOMIC_ACQUIRE);
    cons->pos = __atomic_load_n(&h->consumer.pos, __ATOMIC_ACQUIRE);
}

static int side_attached(const struct fce_ring *ring, int side)
{
    return ring->role == side || side_locked(ring->fd, side);
}

void fce_ring_info(const struct fce_ring *ring, struct fce_ring_info *info)
{
    const struct ring_header *h = ring->hdr;
    struct ring_log prod = {0}, cons = {0};

    memset(info, 0, sizeof(*info));
    info->version = h->version;
    info->capacity = h->capacity;
    info->max_record = h->max_record;
    info->created_unix_ms = h->created_unix_ms;

    read_logs(h, &prod, &cons);
    info->head = prod.pos;
    info->tail = cons.pos;
    info->used = prod.pos >= cons.pos ? prod.pos - cons.pos : 0;
    info->next_seq = prod.records + 1;
    info->records_in = prod.records;
    info->bytes_in = prod.bytes;
    info->records_out = cons.records;
    info->bytes_out = cons.bytes;

    info->producer_waits =
        __atomic_load_n(&h->producer.waits, __ATOMIC_RELAXED);
    info->consumer_waits =
        __atomic_load_n(&h->consumer.waits, __ATOMIC_RELAXED);
    info->times_full = __atomic_load_n(&h->producer.full, __ATOMIC_RELAXED);
    info->producer_pid = __atomic_load_n(&h->producer.pid, __ATOMIC_RELAXED);
    info->consumer_pid = __atomic_load_n(&h->consumer.pid, __ATOMIC_RELAXED);
    info->producer_attached = side_attached(ring, FCE_RING_PRODUCER);
    info->consumer_attached = side_attached(ring, FCE_RING_CONSUMER);
}

int fce_ring_inspect(const char *path, struct fce_ring_info *info, char *err,
                     size_t err_size)
{
    struct fce_ring *ring;
    int rc = ring_open(path, 0, &ring, err, err_size);

    if (rc != 0)
        return rc;
    fce_ring_info(ring, info);
    fce_ring_detach(ring);
    return 0;
}
