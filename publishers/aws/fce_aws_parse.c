#include "fce_aws_parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- JSON ---- */

#define JSON_MAX_DEPTH 64

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Returns the byte after the string that starts at p (a quote), or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }
        if (*p == '"')
            return p + 1;
    }
    return NULL;
}

static const char *skip_value(const char *p, const char *end, int depth);

static const char *skip_container(const char *p, const char *end, int depth)
{
    char close = *p == '{' ? '}' : ']';
    bool object = *p == '{';
    if (depth > JSON_MAX_DEPTH)
        return NULL;

    p = skip_ws(p + 1, end);
    if (p < end && *p == close)
        return p + 1;
    while (p < end) {
        if (object) {
            if (*p != '"' || !(p = skip_string(p, end)))
                return NULL;
            p = skip_ws(p, end);
            if (p >= end || *p != ':')
                return NULL;
            p = skip_ws(p + 1, end);
        }
        if (!(p = skip_value(p, end, depth + 1)))
            return NULL;
        p = skip_ws(p, end);
        if (p < end && *p == close)
            return p + 1;
        if (p >= end || *p != ',')
            return NULL;
        p = skip_ws(p + 1, end);
    }
    return NULL;
}

static const char *skip_value(const char *p, const char *end, int depth)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[')
        return skip_container(p, end, depth);

    const char *start = p;
    while (p < end && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9') ||
                       (*p >= 'a' && *p <= 'z')))
        p++;
    return p > start ? p : NULL;
}

static bool string_equals(const char *quoted, size_t quoted_len,
                          const char *key)
{
    size_t key_len = strlen(key);
    return quoted_len == key_len + 2 && memcmp(quoted + 1, key, key_len) == 0;
}

int fce_aws_json_member(struct fce_slice text, const char *key,
                        struct fce_slice *value)
{
    const char *end = text.data + text.len;
    const char *p = skip_ws(text.data, end);
    if (p >= end || *p != '{')
        return -EPROTO;

    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return -ENOENT;
    while (p < end) {
        const char *name = p;
        if (*p != '"' || !(p = skip_string(p, end)))
            return -EPROTO;
        size_t name_len = (size_t)(p - name);
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return -EPROTO;
        const char *v = skip_ws(p + 1, end);
        if (!(p = skip_value(v, end, 1)))
            return -EPROTO;
        if (string_equals(name, name_len, key)) {
            value->data = v;
            value->len = (size_t)(p - v);
            return 0;
        }
        p = skip_ws(p, end);
        if (p < end && *p == '}')
            return -ENOENT;
        if (p >= end || *p != ',')
            return -EPROTO;
        p = skip_ws(p + 1, end);
    }
    return -EPROTO;
}

int fce_aws_json_next(struct fce_slice *cursor, struct fce_slice *element)
{
    const char *end = cursor->data + cursor->len;
    const char *p = skip_ws(cursor->data, end);
    if (p >= end)
        return 0;
    if (*p == '[' || *p == ',')
        p = skip_ws(p + 1, end);
    if (p < end && *p == ']')
        return 0;

    const char *v = p;
    if (!(p = skip_value(v, end, 1)))
        return -EPROTO;
    element->data = v;
    element->len = (size_t)(p - v);
    p = skip_ws(p, end);
    if (p >= end || (*p != ',' && *p != ']'))
        return -EPROTO;
    cursor->data = p;
    cursor->len = (size_t)(end - p);
    return 1;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -EPROTO;
    }
    *out = v;
    return 0;
}

static int append_utf8(struct fce_buf *out, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return fce_buf_append(out, b, n);
}

/* Decodes \uXXXX at p (after the backslash-u), joining surrogate pairs. */
static int unicode_escape(const char **pp, const char *end, struct fce_buf *out)
{
    const char *p = *pp;
    unsigned cp, low;
    if (end - p < 4 || hex4(p, &cp) < 0)
        return -EPROTO;
    p += 4;
    if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
        p[1] == 'u' && hex4(p + 2, &low) == 0 && low >= 0xdc00 &&
        low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        p += 6;
    }
    *pp = p;
    return append_utf8(out, cp);
}

