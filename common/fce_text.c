#include "fce_text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "fce_utf8.h"
#include "flyteidl/event/event.pb-c.h"

/* Bytes 0x20..0x7E other than '"' and '\\' are copied as they are. */
static const uint8_t plain_ascii[128] = {
    [0x20] = 1,
    [0x21] = 1,
    [0x23 ... 0x5B] = 1,
    [0x5D ... 0x7E] = 1,
};

static const char hex_digits[] = "0123456789abcdef";

static size_t plain_run(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && p[i] < 0x80 && plain_ascii[p[i]])
        i++;
    return i;
}

static size_t escape_byte(uint8_t byte, char *out)
{
    out[0] = '\\';
    switch (byte) {
    case '"':
    case '\\':
        out[1] = (char)byte;
        return 2;
    case '\n':
        out[1] = 'n';
        return 2;
    case '\r':
        out[1] = 'r';
        return 2;
    case '\t':
        out[1] = 't';
        return 2;
    default:
        out[1] = 'x';
        out[2] = hex_digits[byte >> 4];
        out[3] = hex_digits[byte & 15];
        return 4;
    }
}

int fce_text_append_string(struct fce_buf *out, const char *text, size_t len)
{
    const uint8_t *p = (const uint8_t *)text;
    /* Each input byte becomes at most 4 output bytes (\xNN; a two-byte C1
     * control becomes the six bytes \u00NN), plus the quotes. */
    if (len > (SIZE_MAX - 2) / 4 || fce_buf_reserve(out, len * 4 + 2) < 0)
        return -ENOMEM;

    char *w = out->data + out->len;
    *w++ = '"';
    size_t i = 0;
    while (i < len) {
        size_t run = plain_run(p + i, len - i);
        memcpy(w, p + i, run);
        w += run;
        i += run;
        if (i == len)
            break;

        uint32_t code_point;
        size_t n =
            p[i] < 0x80 ? 1 : fce_utf8_decode(p + i, len - i, &code_point);
        if (n == 1 || n == 0) {
            w += escape_byte(p[i], w);
            i++;
        } else if (code_point <= 0x9F) {
            memcpy(w, "\\u00", 4);
            w[4] = hex_digits[code_point >> 4];
            w[5] = hex_digits[code_point & 15];
            w += 6;
            i += n;
        } else {
            memcpy(w, p + i, n);
            w += n;
            i += n;
        }
    }
    *w++ = '"';
    out->len = (size_t)(w - out->data);
    return 0;
}

int fce_text_append_enum(struct fce_buf *out,
                         const ProtobufCEnumDescriptor *descriptor, int number)
{
    const ProtobufCEnumValue *value =
        descriptor ? protobuf_c_enum_descriptor_get_value(descriptor, number)
                   : NULL;
    if (value)
        return fce_buf_append_str(out, value->name);
    return fce_buf_printf(out, "%d", number);
}

/* ---- field access over protobuf-c descriptors ---- */

static const void *member(const ProtobufCMessage *message, unsigned offset)
{
    return (const char *)message + offset;
}

static size_t element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4;
    }
}

static bool value_is_zero(const ProtobufCFieldDescriptor *field,
                          const void *value)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(const char *const *)value;
        return !text || !text[0];
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)value)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const ProtobufCMessage *const *)value == NULL;
    default: {
        static const uint8_t zero[8];
        return memcmp(value, zero, element_size(field->type)) == 0;
    }
    }
}

/* How many values of field the message has: 0 or 1, or the count of a
 * repeated field. */
static size_t value_count(const ProtobufCMessage *message,
                          const ProtobufCFieldDescriptor *field)
{
    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)member(message, field->quantifier_offset);
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)member(message, field->quantifier_offset) ==
               field->id;
    const void *value = member(message, field->offset);
    if (field->label == PROTOBUF_C_LABEL_OPTIONAL &&
        field->type != PROTOBUF_C_TYPE_STRING &&
        field->type != PROTOBUF_C_TYPE_MESSAGE)
        return *(const protobuf_c_boolean *)member(message,
                                                   field->quantifier_offset)
                   ? 1
                   : 0;
    return value_is_zero(field, value) ? 0 : 1;
}

