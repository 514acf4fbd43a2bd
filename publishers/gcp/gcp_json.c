/*
 * A validating JSON scanner: every lookup walks the text once and skips
 * what it does not need, so no tree is built. Documents here are small
 * (key files, token and error bodies, publish responses).
 */
#include "fce_gcp_json.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
    const char *p;
    const char *end;
    int depth;
};

static int scan_value(struct cursor *c);

static void skip_blanks(struct cursor *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
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

/* Reads the four hex digits of a \u escape at p. Returns the code unit or
 * -1. */
static long read_hex4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    long unit = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_value(p[i]);
        if (digit < 0)
            return -1;
        unit = unit * 16 + digit;
    }
    return unit;
}

/* Length of the UTF-8 sequence at p, or 0 when it is invalid. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    unsigned char b0 = p[0];
    if (b0 < 0x80)
        return 1;

    size_t n;
    uint32_t min, cp;
    if ((b0 & 0xE0) == 0xC0) {
        n = 2, min = 0x80, cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        n = 3, min = 0x800, cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, cp = b0 & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;

    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

bool fce_gcp_utf8_valid(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + len;
    while (p < end) {
        size_t n = utf8_sequence(p, end);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

static int scan_escape(struct cursor *c)
{
    char ch = *c->p++;
    if (strchr("\"\\/bfnrt", ch) && ch != '\0')
        return 0;
    if (ch != 'u' || read_hex4(c->p, c->end) < 0)
        return -EPROTO;
    c->p += 4;
    return 0;
}

static int scan_string(struct cursor *c)
{
    c->p++; /* the opening quote */
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            return 0;
        }
        if (ch < 0x20)
            return -EPROTO;
        if (ch == '\\') {
            c->p++;
            if (c->p >= c->end || scan_escape(c) < 0)
                return -EPROTO;
            continue;
        }
        size_t n = utf8_sequence((const unsigned char *)c->p,
                                 (const unsigned char *)c->end);
        if (n == 0)
            return -EPROTO;
        c->p += n;
    }
    return -EPROTO;
}

static void skip_digits(struct cursor *c)
{
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
}

static int scan_number(struct cursor *c)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return -EPROTO;
    if (*c->p == '0')
        c->p++;
    else
        skip_digits(c);

    if (c->p < c->end && *c->p == '.') {
        c->p++;
        const char *start = c->p;
        skip_digits(c);
        if (c->p == start)
            return -EPROTO;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        const char *start = c->p;
        skip_digits(c);
        if (c->p == start)
            return -EPROTO;
    }
    return 0;
}

static int scan_literal(struct cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return -EPROTO;
    c->p += n;
    return 0;
}

/* Scans the members or elements of an object or array after its opening
 * bracket. */
static int scan_container(struct cursor *c, char close, bool members)
{
    if (++c->depth > FCE_GCP_JSON_MAX_DEPTH)
        return -EPROTO;
    c->p++;
    skip_blanks(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        c->depth--;
        return 0;
    }

    for (;;) {
        skip_blanks(c);
        if (members) {
            if (c->p >= c->end || *c->p != '"' || scan_string(c) < 0)
                return -EPROTO;
            skip_blanks(c);
            if (c->p >= c->end || *c->p++ != ':')
                return -EPROTO;
        }
        if (scan_value(c) < 0)
            return -EPROTO;
        skip_blanks(c);
        if (c->p >= c->end)
            return -EPROTO;
        char ch = *c->p++;
        if (ch == close)
            break;
        if (ch != ',')
            return -EPROTO;
    }
    c->depth--;
    return 0;
}

static int scan_value(struct cursor *c)
{
    skip_blanks(c);
    if (c->p >= c->end)
        return -EPROTO;

    switch (*c->p) {
    case '"':
        return scan_string(c);
    case '{':
        return scan_container(c, '}', true);
    case '[':
        return scan_container(c, ']', false);
    case 't':
        return scan_literal(c, "true");
    case 'f':
        return scan_literal(c, "false");
    case 'n':
        return scan_literal(c, "null");
    default:
        return scan_number(c);
    }
}

int fce_gcp_json_validate(const char *text, size_t len)
{
    struct cursor c = {text, text + len, 0};
    if (scan_value(&c) < 0)
        return -EPROTO;
    skip_blanks(&c);
    return c.p == c.end ? 0 : -EPROTO;
}

