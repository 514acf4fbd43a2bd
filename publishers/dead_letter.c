/*
 * The dead-letter file: records that can never succeed, one JSON object per
 * line. Each line is written with one write() on an O_APPEND descriptor and
 * synced before the record leaves the ring, so a crash never loses a record
 * that was neither delivered nor dead-lettered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "fce_base64.h"
#include "fce_json.h"

int fce_dead_letter_init(struct fce_dead_letter *dead_letter, const char *path)
{
    memset(dead_letter, 0, sizeof(*dead_letter));
    dead_letter->fd = -1;
    dead_letter->path = strdup(path);
    return dead_letter->path ? 0 : -ENOMEM;
}

void fce_dead_letter_close(struct fce_dead_letter *dead_letter)
{
    if (dead_letter->fd >= 0)
        close(dead_letter->fd);
    free(dead_letter->path);
    fce_buf_free(&dead_letter->line);
    dead_letter->fd = -1;
    dead_letter->path = NULL;
}

static int append_base64(struct fce_buf *out, const void *raw, size_t len)
{
    int rc = fce_buf_reserve(out, fce_base64_encoded_size(len) + 2);

    if (rc)
        return rc;
    out->data[out->len++] = '"';
    out->len += fce_base64_encode(raw, len, out->data + out->len);
    out->data[out->len++] = '"';
    return 0;
}

static int format_line(struct fce_buf *line,
                       const struct fce_publisher_config *publisher,
                       const struct fce_pub_record *record, bool malformed,
                       const void *raw, size_t raw_len, const char *reason)
{
    struct timespec now;
    char time_text[FCE_CE_TIME_MAX];
    int rc;

    clock_gettime(CLOCK_REALTIME, &now);
    fce_ce_format_time(now.tv_sec, (int32_t)now.tv_nsec, time_text);

    rc = fce_buf_append_str(line, "{\"reason\":");
    rc = rc ? rc : fce_json_append_string(line, reason, strlen(reason));
    rc = rc ? rc : fce_buf_append_str(line, ",\"publisher\":");
    rc = rc ? rc
            : fce_json_append_string(line, publisher->name,
                                     strlen(publisher->name));
    rc = rc ? rc : fce_buf_append_str(line, ",\"backend\":");
    rc = rc ? rc
            : fce_json_append_string(line, publisher->type,
                                     strlen(publisher->type));
    rc = rc ? rc
            : fce_buf_printf(
                  line, ",\"seq\":%llu,\"attempts\":%u,\"time\":\"%s\",",
                  (unsigned long long)record->seq, record->attempts, time_text);
    if (malformed) {
        rc = rc ? rc : fce_buf_append_str(line, "\"record_base64\":");
        rc = rc ? rc : append_base64(line, raw, raw_len);
    } else {
        rc = rc ? rc : fce_buf_append_str(line, "\"event\":");
        rc = rc ? rc : fce_ce_render_json(&record->ce, line);
    }
    return rc ? rc : fce_buf_append_str(line, "}\n");
}

int fce_dead_letter_write(struct fce_dead_letter *dead_letter,
                          const struct fce_publisher_config *publisher,
                          const struct fce_pub_record *record, bool malformed,
                          const void *raw, size_t raw_len, const char *reason)
{
    struct fce_buf *line = &dead_letter->line;
    int rc;

    if (dead_letter->fd < 0) {
        dead_letter->fd = open(dead_letter->path,
                               O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (dead_letter->fd < 0)
            return -errno;
    }

    fce_buf_reset(line);
    rc = format_line(line, publisher, record, malformed, raw, raw_len,
                     reason ? reason : "rejected");
    if (rc)
        return rc;

    /* Keep the file made of whole lines: cut back a partial write. */
    off_t start = lseek(dead_letter->fd, 0, SEEK_END);
    ssize_t written = write(dead_letter->fd, line->data, line->len);

    if (written != (ssize_t)line->len) {
        rc = written < 0 ? -errno : -EIO;
        if (start >= 0 && ftruncate(dead_letter->fd, start) != 0)
            rc = -errno;
        return rc;
    }
    return fdatasync(dead_letter->fd) == 0 ? 0 : -errno;
}