static const void *value_at(const ProtobufCMessage *message,
                            const ProtobufCFieldDescriptor *field, size_t i)
{
    const void *value = member(message, field->offset);
    if (field->label != PROTOBUF_C_LABEL_REPEATED)
        return value;
    const char *array = *(const char *const *)value;
    return array + i * element_size(field->type);
}

static int append_scalar(struct fce_buf *out,
                         const ProtobufCFieldDescriptor *field,
                         const void *value)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return fce_buf_printf(out, "%" PRId32, *(const int32_t *)value);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return fce_buf_printf(out, "%" PRIu32, *(const uint32_t *)value);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return fce_buf_printf(out, "%" PRId64, *(const int64_t *)value);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return fce_buf_printf(out, "%" PRIu64, *(const uint64_t *)value);
    case PROTOBUF_C_TYPE_FLOAT:
        return fce_buf_printf(out, "%.9g", (double)*(const float *)value);
    case PROTOBUF_C_TYPE_DOUBLE:
        return fce_buf_printf(out, "%.17g", *(const double *)value);
    case PROTOBUF_C_TYPE_BOOL:
        return fce_buf_append_str(
            out, *(const protobuf_c_boolean *)value ? "true" : "false");
    case PROTOBUF_C_TYPE_ENUM:
        return fce_text_append_enum(out, field->descriptor,
                                    *(const int *)value);
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(const char *const *)value;
        return fce_text_append_string(out, text, text ? strlen(text) : 0);
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bytes = value;
        return fce_text_append_string(out, (const char *)bytes->data,
                                      bytes->len);
    }
    default:
        return -EINVAL;
    }
}

/* Declaration order of the messages whose fields are not declared in
 * number order (oneof members added later got high numbers). */
static const unsigned node_event_order[] = {
    1,  2,  3,  4,  5,  20, 6,  7,  15, 8,  14, 9,  10,
    11, 12, 13, 16, 17, 18, 19, 21, 22, 23, 24, 25,
};
static const unsigned task_event_order[] = {
    1, 2, 3, 4, 5, 6, 7, 8, 19, 9, 10, 17, 11, 12, 13, 21, 14, 16, 18, 20, 22,
};

struct field_order {
    const ProtobufCMessageDescriptor *descriptor;
    const unsigned *numbers;
    size_t count;
};

static const struct field_order field_orders[] = {
    {&flyteidl__event__node_execution_event__descriptor, node_event_order,
     sizeof(node_event_order) / sizeof(node_event_order[0])},
    {&flyteidl__event__task_execution_event__descriptor, task_event_order,
     sizeof(task_event_order) / sizeof(task_event_order[0])},
};

/* Returns the i-th field in declaration order, or NULL past the last. */
static const ProtobufCFieldDescriptor *
declared_field(const ProtobufCMessageDescriptor *descriptor, size_t i)
{
    for (size_t k = 0; k < sizeof(field_orders) / sizeof(field_orders[0]);
         k++) {
        const struct field_order *order = &field_orders[k];
        if (order->descriptor != descriptor)
            continue;
        if (i >= order->count)
            return NULL;
        return protobuf_c_message_descriptor_get_field(descriptor,
                                                       order->numbers[i]);
    }
    return i < descriptor->n_fields ? &descriptor->fields[i] : NULL;
}

struct text_style {
    bool multiline;
    int indent;
    bool first; /* single line: nothing written yet at this level */
};

static int append_fields(struct fce_buf *out, const ProtobufCMessage *message,
                         struct text_style *style);

static int append_indent(struct fce_buf *out, int indent)
{
    if (fce_buf_reserve(out, (size_t)indent) < 0)
        return -ENOMEM;
    memset(out->data + out->len, ' ', (size_t)indent);
    out->len += (size_t)indent;
    return 0;
}

