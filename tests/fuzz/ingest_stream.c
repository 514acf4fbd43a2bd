/* libFuzzer target: the stream protocol's frame and ack decoders, and a
 * re-encode of every frame that decodes, which must decode the same. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fce_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct fce_stream_frame *frame)
{
    struct fce_buf buf = FCE_BUF_INIT;
    struct fce_stream_frame again;
    size_t used;
    char err[160];
    if (fce_stream_frame_encode(&buf, frame->seq, frame->kind, frame->request,
                                frame->request_len) < 0)
        return;
    if (fce_stream_frame_decode((const uint8_t *)buf.data, buf.len, SIZE_MAX,
                                &again, &used, err, sizeof(err)) != 1 ||
        used != buf.len || again.seq != frame->seq ||
        again.kind != frame->kind || again.request_len != frame->request_len ||
        memcmp(again.request, frame->request, frame->request_len) != 0)
        __builtin_trap();
    fce_buf_free(&buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    fce_stream_preamble_check(data, size);
    while (pos < size) {
        struct fce_stream_frame frame;
        size_t used = 0;
        char err[160];
        int rc = fce_stream_frame_decode(data + pos, size - pos, 1 << 20,
                                         &frame, &used, err, sizeof(err));
        if (rc == 1)
            check_frame(&frame);
        if ((rc != 1 && rc != -EBADMSG) || used == 0 || used > size - pos)
            break;
        pos += used;
    }

    pos = 0;
    while (pos < size) {
        struct fce_stream_ack ack;
        size_t used = 0;
        if (fce_stream_ack_decode(data + pos, size - pos, &ack, &used) != 1 ||
            used == 0)
            break;
        pos += used;
    }
    return 0;
}
