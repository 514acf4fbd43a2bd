#include "fce_pbscan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fce_utf8.h"
#include "flyteidl/core/identifier.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

/* The deepest nesting the schema has is about 8; this bounds the stack on
 * any input. */
#define SCAN_DEPTH_MAX      32
#define PROTOBUF_LENGTH_MAX 0x7FFFFFFFull /* 2 GiB - 1, a proto limit */
#define FIELD_NUMBER_MAX    ((1u << 29) - 1)

enum wire_type {
    WIRE_VARINT = 0,
    WIRE_64BIT = 1,
    WIRE_LENGTH = 2,
    WIRE_GROUP_START = 3,
    WIRE_GROUP_END = 4,
    WIRE_32BIT = 5,
};

static const char *const wire_type_names[8] = {
    "varint",    "64-bit", "length-delimited", "group start",
    "group end", "32-bit", "wire type 6",      "wire type 7",
};

struct scan {
    const uint8_t *data_end;
    char *err;
    size_t err_size;
    size_t depth;
    const char *path[SCAN_DEPTH_MAX + 1]; /* field names from the root */
};

/* Reads a varint. Returns its length, 0 when the bytes end first, or -1
 * when it is longer than 10 bytes or overflows 64 bits. */
static int read_varint(const uint8_t *p, const uint8_t *end, uint64_t *value)
{
    uint64_t result = 0;
    for (int i = 0; i < 10; i++) {
        if (p + i >= end)
            return 0;
        uint8_t byte = p[i];
        /* The tenth byte carries only bit 63. */
        if (i == 9 && byte > 1)
            return -1;
        result |= (uint64_t)(byte & 0x7F) << (7 * i);
        if (!(byte & 0x80)) {
            *value = result;
            return i + 1;
        }
    }
    return -1;
}

/* Writes "a.b.c" (the open messages, then name) into out. */
static const char *format_path(const struct scan *scan, const char *name,
                               char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i <= scan->depth && used < size; i++) {
        const char *part = i < scan->depth ? scan->path[i + 1] : name;
        if (!part)
            continue;
        int n =
            snprintf(out + used, size - used, "%s%s", used ? "." : "", part);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return used ? out : "the request";
}

__attribute__((format(printf, 2, 3))) static int fail(struct scan *scan,
                                                      const char *format, ...)
{
    if (scan->err_size) {
        va_list args;
        va_start(args, format);
        vsnprintf(scan->err, scan->err_size, format, args);
        va_end(args);
    }
    return -EINVAL;
}

static bool wire_type_fits(const ProtobufCFieldDescriptor *field, unsigned wire)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_BOOL:
    case PROTOBUF_C_TYPE_ENUM:
        return wire == WIRE_VARINT ||
               (wire == WIRE_LENGTH &&
                field->label == PROTOBUF_C_LABEL_REPEATED);
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return wire == WIRE_32BIT ||
               (wire == WIRE_LENGTH &&
                field->label == PROTOBUF_C_LABEL_REPEATED);
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return wire == WIRE_64BIT ||
               (wire == WIRE_LENGTH &&
                field->label == PROTOBUF_C_LABEL_REPEATED);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return wire == WIRE_LENGTH;
    }
    return false;
}

static unsigned expected_wire_type(const ProtobufCFieldDescriptor *field)
{
    for (unsigned wire = 0; wire <= WIRE_32BIT; wire++)
        if (wire != WIRE_LENGTH && wire_type_fits(field, wire))
            return wire;
    return WIRE_LENGTH;
}

/* Checks the packed values of a repeated scalar field. */
static int scan_packed(struct scan *scan, const ProtobufCFieldDescriptor *field,
                       const uint8_t *p, const uint8_t *end)
{
    unsigned wire = expected_wire_type(field);
    char path[256];
    if (wire == WIRE_32BIT || wire == WIRE_64BIT) {
        size_t width = wire == WIRE_32BIT ? 4 : 8;
        if ((size_t)(end - p) % width == 0)
            return 0;
        return fail(scan,
                    "truncated message: packed field %s has %zu bytes, not a "
                    "multiple of %zu",
                    format_path(scan, field->name, path, sizeof(path)),
                    (size_t)(end - p), width);
    }
    while (p < end) {
        uint64_t value;
        int n = read_varint(p, end, &value);
        if (n <= 0)
            return fail(scan, "malformed varint in packed field %s",
                        format_path(scan, field->name, path, sizeof(path)));
        p += n;
    }
    return 0;
}

