/*
 * Stats files: a fixed layout of named 64-bit slots. The owning process
 * adds a slot by writing its name and then publishing the new count, so a
 * reader never sees a half-written name.
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
#include <time.h>
#include <unistd.h>

#include "fce_stats.h"

#define STATS_MAGIC   0x3153544154534346ull /* "FCSTATS1" in memory */
#define STATS_VERSION 1u

struct stats_slot {
    char name[FCE_STATS_NAME_MAX + 1];
    uint64_t value;
    uint64_t reserved;
};

struct stats_file {
    uint64_t magic;
    uint32_t version;
    uint32_t slots; /* FCE_STATS_SLOTS */
    char process[FCE_STATS_NAME_MAX + 1];
    int32_t pid;
    uint32_t count; /* slots in use; published with release */
    uint64_t started_unix_ms;
    uint64_t updated_unix_ms;
    uint8_t pad[128 - 88];
    struct stats_slot slot[FCE_STATS_SLOTS];
};

_Static_assert(sizeof(struct stats_slot) == 64, "stats slot is one line");
_Static_assert(offsetof(struct stats_file, slot) == 128,
               "stats header is two lines");

struct fce_stats {
    struct stats_file *file;
    int fd;
};

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

static uint64_t now_unix_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Process names are ring and process names: letters, digits, '-', '_'
 * and '.'. */
static int valid_process(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > FCE_STATS_NAME_MAX)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

static int valid_counter(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > FCE_STATS_NAME_MAX)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
}

/* Checks a mapped file; the same checks serve writers and readers. */
static int check_file(const struct stats_file *file, uint64_t size,
                      const char *path, char *err, size_t err_size)
{
    uint32_t count;

    if (size < sizeof(file->magic))
        return fail(err, err_size, -EPROTO,
                    "truncated stats file %s: %llu bytes of %zu", path,
                    (ull)size, sizeof(*file));
    if (file->magic != STATS_MAGIC)
        return fail(err, err_size, -EPROTO,
                    "bad magic 0x%016llx in %s: not a stats file",
                    (ull)file->magic, path);
    if (size != sizeof(*file))
        return fail(err, err_size, -EPROTO,
                    "bad size of stats file %s: %llu bytes, expected %zu", path,
                    (ull)size, sizeof(*file));
    if (file->version != STATS_VERSION || file->slots != FCE_STATS_SLOTS)
        return fail(err, err_size, -EPROTO,
                    "unsupported stats file %s: version %u with %u slots "
                    "(this build reads version %u with %u)",
                    path, file->version, file->slots, STATS_VERSION,
                    FCE_STATS_SLOTS);
    count = __atomic_load_n(&file->count, __ATOMIC_RELAXED);
    if (count > FCE_STATS_SLOTS)
        return fail(err, err_size, -EPROTO,
                    "bad count %u in stats file %s: at most %u", count, path,
                    FCE_STATS_SLOTS);
    if (memchr(file->process, '\0', sizeof(file->process)) == NULL)
        return fail(err, err_size, -EPROTO, "bad process name in stats file %s",
                    path);
    return 0;
}

/* Writes a fresh file next to path and links it into place, so that a
 * reader never sees a file without its header. */
static int create_file(const char *path, const char *process, char *err,
                       size_t err_size)
{
    struct stats_file *file = calloc(1, sizeof(*file));
    char tmp[PATH_MAX];
    int fd = -1, rc = 0;

    if (!file)
        return fail(err, err_size, -ENOMEM, "out of memory");
    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
        rc = fail(err, err_size, -ENAMETOOLONG, "stats path %s is too long",
                  path);
        goto cleanup;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = fail(err, err_size, -errno, "cannot create stats file %s: %s",
                  path, strerror(errno));
        goto cleanup;
    }

    file->magic = STATS_MAGIC;
    file->version = STATS_VERSION;
    file->slots = FCE_STATS_SLOTS;
    snprintf(file->process, sizeof(file->process), "%s", process);
    if (pwrite(fd, file, sizeof(*file), 0) != (ssize_t)sizeof(*file) ||
        fchmod(fd, 0664) != 0)
        rc = fail(err, err_size, -EIO, "cannot write stats file %s: %s", path,
                  strerror(errno));
    else if (link(tmp, path) != 0 && errno != EEXIST)
        rc = fail(err, err_size, -errno, "cannot create stats file %s: %s",
                  path, strerror(errno));
    unlink(tmp);
