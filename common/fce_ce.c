#include "fce_ce.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fce_base64.h"
#include "fce_json.h"

#define DEFAULT_SOURCE "https://github.com/flyteorg/flyteadmin"
#define DEFAULT_JSONSCHEMAURL                                                  \
    "https://github.com/flyteorg/flyteidl/blob/master/jsonschema/"             \
    "workflow_execution.json"

const struct fce_ce_profile fce_ce_default_profile = {
    .source = DEFAULT_SOURCE,
    .jsonschemaurl = DEFAULT_JSONSCHEMAURL,
};

static const char *const type_names[] = {
    NULL,
    "com.flyte.resource.workflow",
    "com.flyte.resource.node",
    "com.flyte.resource.task",
};

static void add_attr(struct fce_ce *ce, const char *name, const char *value,
                     size_t value_len)
{
    struct fce_ce_attr *attr = &ce->attrs[ce->attr_count++];
    attr->name = name;
    attr->name_len = strlen(name);
    attr->value = value;
    attr->value_len = value_len;
}

static void add_attr_str(struct fce_ce *ce, const char *name, const char *value)
{
    add_attr(ce, name, value, strlen(value));
}

void fce_ce_from_event(const struct fce_event_view *event,
                       const struct fce_ce_profile *profile, struct fce_ce *ce)
{
    const char *source =
        profile && profile->source ? profile->source : DEFAULT_SOURCE;
    const char *schema = profile && profile->jsonschemaurl
                             ? profile->jsonschemaurl
                             : DEFAULT_JSONSCHEMAURL;
    enum fce_kind kind = event->kind;
    const char *type = fce_kind_name(kind) ? type_names[kind] : "";
    const char *subject = fce_kind_request_name(kind);

    ce->kind = kind;
    ce->attr_count = 0;
    add_attr_str(ce, "specversion", "1.0");
    add_attr(ce, "id", event->id, event->id_len);
    add_attr_str(ce, "source", source);
    add_attr_str(ce, "type", type);
    add_attr_str(ce, "subject", subject ? subject : "");
    if (event->has_time) {
        size_t len =
            fce_ce_format_time(event->seconds, event->nanos, ce->time_text);
        add_attr(ce, "time", ce->time_text, len);
    }
    add_attr_str(ce, "datacontenttype", "application/protobuf");
    add_attr_str(ce, "jsonschemaurl", schema);

    ce->partition_key = event->partition_key;
    ce->partition_key_len = event->partition_key_len;
    ce->data = event->data;
    ce->data_len = event->data_len;
}

const char *fce_ce_attr(const struct fce_ce *ce, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    for (size_t i = 0; i < ce->attr_count; i++) {
        const struct fce_ce_attr *attr = &ce->attrs[i];
        if (attr->name_len == name_len &&
            memcmp(attr->name, name, name_len) == 0) {
            *len = attr->value_len;
            return attr->value;
        }
    }
    return NULL;
}

/* ---- time ---- */

/* Converts days since 1970-01-01 to a proleptic Gregorian date. The
 * calendar repeats every 400 years (146097 days); counting eras from
 * 0000-03-01 puts the leap day at the end of each year. */
static void civil_from_days(int64_t days, int64_t *year, unsigned *month,
                            unsigned *day)
{
    days += 719468; /* days from 0000-03-01 to 1970-01-01 */
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned day_of_era = (unsigned)(days - era * 146097);
    unsigned year_of_era = (day_of_era - day_of_era / 1460 +
                            day_of_era / 36524 - day_of_era / 146096) /
                           365;
    unsigned day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    unsigned month_index = (5 * day_of_year + 2) / 153; /* 0 = March */
    *day = day_of_year - (153 * month_index + 2) / 5 + 1;
    *month = month_index < 10 ? month_index + 3 : month_index - 9;
    *year = (int64_t)year_of_era + era * 400 + (*month <= 2);
}

