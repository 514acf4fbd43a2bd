/* libFuzzer target: ingest's HTTP head parser on arbitrary bytes, scanned
 * in two pieces as a socket would deliver them. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../ingest/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct fce_http_head head;
    struct fce_http_head_error error;
    size_t scan = 0;

    fce_http_head_check(text, size, &error);
    size_t half = size / 2;
    size_t end = fce_http_head_end(text, half, &scan);
    if (end == 0)
        end = fce_http_head_end(text, size, &scan);
    if (end == 0 || end > size)
        return 0;

    if (fce_http_head_parse(text, end, &head, &error) == 0) {
        /* Every pointer the parser returns stays inside the head, except
         * the static "/" of an absolute-form target without a path. */
        bool root = head.path_len == 1 && head.path[0] == '/';
        if (!root &&
            (head.path < text || head.path + head.path_len > text + end))
            __builtin_trap();
        if (head.content_type &&
            (head.content_type < text ||
             head.content_type + head.content_type_len > text + end))
            __builtin_trap();
    } else if (error.status < 400 || error.status > 599) {
        __builtin_trap();
    }
    return 0;
}