static int append_field_value(struct fce_buf *out,
                              const ProtobufCFieldDescriptor *field,
                              const void *value, struct text_style *style)
{
    int rc = 0;
    if (style->multiline)
        rc = append_indent(out, style->indent);
    else if (!style->first)
        rc = fce_buf_append(out, " ", 1);
    style->first = false;
    if (rc == 0)
        rc = fce_buf_append_str(out, field->name);
    if (rc < 0)
        return rc;

    if (field->type != PROTOBUF_C_TYPE_MESSAGE) {
        rc = fce_buf_append_str(out, style->multiline ? ": " : ":");
        if (rc == 0)
            rc = append_scalar(out, field, value);
        if (rc == 0 && style->multiline)
            rc = fce_buf_append(out, "\n", 1);
        return rc;
    }

    const ProtobufCMessage *child = *(const ProtobufCMessage *const *)value;
    struct text_style inner = {style->multiline, style->indent + 2, true};
    rc = fce_buf_append_str(out, style->multiline ? " {\n" : ":{");
    if (rc == 0 && child)
        rc = append_fields(out, child, &inner);
    if (rc == 0 && style->multiline)
        rc = append_indent(out, style->indent);
    if (rc == 0)
        rc = fce_buf_append_str(out, style->multiline ? "}\n" : "}");
    return rc;
}

static uint64_t read_varint(const uint8_t *p, size_t len, size_t *used)
{
    uint64_t value = 0;
    size_t i = 0;
    for (; i < len && i < 10; i++) {
        value |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if (!(p[i] & 0x80)) {
            i++;
            break;
        }
    }
    *used = i;
    return value;
}

static uint64_t read_little_endian(const uint8_t *p, size_t len)
{
    uint64_t value = 0;
    for (size_t i = len; i > 0; i--)
        value = value << 8 | p[i - 1];
    return value;
}

static int append_unknown_value(struct fce_buf *out,
                                const ProtobufCMessageUnknownField *field)
{
    size_t used;
    switch (field->wire_type) {
    case PROTOBUF_C_WIRE_TYPE_VARINT:
        return fce_buf_printf(out, "%" PRIu64,
                              read_varint(field->data, field->len, &used));
    case PROTOBUF_C_WIRE_TYPE_64BIT:
        return fce_buf_printf(out, "0x%016" PRIx64,
                              read_little_endian(field->data, 8));
    case PROTOBUF_C_WIRE_TYPE_32BIT:
        return fce_buf_printf(out, "0x%08" PRIx64,
                              read_little_endian(field->data, 4));
    default:
        /* protobuf-c keeps the length prefix in the data. */
        read_varint(field->data, field->len, &used);
        return fce_text_append_string(out, (const char *)field->data + used,
                                      field->len - used);
    }
}

/* Unknown fields, multi-line only: `NUMBER: value` as protoc prints them. */
static int append_unknown(struct fce_buf *out, const ProtobufCMessage *message,
                          int indent)
{
    for (unsigned i = 0; i < message->n_unknown_fields; i++) {
        const ProtobufCMessageUnknownField *field = &message->unknown_fields[i];
        int rc = append_indent(out, indent);
        if (rc == 0)
            rc = fce_buf_printf(out, "%u: ", (unsigned)field->tag);
        if (rc == 0)
            rc = append_unknown_value(out, field);
        if (rc == 0)
            rc = fce_buf_append(out, "\n", 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int append_fields(struct fce_buf *out, const ProtobufCMessage *message,
                         struct text_style *style)
{
    const ProtobufCMessageDescriptor *descriptor = message->descriptor;
    for (size_t i = 0;; i++) {
        const ProtobufCFieldDescriptor *field = declared_field(descriptor, i);
        if (!field)
            break;
        size_t count = value_count(message, field);
        for (size_t k = 0; k < count; k++) {
            int rc = append_field_value(out, field, value_at(message, field, k),
                                        style);
            if (rc < 0)
                return rc;
        }
    }
    if (style->multiline)
        return append_unknown(out, message, style->indent);
    return 0;
}

int fce_text_append_message(struct fce_buf *out,
                            const ProtobufCMessage *message)
{
    struct text_style style = {false, 0, true};
    return append_fields(out, message, &style);
}

int fce_text_append_multiline(struct fce_buf *out,
                              const ProtobufCMessage *message, int indent)
{
    struct text_style style = {true, indent, true};
    return append_fields(out, message, &style);
}