static char *write_digits(char *w, unsigned value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        w[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return w + width;
}

size_t fce_ce_format_time(int64_t seconds, int32_t nanos, char *out)
{
    if (nanos < 0)
        nanos = 0;
    if (nanos > 999999999)
        nanos = 999999999;
    int64_t days = seconds / 86400;
    int64_t rest = seconds % 86400;
    if (rest < 0) {
        rest += 86400;
        days--;
    }

    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);

    char *w = out;
    if (year >= 0 && year <= 9999)
        w = write_digits(w, (unsigned)year, 4);
    else
        w += snprintf(w, 16, "%lld", (long long)year);
    *w++ = '-';
    w = write_digits(w, month, 2);
    *w++ = '-';
    w = write_digits(w, day, 2);
    *w++ = 'T';
    w = write_digits(w, (unsigned)(rest / 3600), 2);
    *w++ = ':';
    w = write_digits(w, (unsigned)(rest / 60 % 60), 2);
    *w++ = ':';
    w = write_digits(w, (unsigned)(rest % 60), 2);
    if (nanos) {
        int digits = 9;
        unsigned fraction = (unsigned)nanos;
        while (fraction % 10 == 0) {
            fraction /= 10;
            digits--;
        }
        *w++ = '.';
        w = write_digits(w, fraction, digits);
    }
    *w++ = 'Z';
    *w = '\0';
    return (size_t)(w - out);
}

/* ---- the neutral record ---- */

/*
 * Layout, little-endian:
 *   0  u32 magic "FCE1"     4  u32 kind          8  u32 attr_count
 *   12 u32 partition_key_len                     16 u32 data_len
 *   20 attributes, each: u32 name_len, u32 value_len, name, value
 *   then the partition key, then the data bytes.
 */
#define CE_RECORD_MAGIC  0x31454346u /* "FCE1" read as little-endian */
#define CE_RECORD_HEADER 20u
#define CE_ATTR_HEADER   8u
#define CE_NAME_MAX      36u /* fits "ce_" + name in fce_ce_header.name */