int fce_aws_json_string(struct fce_slice value, struct fce_buf *out)
{
    if (value.len < 2 || value.data[0] != '"' ||
        value.data[value.len - 1] != '"')
        return -EPROTO;

    const char *p = value.data + 1;
    const char *end = value.data + value.len - 1;
    int rc = 0;
    while (p < end && rc == 0) {
        const char *run = p;
        while (p < end && *p != '\\')
            p++;
        rc = fce_buf_append(out, run, (size_t)(p - run));
        if (rc < 0 || p >= end)
            break;
        if (++p >= end)
            return -EPROTO;
        char c = *p++;
        const char *plain = strchr("\"\\/bfnrt", c);
        if (c == 'u')
            rc = unicode_escape(&p, end, out);
        else if (plain && c)
            rc = fce_buf_append(out, &"\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"],
                                1);
        else
            return -EPROTO;
    }
    return rc;
}

int fce_aws_json_get_string(struct fce_slice object, const char *key,
                            struct fce_buf *out)
{
    struct fce_slice value;
    fce_buf_reset(out);
    int rc = fce_aws_json_member(object, key, &value);
    if (rc < 0)
        return rc;
    rc = fce_aws_json_string(value, out);
    if (rc == 0)
        rc = fce_buf_append(out, "", 1);
    if (rc == 0)
        out->len--; /* keep a NUL after the text for C string use */
    return rc;
}

bool fce_aws_json_is_true(struct fce_slice value)
{
    return value.len == 4 && memcmp(value.data, "true", 4) == 0;
}

/* ---- XML ---- */

/* Finds "<tag" or "<prefix:tag" followed by '>', '/', or a blank. */
static const char *find_start(const char *p, const char *end, const char *tag,
                              const char **content)
{
    size_t tag_len = strlen(tag);
    while (p < end && (p = memchr(p, '<', (size_t)(end - p)))) {
        const char *name = ++p;
        const char *name_end = name;
        while (name_end < end && !strchr(" \t\r\n/>", *name_end))
            name_end++;
        const char *colon = memchr(name, ':', (size_t)(name_end - name));
        const char *local = colon ? colon + 1 : name;
        if ((size_t)(name_end - local) != tag_len ||
            memcmp(local, tag, tag_len) != 0 || *name == '/')
            continue;

        const char *gt = memchr(name_end, '>', (size_t)(end - name_end));
        if (!gt)
            return NULL;
        *content = gt + 1;
        return gt > name_end && gt[-1] == '/' ? gt : name;
    }
    return NULL;
}

/* Finds the matching end tag, counting nested elements of the same name. */
static const char *find_end(const char *p, const char *end, const char *tag)
{
    size_t tag_len = strlen(tag);
    int depth = 1;
    while (p < end && (p = memchr(p, '<', (size_t)(end - p)))) {
        bool closing = p + 1 < end && p[1] == '/';
        const char *name = p + (closing ? 2 : 1);
        const char *name_end = name;
        while (name_end < end && !strchr(" \t\r\n/>", *name_end))
            name_end++;
        const char *colon = memchr(name, ':', (size_t)(name_end - name));
        const char *local = colon ? colon + 1 : name;
        bool same = (size_t)(name_end - local) == tag_len &&
                    memcmp(local, tag, tag_len) == 0;
        const char *gt = memchr(name_end, '>', (size_t)(end - name_end));
        if (!gt)
            return NULL;
        if (same && closing && --depth == 0)
            return p;
        if (same && !closing && gt[-1] != '/')
            depth++;
        p = gt + 1;
    }
    return NULL;
}

static int element_at(struct fce_slice text, const char *tag,
                      struct fce_slice *content, const char **after)
{
    const char *end = text.data + text.len;
    const char *inner = NULL;
    const char *start = find_start(text.data, end, tag, &inner);
    if (!start)
        return -ENOENT;
    if (*start == '>') { /* <tag/> */
        content->data = inner;
        content->len = 0;
        *after = inner;
        return 0;
    }
    const char *close = find_end(inner, end, tag);
    if (!close)
        return -ENOENT;
    content->data = inner;
    content->len = (size_t)(close - inner);
    const char *gt = memchr(close, '>', (size_t)(end - close));
    *after = gt ? gt + 1 : end;
    return 0;
}