cleanup:
    if (fd >= 0)
        close(fd);
    free(file);
    return rc;
}

static int lock_file(int fd, const char *path, const struct stats_file *file,
                     char *err, size_t err_size)
{
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

    if (fcntl(fd, F_OFD_SETLK, &lock) == 0)
        return 0;
    if (errno == EAGAIN || errno == EACCES)
        return fail(err, err_size, -EBUSY,
                    "stats file %s is in use by another %s process (pid %d)",
                    path, file->process, (int)file->pid);
    return fail(err, err_size, -errno, "cannot lock stats file %s: %s", path,
                strerror(errno));
}

/* Maps the file at path for writing and checks that it is process's. */
static int map_file(struct fce_stats *stats, const char *path,
                    const char *process, char *err, size_t err_size)
{
    struct stat st;
    void *map;
    int rc;

    stats->fd = open(path, O_RDWR | O_CLOEXEC);
    if (stats->fd < 0 || fstat(stats->fd, &st) != 0)
        return fail(err, err_size, -errno, "cannot open stats file %s: %s",
                    path, strerror(errno));
    if ((uint64_t)st.st_size < sizeof(struct stats_file))
        return fail(err, err_size, -EPROTO,
                    "truncated stats file %s: %llu bytes of %zu", path,
                    (ull)st.st_size, sizeof(struct stats_file));
    map = mmap(NULL, sizeof(struct stats_file), PROT_READ | PROT_WRITE,
               MAP_SHARED, stats->fd, 0);
    if (map == MAP_FAILED)
        return fail(err, err_size, -errno, "cannot map stats file %s: %s", path,
                    strerror(errno));
    stats->file = map;

    rc = check_file(stats->file, (uint64_t)st.st_size, path, err, err_size);
    if (rc != 0)
        return rc;
    if (strcmp(stats->file->process, process) != 0)
        return fail(err, err_size, -EEXIST,
                    "stats file %s belongs to process %s, not %s: give each "
                    "process its own file",
                    path, stats->file->process, process);
    return lock_file(stats->fd, path, stats->file, err, err_size);
}

int fce_stats_open(const char *path, const char *process,
                   struct fce_stats **stats, char *err, size_t err_size)
{
    struct fce_stats *s;
    uint64_t now = now_unix_ms();
    int rc;

    if (!valid_process(process))
        return fail(err, err_size, -EINVAL,
                    "invalid process name '%s' for stats file %s: use 1 to "
                    "%d letters, digits, '-', '_' or '.'",
                    process, path, FCE_STATS_NAME_MAX);
    if (access(path, F_OK) != 0) {
        rc = create_file(path, process, err, err_size);
        if (rc != 0)
            return rc;
    }

    s = calloc(1, sizeof(*s));
    if (!s)
        return fail(err, err_size, -ENOMEM, "out of memory");
    s->fd = -1;
    rc = map_file(s, path, process, err, err_size);
    if (rc != 0) {
        fce_stats_close(s);
        return rc;
    }
    __atomic_store_n(&s->file->pid, (int32_t)getpid(), __ATOMIC_RELAXED);
    __atomic_store_n(&s->file->started_unix_ms, now, __ATOMIC_RELAXED);
    __atomic_store_n(&s->file->updated_unix_ms, now, __ATOMIC_RELAXED);
    *stats = s;
    return 0;
}

