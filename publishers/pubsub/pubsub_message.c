/*
 * One PubsubMessage as REST JSON or as protobuf, checked against the
 * service's limits before anything is sent: the service rejects a whole
 * request for one bad message, and the emulator checks none of these
 * limits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fce_pubsub.h"
#include "fce_pubsub_grpc.h"
#include "gcp/fce_gcp_json.h"
#include "google/pubsub/v1/pubsub.pb-c.h"

#define STRUCTURED_TYPE "application/cloudevents+json"

/* The attributes of a message, as name/value views. */
struct attr_list {
    size_t count;
    struct {
        const char *name;
        size_t name_len;
        const char *value;
        size_t value_len;
    } items[FCE_CE_MAX_ATTRS + 1];
};

static void collect_attributes(const struct fce_ce *ce,
                               enum fce_content_mode mode,
                               struct fce_ce_headers *headers,
                               struct attr_list *attrs)
{
    attrs->count = 0;
    if (mode == FCE_CONTENT_STRUCTURED) {
        attrs->items[0].name = "content-type";
        attrs->items[0].name_len = strlen("content-type");
        attrs->items[0].value = STRUCTURED_TYPE;
        attrs->items[0].value_len = strlen(STRUCTURED_TYPE);
        attrs->count = 1;
        return;
    }

    fce_ce_binary_headers(ce, FCE_CE_BINDING_PUBSUB, headers);
    for (size_t i = 0; i < headers->count; i++) {
        attrs->items[i].name = headers->items[i].name;
        attrs->items[i].name_len = strlen(headers->items[i].name);
        attrs->items[i].value = headers->items[i].value;
        attrs->items[i].value_len = headers->items[i].value_len;
    }
    attrs->count = headers->count;
}

/* Checks the attributes and returns their bytes as the service counts
 * them (names plus values), or -EMSGSIZE with reason set. */
static long check_attributes(const struct attr_list *attrs,
                             const struct fce_pubsub_limits *limits,
                             char *reason, size_t reason_size)
{
    if (attrs->count > limits->max_attributes) {
        snprintf(reason, reason_size, "%zu attributes exceed maxAttributes %zu",
                 attrs->count, limits->max_attributes);
        return -EMSGSIZE;
    }

    long bytes = 0;
    for (size_t i = 0; i < attrs->count; i++) {
        const char *name = attrs->items[i].name;
        size_t name_len = attrs->items[i].name_len;
        size_t value_len = attrs->items[i].value_len;
        if (name_len == 0 || name_len > limits->max_attribute_key) {
            snprintf(reason, reason_size,
                     "attribute name of %zu bytes is outside 1..%zu "
                     "(maxAttributeKeyBytes)",
                     name_len, limits->max_attribute_key);
            return -EMSGSIZE;
        }
        if (value_len > limits->max_attribute_value) {
            snprintf(reason, reason_size,
                     "attribute %.*s has %zu bytes, more than "
                     "maxAttributeValueBytes %zu",
                     (int)(name_len > 64 ? 64 : name_len), name, value_len,
                     limits->max_attribute_value);
            return -EMSGSIZE;
        }
        if (!fce_gcp_utf8_valid(attrs->items[i].value, value_len)) {
            snprintf(reason, reason_size, "attribute %.*s is not valid UTF-8",
                     (int)(name_len > 64 ? 64 : name_len), name);
            return -EMSGSIZE;
        }
        bytes += (long)(name_len + value_len);
    }
    return bytes;
}

static int append_base64(struct fce_buf *out, const uint8_t *data, size_t len)
{
    /* EVP_EncodeBlock takes an int length and writes a NUL after the
     * output, hence the one byte more. */
    if (len > (size_t)(INT32_MAX / 4 * 3))
        return -EMSGSIZE;
    size_t encoded = (len + 2) / 3 * 4;
    int rc = fce_buf_reserve(out, encoded + 1);
    if (rc < 0)
        return rc;
    EVP_EncodeBlock((unsigned char *)out->data + out->len, data, (int)len);
    out->len += encoded;
    return 0;
}

