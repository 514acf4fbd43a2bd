/*
 * The file backend. A batch is rendered into one buffer and appended with
 * one write() loop; a failed write is cut back with ftruncate() so the file
 * only ever holds whole lines. Records complete after the write (and after
 * fdatasync() with fsync batch or always). With fsync never or interval a
 * record may leave the ring before it is on disk: a process crash loses
 * nothing (the data is in the page cache), a power loss can.
 *
 * Rotation: when the path no longer names the open file (renamed or
 * removed), the backend opens the path again; SIGHUP does the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fce_backend.h"
#include "fce_buf.h"
#include "fce_file.h"
#include "fce_log.h"

#define COMPONENT "file"

struct file_state {
    const struct fce_backend_ctx *ctx;
    const struct fce_file_settings *settings;
    int fd;
    dev_t dev;
    ino_t ino;
    off_t size; /* file size after our last write */
    bool dirty; /* written since the last fdatasync() */
    uint64_t synced_ms;
    uint64_t checked_ms;
    struct fce_buf out;
};

static uint64_t monotonic_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

static int open_path(struct file_state *state)
{
    const char *path = state->settings->path;
    struct stat st;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0 || fstat(fd, &st) != 0) {
        int rc = -errno;

        fce_warn(COMPONENT,
                 "cannot open the output file; check that its "
                 "folder exists and is writable",
                 "publisher=%s path=%s error=%s", state->ctx->publisher->name,
                 fce_log_quote(path), fce_log_quote(strerror(-rc)));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    state->fd = fd;
    state->dev = st.st_dev;
    state->ino = st.st_ino;
    state->size = st.st_size;
    state->dirty = false;
    state->synced_ms = monotonic_ms();
    return 0;
}

static int sync_file(struct file_state *state)
{
    if (!state->dirty)
        return 0;
    if (fdatasync(state->fd) != 0)
        return -errno;
    state->dirty = false;
    state->synced_ms = monotonic_ms();
    return 0;
}

static void close_file(struct file_state *state)
{
    if (state->fd < 0)
        return;
    if (state->settings->fsync != FCE_FILE_FSYNC_NEVER)
        sync_file(state);
    close(state->fd);
    state->fd = -1;
}

static int file_reopen(void *opaque)
{
    struct file_state *state = opaque;

    close_file(state);
    return open_path(state);
}

/* Reopens the path when it no longer names the open file. */
static int check_rotation(struct file_state *state, uint64_t now)
{
    struct stat st;

    if (now - state->checked_ms < state->settings->rotate_check_ms)
        return 0;
    state->checked_ms = now;
    if (stat(state->settings->path, &st) == 0 && st.st_dev == state->dev &&
        st.st_ino == state->ino)
        return 0;

    fce_info(COMPONENT, "output file was rotated; reopening its path",
             "publisher=%s path=%s", state->ctx->publisher->name,
             fce_log_quote(state->settings->path));
    return file_reopen(state);
}

static int file_open(const struct fce_backend_ctx *ctx, void **opaque)
{
    const struct fce_file_settings *settings = ctx->settings;
    struct file_state *state;
    int rc;

    if (!settings || !settings->path || !settings->path[0]) {
        fce_error(COMPONENT, "file.path is missing; set the output file",
                  "publisher=%s", ctx->publisher->name);
        return -EINVAL;
    }
    state = calloc(1, sizeof(*state));
    if (!state)
        return -ENOMEM;
    state->ctx = ctx;
    state->settings = settings;
    state->fd = -1;
    state->checked_ms = monotonic_ms();

    rc = open_path(state);
    if (rc) {
        free(state);
        return rc;
    }
    *opaque = state;
    return 0;
}

/* Appends all of out, or cuts the file back to where it was. */
static int append(struct file_state *state, const char *data, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(state->fd, data + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int rc = n < 0 ? -errno : -EIO;

            if (done > 0 && ftruncate(state->fd, state->size) != 0)
                return -errno;
            return rc;
        }
        done += (size_t)n;
    }
    state->size += (off_t)len;
    state->dirty = true;
    return 0;
}

static int render(struct file_state *state, struct fce_pub_record *record)
{
    int rc = fce_ce_render_json(&record->ce, &state->out);

    return rc ? rc : fce_buf_append(&state->out, "\n", 1);
}

/* Whether a write error is about room (wait and retry) rather than a
 * broken descriptor (reopen). */
static bool out_of_room(int rc)
{
    return rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG;
}

static void complete_all(struct file_state *state,
                         struct fce_pub_record **records, size_t count,
                         enum fce_outcome outcome, const char *reason)
{
    for (size_t i = 0; i < count; i++)
        state->ctx->complete(state->ctx->driver, records[i], outcome, reason);
}

/* Writes and completes records one by one, synced after each. */
static int publish_each(struct file_state *state,
                        struct fce_pub_record **records, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int rc;

        fce_buf_reset(&state->out);
        rc = render(state, records[i]);
        if (rc == 0)
            rc = append(state, state->out.data, state->out.len);
        if (rc == 0)
            rc = sync_file(state);
        if (rc == -ENOMEM || out_of_room(rc)) {
            complete_all(state, records + i, count - i, FCE_OUTCOME_RETRY,
                         strerror(-rc));
            return (int)count;
        }
        if (rc)
            return i > 0 ? (int)i : rc;
        state->ctx->complete(state->ctx->driver, records[i],
                             FCE_OUTCOME_DELIVERED, NULL);
    }
    return (int)count;
}

static int file_publish(void *opaque, struct fce_pub_record **records,
                        size_t count)
{
    struct file_state *state = opaque;
    int rc = check_rotation(state, monotonic_ms());

    if (rc)
        return rc;
    if (state->settings->fsync == FCE_FILE_FSYNC_ALWAYS)
        return publish_each(state, records, count);

    fce_buf_reset(&state->out);
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = render(state, records[i]);
    if (rc == 0)
        rc = append(state, state->out.data, state->out.len);
    if (rc == 0 && state->settings->fsync == FCE_FILE_FSYNC_BATCH)
        rc = sync_file(state);
    if (rc && rc != -ENOMEM && !out_of_room(rc))
        return rc; /* a broken descriptor: the driver reopens */

    complete_all(state, records, count,
                 rc ? FCE_OUTCOME_RETRY : FCE_OUTCOME_DELIVERED,
                 rc ? strerror(-rc) : NULL);
    return (int)count;
}

/* Never waits: every record completes inside publish(). */
static int file_poll(void *opaque, int timeout_ms)
{
    struct file_state *state = opaque;
    uint64_t now = monotonic_ms();

    (void)timeout_ms;
    if (state->settings->fsync == FCE_FILE_FSYNC_INTERVAL &&
        now - state->synced_ms >= state->settings->fsync_interval_ms) {
        int rc = sync_file(state);

        if (rc)
            return rc;
    }
    return check_rotation(state, now);
}

static void file_close(void *opaque)
{
    struct file_state *state = opaque;

    close_file(state);
    fce_buf_free(&state->out);
    free(state);
}

const struct fce_backend fce_file_backend = {
    .type = &fce_file_type,
    .open = file_open,
    .publish = file_publish,
    .poll = file_poll,
    .close = file_close,
    .reopen = file_reopen,
};