int fce_aws_xml_element(struct fce_slice text, const char *tag,
                        struct fce_slice *content)
{
    const char *after;
    return element_at(text, tag, content, &after);
}

int fce_aws_xml_next(struct fce_slice *cursor, const char *tag,
                     struct fce_slice *content)
{
    const char *after;
    if (element_at(*cursor, tag, content, &after) < 0)
        return 0;
    const char *end = cursor->data + cursor->len;
    cursor->data = after;
    cursor->len = (size_t)(end - after);
    return 1;
}

static int xml_entity(const char **pp, const char *end, struct fce_buf *out)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp;", '&'},
                 {"lt;", '<'},
                 {"gt;", '>'},
                 {"quot;", '"'},
                 {"apos;", '\''}};
    const char *p = *pp + 1;

    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        size_t n = strlen(named[i].name);
        if ((size_t)(end - p) >= n && memcmp(p, named[i].name, n) == 0) {
            *pp = p + n;
            return fce_buf_append(out, &named[i].c, 1);
        }
    }
    if (p < end && *p == '#') {
        bool hex = p + 1 < end && (p[1] == 'x' || p[1] == 'X');
        unsigned long cp = 0;
        const char *q = p + (hex ? 2 : 1);
        const char *digits = q;
        while (q < end && *q != ';' && q - digits < 8) {
            int d = (*q >= '0' && *q <= '9')        ? *q - '0'
                    : hex && *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
                    : hex && *q >= 'A' && *q <= 'F' ? *q - 'A' + 10
                                                    : -1;
            if (d < 0)
                return -EPROTO;
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
            q++;
        }
        if (q >= end || *q != ';' || q == digits || cp > 0x10ffff)
            return -EPROTO;
        *pp = q + 1;
        return append_utf8(out, (unsigned)cp);
    }
    return -EPROTO;
}

int fce_aws_xml_text(struct fce_slice content, struct fce_buf *out)
{
    const char *p = content.data;
    const char *end = p + content.len;
    int rc = 0;
    while (p < end && rc == 0) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        rc = fce_buf_append(out, p, (size_t)(stop - p));
        p = stop;
        if (rc == 0 && amp)
            rc = xml_entity(&p, end, out);
    }
    return rc;
}

int fce_aws_xml_get_text(struct fce_slice text, const char *tag,
                         struct fce_buf *out)
{
    struct fce_slice content;
    fce_buf_reset(out);
    int rc = fce_aws_xml_element(text, tag, &content);
    if (rc == 0)
        rc = fce_aws_xml_text(content, out);
    if (rc == 0)
        rc = fce_buf_append(out, "", 1);
    if (rc == 0)
        out->len--;
    return rc;
}

/* ---- time ---- */

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int fce_aws_parse_time(const char *text, size_t len, int64_t *unix_ms)
{
    if (len < 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
        text[16] != ':')
        return -EINVAL;

    struct tm tm = {0};
    tm.tm_year = digits(text, 4) - 1900;
    tm.tm_mon = digits(text + 5, 2) - 1;
    tm.tm_mday = digits(text + 8, 2);
    tm.tm_hour = digits(text + 11, 2);
    tm.tm_min = digits(text + 14, 2);
    tm.tm_sec = digits(text + 17, 2);
    if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
        tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
        return -EINVAL;

    size_t i = 19;
    int64_t ms = 0;
    if (i < len && text[i] == '.') {
        int64_t scale = 100;
        for (i++; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
            ms += (text[i] - '0') * scale;
            scale /= 10;
        }
    }

    int64_t offset_s = 0;
    if (i < len && (text[i] == '+' || text[i] == '-') && len - i == 6 &&
        text[i + 3] == ':') {
        int h = digits(text + i + 1, 2), m = digits(text + i + 4, 2);
        if (h < 0 || m < 0)
            return -EINVAL;
        offset_s = (text[i] == '+' ? 1 : -1) * (h * 3600 + m * 60);
    } else if (!(i + 1 == len && (text[i] == 'Z' || text[i] == 'z'))) {
        return -EINVAL;
    }

    time_t t = timegm(&tm);
    *unix_ms = ((int64_t)t - offset_s) * 1000 + ms;
    return 0;
}