static enum fce_gcp_json_type type_of(char first)
{
    switch (first) {
    case '"':
        return FCE_GCP_JSON_STRING;
    case '{':
        return FCE_GCP_JSON_OBJECT;
    case '[':
        return FCE_GCP_JSON_ARRAY;
    case 't':
    case 'f':
        return FCE_GCP_JSON_BOOL;
    case 'n':
        return FCE_GCP_JSON_NULL;
    default:
        return FCE_GCP_JSON_NUMBER;
    }
}

/* Scans one value at the cursor and describes it in *value. */
static int take_value(struct cursor *c, struct fce_gcp_json_value *value)
{
    skip_blanks(c);
    const char *start = c->p;
    if (scan_value(c) < 0)
        return -EPROTO;
    value->type = type_of(*start);
    value->text = start;
    value->len = (size_t)(c->p - start);
    return 0;
}

/* Compares a member name (a string value with its quotes) with name. */
static bool name_equals(const struct fce_gcp_json_value *key, const char *name,
                        size_t name_len)
{
    char buf[256];
    long n = fce_gcp_json_string(key, buf, sizeof(buf));
    return n >= 0 && (size_t)n == name_len && memcmp(buf, name, name_len) == 0;
}

/* Finds member name in the object value. */
static int find_member(const struct fce_gcp_json_value *object,
                       const char *name, size_t name_len,
                       struct fce_gcp_json_value *out)
{
    if (object->type != FCE_GCP_JSON_OBJECT)
        return -ENOENT;

    struct cursor c = {object->text + 1, object->text + object->len, 1};
    for (;;) {
        struct fce_gcp_json_value key, value;
        skip_blanks(&c);
        if (c.p >= c.end || *c.p != '"')
            return -ENOENT; /* "}" of an empty object */
        if (take_value(&c, &key) < 0)
            return -EPROTO;
        skip_blanks(&c);
        c.p++; /* ':' */
        if (take_value(&c, &value) < 0)
            return -EPROTO;
        if (name_equals(&key, name, name_len)) {
            *out = value;
            return 0;
        }
        skip_blanks(&c);
        if (c.p >= c.end || *c.p++ != ',')
            return -ENOENT;
    }
}

int fce_gcp_json_find(const char *text, size_t len, const char *path,
                      struct fce_gcp_json_value *value)
{
    struct cursor c = {text, text + len, 0};
    struct fce_gcp_json_value current;
    if (take_value(&c, &current) < 0)
        return -EPROTO;

    while (*path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        int rc = find_member(&current, path, n, &current);
        if (rc < 0)
            return rc;
        path += n;
        if (*path == '.')
            path++;
    }
    *value = current;
    return 0;
}

/* Appends code point cp as UTF-8 at out; returns the bytes written. */
static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the \u escape at *p (after the 'u'), joining a surrogate pair.
 * A lone surrogate becomes U+FFFD. */
static uint32_t decode_u_escape(const char **p, const char *end)
{
    uint32_t unit = (uint32_t)read_hex4(*p, end);
    *p += 4;
    if (unit < 0xD800 || unit > 0xDFFF)
        return unit;
    if (unit >= 0xDC00 || end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u')
        return 0xFFFD;

    long low = read_hex4(*p + 2, end);
    if (low < 0xDC00 || low > 0xDFFF)
        return 0xFFFD;
    *p += 6;
    return 0x10000 + ((unit - 0xD800) << 10) + ((uint32_t)low - 0xDC00);
}

static char simple_escape(char ch)
{
    switch (ch) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return ch; /* '"', '\\' and '/' stand for themselves */
    }
}

long fce_gcp_json_string(const struct fce_gcp_json_value *value, char *out,
                         size_t out_size)
{
    if (value->type != FCE_GCP_JSON_STRING || out_size == 0)
        return -EINVAL;

    const char *p = value->text + 1;
    const char *end = value->text + value->len - 1; /* the closing quote */
    size_t n = 0;
    while (p < end) {
        char utf8[4];
        size_t k = 1;
        if (*p != '\\') {
            utf8[0] = *p++;
        } else if (p[1] == 'u') {
            p += 2;
            uint32_t cp = decode_u_escape(&p, end);
            if (cp == 0)
                return -EINVAL;
            k = put_utf8(cp, utf8);
        } else {
            utf8[0] = simple_escape(p[1]);
            p += 2;
        }
        if (n + k >= out_size)
            return -ERANGE;
        memcpy(out + n, utf8, k);
        n += k;
    }
    out[n] = '\0';
    return (long)n;
}