static int scan_message(struct scan *scan,
                        const ProtobufCMessageDescriptor *descriptor,
                        const uint8_t *p, const uint8_t *end);

/* Checks the contents of a length-delimited field the schema declares. */
static int scan_length_field(struct scan *scan,
                             const ProtobufCMessageDescriptor *parent,
                             const ProtobufCFieldDescriptor *field,
                             const uint8_t *p, const uint8_t *end)
{
    char path[256];
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING: {
        size_t len = (size_t)(end - p);
        size_t valid = fce_utf8_valid_prefix(p, len);
        if (valid != len)
            return fail(scan,
                        "invalid UTF-8 in a string field: %s, byte %zu of %zu",
                        format_path(scan, field->name, path, sizeof(path)),
                        valid + 1, len);
        /* protobuf-c ends decoded strings at the first NUL, so the id and
         * the partition key would not show the execution the data names.
         * fce_event_parse() rejects the other control characters. */
        if (parent ==
                &flyteidl__core__workflow_execution_identifier__descriptor &&
            memchr(p, '\0', len))
            return fail(scan, "%s contains a control character (NUL)",
                        format_path(scan, field->name, path, sizeof(path)));
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        if (scan->depth >= SCAN_DEPTH_MAX)
            return fail(scan, "message nested too deeply at %s",
                        format_path(scan, field->name, path, sizeof(path)));
        scan->path[++scan->depth] = field->name;
        int rc = scan_message(scan, field->descriptor, p, end);
        scan->depth--;
        return rc;
    case PROTOBUF_C_TYPE_BYTES:
        return 0;
    default:
        return scan_packed(scan, field, p, end);
    }
}

struct timestamp_value {
    int64_t seconds;
    int32_t nanos;
};

static int check_timestamp(struct scan *scan, const struct timestamp_value *ts)
{
    char path[256];
    const char *where = format_path(scan, NULL, path, sizeof(path));
    if (ts->nanos < 0 || ts->nanos > 999999999)
        return fail(scan,
                    "timestamp out of range: %s has nanos %d, expected "
                    "0..999999999",
                    where, (int)ts->nanos);
    if (ts->seconds < FCE_TIMESTAMP_SECONDS_MIN ||
        ts->seconds > FCE_TIMESTAMP_SECONDS_MAX)
        return fail(scan,
                    "timestamp out of range: %s has seconds %lld, expected "
                    "0001-01-01..9999-12-31 (%lld..%lld)",
                    where, (long long)ts->seconds,
                    (long long)FCE_TIMESTAMP_SECONDS_MIN,
                    (long long)FCE_TIMESTAMP_SECONDS_MAX);
    return 0;
}

/* Reads one field's value and returns where it ends in *next, or NULL
 * after writing the error. */
