#include "fce_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fce_buf_reserve(struct fce_buf *buf, size_t extra)
{
    if (extra <= buf->cap - buf->len)
        return 0;
    if (extra > SIZE_MAX / 2 - buf->len)
        return -ENOMEM;

    size_t want = buf->len + extra;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < want)
        cap *= 2;

    char *data = realloc(buf->data, cap);
    if (!data)
        return -ENOMEM;
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int fce_buf_append(struct fce_buf *buf, const void *bytes, size_t size)
{
    int rc = fce_buf_reserve(buf, size);
    if (rc < 0)
        return rc;
    if (size)
        memcpy(buf->data + buf->len, bytes, size);
    buf->len += size;
    return 0;
}

int fce_buf_append_str(struct fce_buf *buf, const char *text)
{
    return fce_buf_append(buf, text, strlen(text));
}

int fce_buf_printf(struct fce_buf *buf, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int need = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (need < 0)
        return -EINVAL;

    /* One extra byte for the terminator that vsnprintf writes. */
    int rc = fce_buf_reserve(buf, (size_t)need + 1);
    if (rc < 0)
        return rc;

    va_start(args, format);
    vsnprintf(buf->data + buf->len, (size_t)need + 1, format, args);
    va_end(args);
    buf->len += (size_t)need;
    return 0;
}

void fce_buf_free(struct fce_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}