void fce_stats_close(struct fce_stats *stats)
{
    if (!stats)
        return;
    if (stats->file) {
        int32_t pid = (int32_t)getpid();

        /* A reader sees pid 0 once the process has stopped cleanly. */
        __atomic_compare_exchange_n(&stats->file->pid, &pid, 0, 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
    if (stats->file)
        munmap(stats->file, sizeof(*stats->file));
    if (stats->fd >= 0)
        close(stats->fd);
    free(stats);
}

uint64_t *fce_stats_counter(struct fce_stats *stats, const char *name)
{
    struct stats_file *file = stats->file;
    uint32_t count = __atomic_load_n(&file->count, __ATOMIC_RELAXED);
    struct stats_slot *slot;

    if (!valid_counter(name))
        return NULL;
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(file->slot[i].name, name) == 0)
            return &file->slot[i].value;
    if (count == FCE_STATS_SLOTS)
        return NULL;

    slot = &file->slot[count];
    memset(slot->name, 0, sizeof(slot->name));
    memcpy(slot->name, name, strlen(name));
    __atomic_store_n(&slot->value, 0, __ATOMIC_RELAXED);
    /* Release: pairs with the acquire load of count in fce_stats_read(),
     * so a reader that counts this slot sees its name. */
    __atomic_store_n(&file->count, count + 1, __ATOMIC_RELEASE);
    return &slot->value;
}

void fce_stats_touch(struct fce_stats *stats)
{
    __atomic_store_n(&stats->file->updated_unix_ms, now_unix_ms(),
                     __ATOMIC_RELAXED);
}

static void copy_snapshot(const struct stats_file *file,
                          struct fce_stats_snapshot *snapshot)
{
    /* Acquire: pairs with the release store of count in
     * fce_stats_counter(). */
    uint32_t count = __atomic_load_n(&file->count, __ATOMIC_ACQUIRE);

    memset(snapshot, 0, sizeof(*snapshot));
    memcpy(snapshot->process, file->process, sizeof(snapshot->process));
    snapshot->pid = __atomic_load_n(&file->pid, __ATOMIC_RELAXED);
    snapshot->started_unix_ms =
        __atomic_load_n(&file->started_unix_ms, __ATOMIC_RELAXED);
    snapshot->updated_unix_ms =
        __atomic_load_n(&file->updated_unix_ms, __ATOMIC_RELAXED);
    snapshot->count = count;
    for (uint32_t i = 0; i < count; i++) {
        struct fce_stats_entry *entry = &snapshot->entries[i];

        memcpy(entry->name, file->slot[i].name, sizeof(entry->name));
        entry->name[FCE_STATS_NAME_MAX] = '\0';
        entry->value = __atomic_load_n(&file->slot[i].value, __ATOMIC_RELAXED);
    }
}

int fce_stats_read(const char *path, struct fce_stats_snapshot *snapshot,
                   char *err, size_t err_size)
{
    struct stat st;
    void *map = MAP_FAILED;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, err_size, -errno, "cannot open stats file %s: %s",
                    path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = fail(err, err_size, -errno, "cannot stat stats file %s: %s", path,
                  strerror(errno));
        goto cleanup;
    }
    if ((uint64_t)st.st_size < sizeof(struct stats_file)) {
        rc = fail(err, err_size, -EPROTO,
                  "truncated stats file %s: %llu bytes of %zu", path,
                  (ull)st.st_size, sizeof(struct stats_file));
        goto cleanup;
    }
    map = mmap(NULL, sizeof(struct stats_file), PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = fail(err, err_size, -errno, "cannot map stats file %s: %s", path,
                  strerror(errno));
        goto cleanup;
    }
    rc = check_file(map, (uint64_t)st.st_size, path, err, err_size);
    if (rc == 0)
        copy_snapshot(map, snapshot);
cleanup:
    if (map != MAP_FAILED)
        munmap(map, sizeof(struct stats_file));
    close(fd);
    return rc;
}