static int append_attributes(struct fce_buf *out, const struct attr_list *attrs)
{
    int rc = fce_buf_append_str(out, ",\"attributes\":{");
    for (size_t i = 0; rc == 0 && i < attrs->count; i++) {
        if (i)
            rc = fce_buf_append(out, ",", 1);
        if (rc == 0)
            rc = fce_gcp_json_append_string(out, attrs->items[i].name,
                                            attrs->items[i].name_len);
        if (rc == 0)
            rc = fce_buf_append(out, ":", 1);
        if (rc == 0)
            rc = fce_gcp_json_append_string(out, attrs->items[i].value,
                                            attrs->items[i].value_len);
    }
    if (rc == 0)
        rc = fce_buf_append(out, "}", 1);
    return rc;
}

/* The data bytes of the message in this mode; structured JSON goes to
 * scratch. */
static int message_data(const struct fce_ce *ce, enum fce_content_mode mode,
                        struct fce_buf *scratch, const uint8_t **data,
                        size_t *len)
{
    if (mode != FCE_CONTENT_STRUCTURED) {
        *data = ce->data;
        *len = ce->data_len;
        return 0;
    }
    fce_buf_reset(scratch);
    int rc = fce_ce_render_json(ce, scratch);
    *data = (const uint8_t *)scratch->data;
    *len = scratch->len;
    return rc;
}

static int check_key(const struct fce_ce *ce, bool ordering,
                     const struct fce_pubsub_limits *limits, char *reason,
                     size_t reason_size)
{
    if (!ordering)
        return 0;
    if (ce->partition_key_len > limits->max_ordering_key) {
        snprintf(reason, reason_size,
                 "ordering key of %zu bytes exceeds maxOrderingKeyBytes %zu",
                 ce->partition_key_len, limits->max_ordering_key);
        return -EMSGSIZE;
    }
    if (!fce_gcp_utf8_valid(ce->partition_key, ce->partition_key_len)) {
        snprintf(reason, reason_size, "ordering key is not valid UTF-8");
        return -EMSGSIZE;
    }
    return 0;
}

static int write_message(struct fce_buf *out, const uint8_t *data, size_t len,
                         const struct attr_list *attrs, const struct fce_ce *ce,
                         bool ordering)
{
    int rc = fce_buf_append_str(out, "{\"data\":\"");
    if (rc == 0)
        rc = append_base64(out, data, len);
    if (rc == 0)
        rc = fce_buf_append(out, "\"", 1);
    if (rc == 0 && attrs->count)
        rc = append_attributes(out, attrs);
    if (rc == 0 && ordering && ce->partition_key_len) {
        rc = fce_buf_append_str(out, ",\"orderingKey\":");
        if (rc == 0)
            rc = fce_gcp_json_append_string(out, ce->partition_key,
                                            ce->partition_key_len);
    }
    if (rc == 0)
        rc = fce_buf_append(out, "}", 1);
    return rc;
}

/* A message that passed the checks: its data and attributes. */
struct checked {
    struct fce_ce_headers headers;
    struct attr_list attrs;
    const uint8_t *data;
    size_t len;
};

/* Runs every check that does not depend on the encoding. Returns 0 or
 * -EMSGSIZE (reason set), or -ENOMEM. */
static int check_message(const struct fce_ce *ce, enum fce_content_mode mode,
                         bool ordering, const struct fce_pubsub_limits *limits,
                         struct fce_buf *scratch, struct checked *msg,
                         char *reason, size_t reason_size)
{
    collect_attributes(ce, mode, &msg->headers, &msg->attrs);
    long attr_bytes =
        check_attributes(&msg->attrs, limits, reason, reason_size);
    if (attr_bytes < 0)
        return (int)attr_bytes;
    int rc = check_key(ce, ordering, limits, reason, reason_size);
    if (rc < 0)
        return rc;

    rc = message_data(ce, mode, scratch, &msg->data, &msg->len);
    if (rc < 0)
        return rc;
    size_t size =
        msg->len + (size_t)attr_bytes + (ordering ? ce->partition_key_len : 0);
    if (msg->len == 0 && msg->attrs.count == 0) {
        snprintf(reason, reason_size,
                 "message has neither data nor "
                 "attributes");
        return -EMSGSIZE;
    }
    if (size > limits->max_message_bytes) {
        snprintf(reason, reason_size,
                 "message of %zu bytes exceeds maxMessageBytes %zu", size,
                 limits->max_message_bytes);
        return -EMSGSIZE;
    }
    return 0;
}