static void put_u32(unsigned char *p, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(value >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

size_t fce_ce_record_size(const struct fce_ce *ce)
{
    size_t size = CE_RECORD_HEADER + ce->partition_key_len + ce->data_len;
    for (size_t i = 0; i < ce->attr_count; i++)
        size += CE_ATTR_HEADER + ce->attrs[i].name_len + ce->attrs[i].value_len;
    return size;
}

void fce_ce_record_write(void *dst, const struct fce_ce *ce)
{
    unsigned char *p = dst;
    put_u32(p, CE_RECORD_MAGIC);
    put_u32(p + 4, (uint32_t)ce->kind);
    put_u32(p + 8, (uint32_t)ce->attr_count);
    put_u32(p + 12, (uint32_t)ce->partition_key_len);
    put_u32(p + 16, (uint32_t)ce->data_len);
    p += CE_RECORD_HEADER;

    for (size_t i = 0; i < ce->attr_count; i++) {
        const struct fce_ce_attr *attr = &ce->attrs[i];
        put_u32(p, (uint32_t)attr->name_len);
        put_u32(p + 4, (uint32_t)attr->value_len);
        p += CE_ATTR_HEADER;
        memcpy(p, attr->name, attr->name_len);
        p += attr->name_len;
        memcpy(p, attr->value, attr->value_len);
        p += attr->value_len;
    }
    memcpy(p, ce->partition_key, ce->partition_key_len);
    p += ce->partition_key_len;
    if (ce->data_len)
        memcpy(p, ce->data, ce->data_len);
}

static bool attr_name_valid(const unsigned char *name, size_t len)
{
    if (len == 0 || len > CE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

int fce_ce_record_read(const void *src, size_t len, struct fce_ce *ce)
{
    const unsigned char *p = src;
    const unsigned char *end = p + len;
    if (len < CE_RECORD_HEADER || get_u32(p) != CE_RECORD_MAGIC)
        return -EPROTO;
    uint32_t kind = get_u32(p + 4);
    uint32_t count = get_u32(p + 8);
    size_t key_len = get_u32(p + 12);
    size_t data_len = get_u32(p + 16);
    if (!fce_kind_name((enum fce_kind)kind) || count > FCE_CE_MAX_ATTRS)
        return -EPROTO;
    p += CE_RECORD_HEADER;

    ce->kind = (enum fce_kind)kind;
    ce->attr_count = count;
    ce->time_text[0] = '\0';
    for (uint32_t i = 0; i < count; i++) {
        if ((size_t)(end - p) < CE_ATTR_HEADER)
            return -EPROTO;
        size_t name_len = get_u32(p);
        size_t value_len = get_u32(p + 4);
        p += CE_ATTR_HEADER;
        if (name_len > (size_t)(end - p) ||
            value_len > (size_t)(end - p) - name_len ||
            !attr_name_valid(p, name_len))
            return -EPROTO;
        struct fce_ce_attr *attr = &ce->attrs[i];
        attr->name = (const char *)p;
        attr->name_len = name_len;
        attr->value = (const char *)p + name_len;
        attr->value_len = value_len;
        p += name_len + value_len;
    }
    if ((size_t)(end - p) != key_len + data_len)
        return -EPROTO;
    ce->partition_key = (const char *)p;
    ce->partition_key_len = key_len;
    ce->data = p + key_len;
    ce->data_len = data_len;
    return 0;
}

/* ---- structured JSON ---- */

size_t fce_ce_json_size_max(const struct fce_ce *ce)
{
    /* {"name":value, per attribute, "data_base64":"..."} */
    size_t size = 2 + sizeof("\"data_base64\":") +
                  fce_base64_encoded_size(ce->data_len) + 2;
    for (size_t i = 0; i < ce->attr_count; i++)
        size += ce->attrs[i].name_len + 4 +
                fce_json_string_size_max(ce->attrs[i].value_len);
    return size;
}

size_t fce_ce_write_json(const struct fce_ce *ce, char *out)
{
    /* Attribute names are [a-z0-9]+ (checked when a record is read, and
     * fixed strings otherwise), so they need no escaping. */
    char *w = out;
    *w++ = '{';
    for (size_t i = 0; i < ce->attr_count; i++) {
        const struct fce_ce_attr *attr = &ce->attrs[i];
        *w++ = '"';
        memcpy(w, attr->name, attr->name_len);
        w += attr->name_len;
        memcpy(w, "\":", 2);
        w = fce_json_write_string(w + 2, attr->value, attr->value_len);
        *w++ = ',';
    }
    memcpy(w, "\"data_base64\":\"", 15);
    w += 15;
    w += fce_base64_encode(ce->data, ce->data_len, w);
    memcpy(w, "\"}", 2);
    w += 2;
    return (size_t)(w - out);
}

int fce_ce_render_json(const struct fce_ce *ce, struct fce_buf *out)
{
    if (fce_buf_reserve(out, fce_ce_json_size_max(ce)) < 0)
        return -ENOMEM;
    out->len += fce_ce_write_json(ce, out->data + out->len);
    return 0;
}

/* ---- binary mode ---- */

void fce_ce_binary_headers(const struct fce_ce *ce, enum fce_ce_binding binding,
                           struct fce_ce_headers *headers)
{
    const char *prefix = binding == FCE_CE_BINDING_PUBSUB ? "ce-" : "ce_";
    headers->count = 0;
    for (size_t i = 0; i < ce->attr_count; i++) {
        const struct fce_ce_attr *attr = &ce->attrs[i];
        struct fce_ce_header *header = &headers->items[headers->count];
        size_t name_len =
            attr->name_len < CE_NAME_MAX ? attr->name_len : CE_NAME_MAX;
        if (name_len == 15 && memcmp(attr->name, "datacontenttype", 15) == 0)
            memcpy(header->name, "content-type", 13);
        else
            snprintf(header->name, sizeof(header->name), "%s%.*s", prefix,
                     (int)name_len, attr->name);
        header->value = attr->value;
        header->value_len = attr->value_len;
        headers->count++;
    }
}

/* ---- the eventTypes filter ---- */

int fce_event_types_add(const char *value, unsigned *mask)
{
    if (!value)
        return -EINVAL;
    if (strcmp(value, "all") == 0 || strcmp(value, "*") == 0) {
        *mask |= FCE_EVENT_TYPES_ALL;
        return 0;
    }
    enum fce_kind kind;
    if (fce_kind_parse(value, &kind) < 0)
        return -EINVAL;
    *mask |= FCE_EVENT_TYPE_BIT(kind);
    return 0;
}