static const uint8_t *skip_value(struct scan *scan, unsigned number,
                                 unsigned wire, const char *name,
                                 const uint8_t *p, const uint8_t *end,
                                 uint64_t *value, const uint8_t **start)
{
    char path[256];
    const char *label = name ? name : "unknown";
    int n;
    uint64_t width = 0;
    *start = p;
    switch (wire) {
    case WIRE_VARINT:
        n = read_varint(p, end, value);
        if (n > 0)
            return p + n;
        if (n < 0)
            fail(scan,
                 "malformed varint: field %u (%s) is longer than 10 "
                 "bytes",
                 number, format_path(scan, label, path, sizeof(path)));
        else
            fail(scan,
                 "truncated message: field %u (%s) ends inside its "
                 "varint",
                 number, format_path(scan, label, path, sizeof(path)));
        return NULL;
    case WIRE_64BIT:
    case WIRE_32BIT:
        width = wire == WIRE_64BIT ? 8 : 4;
        if ((uint64_t)(end - p) >= width)
            return p + width;
        fail(scan,
             "truncated message: field %u (%s) needs %u bytes, %zu "
             "remain",
             number, format_path(scan, label, path, sizeof(path)),
             (unsigned)width, (size_t)(end - p));
        return NULL;
    case WIRE_LENGTH:
        n = read_varint(p, end, &width);
        if (n <= 0) {
            fail(scan, "%s: the length of field %u (%s) %s",
                 n < 0 ? "malformed varint" : "truncated message", number,
                 format_path(scan, label, path, sizeof(path)),
                 n < 0 ? "is longer than 10 bytes" : "is cut off");
            return NULL;
        }
        p += n;
        if (width <= (uint64_t)(end - p)) {
            *start = p;
            return p + width;
        }
        /* A length past the end of the data means a cut-off request,
         * unless no protobuf message can be that long. A length past the
         * end of an enclosing message is a wrong length. */
        fail(scan, "%s: field %u (%s) declares %llu bytes, %zu remain",
             end == scan->data_end && width <= PROTOBUF_LENGTH_MAX
                 ? "truncated message"
                 : "length exceeds message",
             number, format_path(scan, label, path, sizeof(path)),
             (unsigned long long)width, (size_t)(end - p));
        return NULL;
    default:
        fail(scan,
             "unsupported wire type: field %u (%s) uses %s, which "
             "proto3 requests do not contain",
             number, format_path(scan, label, path, sizeof(path)),
             wire_type_names[wire & 7]);
        return NULL;
    }
}

static int scan_message(struct scan *scan,
                        const ProtobufCMessageDescriptor *descriptor,
                        const uint8_t *p, const uint8_t *end)
{
    bool is_timestamp = descriptor == &google__protobuf__timestamp__descriptor;
    struct timestamp_value ts = {0, 0};
    char path[256];

    while (p < end) {
        uint64_t tag;
        int n = read_varint(p, end, &tag);
        if (n <= 0)
            return fail(scan, "%s: a field tag in %s %s",
                        n < 0 ? "malformed varint" : "truncated message",
                        format_path(scan, NULL, path, sizeof(path)),
                        n < 0 ? "is longer than 10 bytes" : "is cut off");
        p += n;

        unsigned wire = (unsigned)(tag & 7);
        uint64_t number64 = tag >> 3;
        if (number64 == 0 || number64 > FIELD_NUMBER_MAX)
            return fail(scan, "invalid field number %llu in %s",
                        (unsigned long long)number64,
                        format_path(scan, NULL, path, sizeof(path)));
        unsigned number = (unsigned)number64;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field(descriptor, number);

        uint64_t value = 0;
        const uint8_t *start;
        const uint8_t *next =
            skip_value(scan, number, wire, field ? field->name : NULL, p, end,
                       &value, &start);
        if (!next)
            return -EINVAL;
        if (field && !wire_type_fits(field, wire))
            return fail(
                scan, "field %u has the wrong wire type: %s is %s, not %s",
                number, format_path(scan, field->name, path, sizeof(path)),
                wire_type_names[expected_wire_type(field)],
                wire_type_names[wire]);
        if (field && wire == WIRE_LENGTH) {
            int rc = scan_length_field(scan, descriptor, field, start, next);
            if (rc < 0)
                return rc;
        }
        if (is_timestamp && wire == WIRE_VARINT) {
            /* int32 keeps the low 32 bits of the varint, as protobuf does. */
            if (number == 1)
                ts.seconds = (int64_t)value;
            else if (number == 2)
                ts.nanos = (int32_t)(uint32_t)value;
        }
        p = next;
    }
    return is_timestamp ? check_timestamp(scan, &ts) : 0;
}

int fce_pb_scan(const ProtobufCMessageDescriptor *descriptor,
                const uint8_t *data, size_t len, char *err, size_t err_size)
{
    struct scan scan = {
        .data_end = data + len,
        .err = err,
        .err_size = err_size,
        .depth = 0,
    };
    if (err_size)
        err[0] = '\0';
    if (len && !data)
        return fail(&scan, "no data");
    return scan_message(&scan, descriptor, data, data + len);
}
