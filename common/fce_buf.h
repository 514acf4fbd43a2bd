/*
 * fce_buf: a growable byte buffer for renderers and request builders.
 *
 * The buffer owns its memory. Appends grow it geometrically; a failed
 * allocation leaves the contents unchanged and returns -ENOMEM.
 */
#ifndef FCE_BUF_H
#define FCE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct fce_buf {
    char *data;
    size_t len;
    size_t cap;
};

#define FCE_BUF_INIT                                                           \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Makes room for at least extra more bytes. Returns 0 or -ENOMEM. */
int fce_buf_reserve(struct fce_buf *buf, size_t extra);

/* Appends size bytes. Returns 0 or -ENOMEM. */
int fce_buf_append(struct fce_buf *buf, const void *bytes, size_t size);

/* Appends a NUL-terminated string without its terminator. */
int fce_buf_append_str(struct fce_buf *buf, const char *text);

/* Appends printf-formatted text. Returns 0, -ENOMEM or -EINVAL. */
int fce_buf_printf(struct fce_buf *buf, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the memory and sets the length to zero. */
static inline void fce_buf_reset(struct fce_buf *buf)
{
    buf->len = 0;
}

/* Frees the memory and returns the buffer to FCE_BUF_INIT. */
void fce_buf_free(struct fce_buf *buf);

#endif