int fce_pubsub_render_message(const struct fce_ce *ce,
                              enum fce_content_mode mode, bool ordering,
                              const struct fce_pubsub_limits *limits,
                              struct fce_buf *scratch, struct fce_buf *out,
                              char *reason, size_t reason_size)
{
    struct checked msg;
    int rc = check_message(ce, mode, ordering, limits, scratch, &msg, reason,
                           reason_size);
    if (rc < 0)
        return rc;

    size_t start = out->len;
    rc = write_message(out, msg.data, msg.len, &msg.attrs, ce, ordering);
    if (rc == 0 && out->len - start + FCE_PUBSUB_ENVELOPE_BYTES >
                       limits->max_request_bytes) {
        snprintf(reason, reason_size,
                 "message needs %zu bytes of request JSON, more than "
                 "maxRequestBytes %zu",
                 out->len - start + FCE_PUBSUB_ENVELOPE_BYTES,
                 limits->max_request_bytes);
        rc = -EMSGSIZE;
    }
    if (rc < 0)
        out->len = start;
    return rc;
}

/* protobuf-c takes NUL-terminated strings, and the attribute values and
 * the ordering key point into the ring without one: this copies them. */
struct proto_strings {
    Google__Pubsub__V1__PubsubMessage__AttributesEntry
        entries[FCE_CE_MAX_ATTRS + 1];
    Google__Pubsub__V1__PubsubMessage__AttributesEntry
        *pointers[FCE_CE_MAX_ATTRS + 1];
    char *text; /* every string, each followed by a NUL */
};

static char *copy_string(char **cursor, const char *text, size_t len)
{
    char *start = *cursor;
    memcpy(start, text, len);
    start[len] = '\0';
    *cursor = start + len + 1;
    return start;
}

static int build_proto(const struct checked *msg, const struct fce_ce *ce,
                       bool ordering, struct proto_strings *strings,
                       Google__Pubsub__V1__PubsubMessage *pb)
{
    size_t need = ce->partition_key_len + 1;
    for (size_t i = 0; i < msg->attrs.count; i++)
        need +=
            msg->attrs.items[i].name_len + msg->attrs.items[i].value_len + 2;
    strings->text = malloc(need);
    if (!strings->text)
        return -ENOMEM;

    char *cursor = strings->text;
    google__pubsub__v1__pubsub_message__init(pb);
    pb->data.data = (uint8_t *)msg->data;
    pb->data.len = msg->len;
    for (size_t i = 0; i < msg->attrs.count; i++) {
        Google__Pubsub__V1__PubsubMessage__AttributesEntry *e =
            &strings->entries[i];
        google__pubsub__v1__pubsub_message__attributes_entry__init(e);
        e->key = copy_string(&cursor, msg->attrs.items[i].name,
                             msg->attrs.items[i].name_len);
        e->value = copy_string(&cursor, msg->attrs.items[i].value,
                               msg->attrs.items[i].value_len);
        strings->pointers[i] = e;
    }
    pb->n_attributes = msg->attrs.count;
    pb->attributes = strings->pointers;
    if (ordering && ce->partition_key_len)
        pb->ordering_key =
            copy_string(&cursor, ce->partition_key, ce->partition_key_len);
    return 0;
}

int fce_pubsub_render_proto(const struct fce_ce *ce, enum fce_content_mode mode,
                            bool ordering,
                            const struct fce_pubsub_limits *limits,
                            struct fce_buf *scratch, struct fce_buf *out,
                            char *reason, size_t reason_size)
{
    struct checked msg;
    int rc = check_message(ce, mode, ordering, limits, scratch, &msg, reason,
                           reason_size);
    if (rc < 0)
        return rc;

    struct proto_strings strings;
    Google__Pubsub__V1__PubsubMessage pb;
    rc = build_proto(&msg, ce, ordering, &strings, &pb);
    if (rc < 0)
        return rc;
    size_t size = google__pubsub__v1__pubsub_message__get_packed_size(&pb);
    size_t framed = 1 + fce_pubsub_grpc_varint_size(size) + size;
    if (framed + limits->request_envelope > limits->max_request_bytes) {
        snprintf(reason, reason_size,
                 "message needs %zu bytes of PublishRequest, more than "
                 "maxRequestBytes %zu",
                 framed + limits->request_envelope, limits->max_request_bytes);
        rc = -EMSGSIZE;
    }
    if (rc == 0)
        rc = fce_buf_reserve(out, size);
    if (rc == 0) {
        google__pubsub__v1__pubsub_message__pack(&pb, (uint8_t *)out->data +
                                                          out->len);
        out->len += size;
    }
    free(strings.text);
    return rc;
}