long fce_gcp_json_strdup(const struct fce_gcp_json_value *value, char **out)
{
    if (value->type != FCE_GCP_JSON_STRING)
        return -EINVAL;

    /* Unescaping never makes a string longer than its JSON form. */
    char *copy = malloc(value->len);
    if (!copy)
        return -ENOMEM;
    long n = fce_gcp_json_string(value, copy, value->len);
    if (n < 0) {
        free(copy);
        return n;
    }
    *out = copy;
    return n;
}

int fce_gcp_json_uint(const struct fce_gcp_json_value *value,
                      unsigned long long *out)
{
    const char *p = value->text;
    const char *end = value->text + value->len;
    if (value->type == FCE_GCP_JSON_STRING) {
        p++;
        end--;
    } else if (value->type != FCE_GCP_JSON_NUMBER) {
        return -EINVAL;
    }
    if (p == end)
        return -EINVAL;

    unsigned long long n = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        if (n > (ULLONG_MAX - 9) / 10)
            return -EINVAL;
        n = n * 10 + (unsigned)(*p - '0');
    }
    *out = n;
    return 0;
}

/* Walks the elements of an array up to index; returns the number of
 * elements seen, with element index in *element when it exists. */
static long walk_array(const struct fce_gcp_json_value *value, size_t index,
                       struct fce_gcp_json_value *element)
{
    struct cursor c = {value->text + 1, value->text + value->len, 1};
    skip_blanks(&c);
    if (*c.p == ']')
        return 0;
    long count = 0;
    for (;;) {
        struct fce_gcp_json_value current;
        if (take_value(&c, &current) < 0)
            return -EINVAL;
        if ((size_t)count == index) {
            *element = current;
            return count + 1;
        }
        count++;
        skip_blanks(&c);
        if (c.p >= c.end || *c.p++ != ',')
            return count;
    }
}

long fce_gcp_json_array_count(const struct fce_gcp_json_value *value)
{
    if (value->type != FCE_GCP_JSON_ARRAY)
        return -EINVAL;
    struct fce_gcp_json_value unused;
    return walk_array(value, SIZE_MAX, &unused);
}

int fce_gcp_json_array_at(const struct fce_gcp_json_value *value, size_t index,
                          struct fce_gcp_json_value *element)
{
    if (value->type != FCE_GCP_JSON_ARRAY)
        return -EINVAL;
    long seen = walk_array(value, index, element);
    if (seen < 0)
        return -EINVAL;
    return (size_t)seen > index ? 0 : -ENOENT;
}

/* Escape of one byte: 0 for none, otherwise the character after '\'
 * ('u' means \u00XX). */
static char escape_of(unsigned char ch)
{
    switch (ch) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    default:
        return ch < 0x20 || ch == 0x7F ? 'u' : 0;
    }
}

size_t fce_gcp_json_string_size(const char *text, size_t len)
{
    size_t size = len + 2;
    for (size_t i = 0; i < len; i++) {
        char e = escape_of((unsigned char)text[i]);
        if (e)
            size += e == 'u' ? 5 : 1;
    }
    return size;
}

int fce_gcp_json_append_string(struct fce_buf *out, const char *text,
                               size_t len)
{
    static const char hex[] = "0123456789abcdef";
    int rc = fce_buf_reserve(out, fce_gcp_json_string_size(text, len));
    if (rc < 0)
        return rc;

    char *w = out->data + out->len;
    *w++ = '"';
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        char e = escape_of(ch);
        if (!e)
            continue;
        memcpy(w, text + start, i - start);
        w += i - start;
        start = i + 1;
        *w++ = '\\';
        *w++ = e;
        if (e == 'u') {
            memcpy(w, "00", 2);
            w[2] = hex[ch >> 4];
            w[3] = hex[ch & 0xF];
            w += 4;
        }
    }
    memcpy(w, text + start, len - start);
    w += len - start;
    *w++ = '"';
    out->len = (size_t)(w - out->data);
    return 0;
}
