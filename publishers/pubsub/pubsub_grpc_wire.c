/*
 * The gRPC wire format of Publish: request framing, the response's
 * message ids, and the status and message trailers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fce_pubsub_grpc.h"
#include "google/pubsub/v1/pubsub.pb-c.h"

static const char *const code_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *fce_pubsub_grpc_code_name(int code)
{
    size_t n = sizeof(code_names) / sizeof(code_names[0]);
    if (code < 0 || (size_t)code >= n)
        return "UNKNOWN";
    return code_names[code];
}

int fce_pubsub_grpc_code_from_http(long http_status)
{
    switch (http_status) {
    case 400:
        return FCE_GRPC_INTERNAL;
    case 401:
        return FCE_GRPC_UNAUTHENTICATED;
    case 403:
        return FCE_GRPC_PERMISSION_DENIED;
    case 404:
        return FCE_GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
        return FCE_GRPC_UNAVAILABLE;
    default:
        return FCE_GRPC_UNKNOWN;
    }
}

size_t fce_pubsub_grpc_varint_size(size_t value)
{
    size_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        n++;
    }
    return n;
}

static int append_varint(struct fce_buf *out, size_t value)
{
    uint8_t bytes[10];
    size_t n = 0;
    while (value >= 0x80) {
        bytes[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    bytes[n++] = (uint8_t)value;
    return fce_buf_append(out, bytes, n);
}

/* Appends a length-delimited field: tag (wire type 2), length, bytes. */
static int append_field(struct fce_buf *out, unsigned field, const void *data,
                        size_t len)
{
    int rc = append_varint(out, (size_t)field << 3 | 2);
    if (rc == 0)
        rc = append_varint(out, len);
    if (rc == 0 && len)
        rc = fce_buf_append(out, data, len);
    return rc;
}

int fce_pubsub_grpc_begin(struct fce_buf *out, const char *topic_path)
{
    static const uint8_t prefix[FCE_PUBSUB_GRPC_PREFIX] = {0};
    fce_buf_reset(out);
    int rc = fce_buf_append(out, prefix, sizeof(prefix));
    if (rc == 0)
        rc = append_field(out, 1, topic_path, strlen(topic_path));
    return rc;
}

int fce_pubsub_grpc_add(struct fce_buf *out, const void *message, size_t len)
{
    return append_field(out, 2, message, len);
}

int fce_pubsub_grpc_finish(struct fce_buf *out)
{
    size_t len = out->len - FCE_PUBSUB_GRPC_PREFIX;
    if (len > UINT32_MAX)
        return -EMSGSIZE;
    uint8_t *p = (uint8_t *)out->data;
    p[0] = 0; /* not compressed */
    p[1] = (uint8_t)(len >> 24);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
    return 0;
}

long fce_pubsub_grpc_response_ids(const void *body, size_t len, char *err,
                                  size_t err_size)
{
    const uint8_t *p = body;
    if (len < FCE_PUBSUB_GRPC_PREFIX) {
        snprintf(err, err_size, "response body of %zu bytes holds no message",
                 len);
        return -EPROTO;
    }
    size_t size = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 |
                  (size_t)p[4];
    if (p[0] != 0) {
        snprintf(err, err_size, "response message is compressed (flag %u)",
                 p[0]);
        return -EPROTO;
    }
    if (size != len - FCE_PUBSUB_GRPC_PREFIX) {
        snprintf(err, err_size,
                 "response frame says %zu bytes but the body has %zu", size,
                 len - FCE_PUBSUB_GRPC_PREFIX);
        return -EPROTO;
    }

    Google__Pubsub__V1__PublishResponse *response =
        google__pubsub__v1__publish_response__unpack(
            NULL, size, p + FCE_PUBSUB_GRPC_PREFIX);
    if (!response) {
        snprintf(err, err_size, "response is not a valid PublishResponse");
        return -EPROTO;
    }
    long count = (long)response->n_message_ids;
    google__pubsub__v1__publish_response__free_unpacked(response, NULL);
    return count;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

size_t fce_pubsub_grpc_decode_message(char *text, size_t len)
{
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '%' && i + 2 < len) {
            int high = hex_value(text[i + 1]);
            int low = hex_value(text[i + 2]);
            if (high >= 0 && low >= 0) {
                text[out++] = (char)(high << 4 | low);
                i += 2;
                continue;
            }
        }
        text[out++] = text[i];
    }
    text[out] = '\0';
    return out;
}

int fce_pubsub_grpc_parse_status(const char *value, size_t len)
{
    if (len == 0 || len > 2)
        return -EPROTO;
    int code = 0;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -EPROTO;
        code = code * 10 + (value[i] - '0');
    }
    return code;
}
