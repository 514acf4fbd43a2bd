/* A small strict JSON reader for `fce decode`: one object per call, string
 * members decoded, other members checked and passed as raw text. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fce_json.h"
#include "fce_utf8.h"

#define NESTING_MAX 64

struct reader {
    const unsigned char *text;
    size_t len, pos;
    char *err;
    size_t err_size;
    struct fce_buf name, value;
};

__attribute__((format(printf, 2, 3))) static int fail(struct reader *r,
                                                      const char *format, ...)
{
    if (r->err_size) {
        char message[200];
        va_list args;
        va_start(args, format);
        vsnprintf(message, sizeof(message), format, args);
        va_end(args);
        snprintf(r->err, r->err_size, "%s at column %zu", message, r->pos + 1);
    }
    return -EINVAL;
}

static void skip_space(struct reader *r)
{
    while (r->pos < r->len &&
           (r->text[r->pos] == ' ' || r->text[r->pos] == '\t' ||
            r->text[r->pos] == '\n' || r->text[r->pos] == '\r'))
        r->pos++;
}

static int hex4(struct reader *r, uint32_t *unit)
{
    if (r->len - r->pos < 4)
        return fail(r, "truncated \\u escape");
    uint32_t value = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = r->text[r->pos + (size_t)i];
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit < 0)
            return fail(r, "invalid hex digit in \\u escape");
        value = value << 4 | (uint32_t)digit;
    }
    r->pos += 4;
    *unit = value;
    return 0;
}

static int append_code_point(struct fce_buf *out, uint32_t cp)
{
    char bytes[4];
    size_t n;
    if (cp < 0x80) {
        bytes[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        bytes[0] = (char)(0xC0 | cp >> 6);
        bytes[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        bytes[0] = (char)(0xE0 | cp >> 12);
        bytes[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        bytes[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        bytes[0] = (char)(0xF0 | cp >> 18);
        bytes[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        bytes[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        bytes[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return fce_buf_append(out, bytes, n);
}

static int read_escape(struct reader *r, struct fce_buf *out)
{
    if (r->pos >= r->len)
        return fail(r, "truncated escape");
    unsigned char c = r->text[r->pos++];
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit)
        return fce_buf_append(out, &to[hit - from], 1);
    if (c != 'u')
        return fail(r, "invalid escape \\%c", c);

    uint32_t unit;
    int rc = hex4(r, &unit);
    if (rc < 0)
        return rc;
    if (unit >= 0xDC00 && unit <= 0xDFFF)
        return fail(r, "unpaired low surrogate \\u%04x", (unsigned)unit);
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        uint32_t low;
        if (r->len - r->pos < 2 || r->text[r->pos] != '\\' ||
            r->text[r->pos + 1] != 'u')
            return fail(r, "unpaired high surrogate \\u%04x", (unsigned)unit);
        r->pos += 2;
        rc = hex4(r, &low);
        if (rc < 0)
            return rc;
        if (low < 0xDC00 || low > 0xDFFF)
            return fail(r, "unpaired high surrogate \\u%04x", (unsigned)unit);
        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }
    return append_code_point(out, unit);
}

/* Reads a string starting at '"' into out (decoded, NUL-terminated). */
static int read_string(struct reader *r, struct fce_buf *out)
{
    fce_buf_reset(out);
    r->pos++;
    for (;;) {
        size_t start = r->pos;
        while (r->pos < r->len && r->text[r->pos] != '"' &&
               r->text[r->pos] != '\\' && r->text[r->pos] >= 0x20)
            r->pos++;
        size_t run = r->pos - start;
        if (!fce_utf8_valid(r->text + start, run)) {
            r->pos = start + fce_utf8_valid_prefix(r->text + start, run);
            return fail(r, "invalid UTF-8 in a string");
        }
        if (fce_buf_append(out, r->text + start, run) < 0)
            return -ENOMEM;
        if (r->pos >= r->len)
            return fail(r, "unterminated string");
        unsigned char c = r->text[r->pos];
        if (c == '"') {
            r->pos++;
            return fce_buf_append(out, "", 1) < 0 ? -ENOMEM : 0;
        }
        if (c < 0x20)
            return fail(r, "control character 0x%02x in a string", c);
        r->pos++;
        int rc = read_escape(r, out);
        if (rc < 0)
            return rc;
    }
}

static int skip_value(struct reader *r, int depth);

static int skip_literal(struct reader *r)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (r->len - r->pos >= n &&
            memcmp(r->text + r->pos, words[i], n) == 0) {
            r->pos += n;
            return 0;
        }
    }
    return fail(r, "invalid value");
}

static int skip_number(struct reader *r)
{
    size_t start = r->pos;
    if (r->text[r->pos] == '-')
        r->pos++;
    if (r->pos < r->len && r->text[r->pos] == '0')
        r->pos++;
    else if (r->pos < r->len && r->text[r->pos] >= '1' &&
             r->text[r->pos] <= '9')
        while (r->pos < r->len && r->text[r->pos] >= '0' &&
               r->text[r->pos] <= '9')
            r->pos++;
    else
        return fail(r, "invalid number");
    if (r->pos < r->len && r->text[r->pos] == '.') {
        r->pos++;
        if (r->pos >= r->len || r->text[r->pos] < '0' || r->text[r->pos] > '9')
            return fail(r, "invalid number");
        while (r->pos < r->len && r->text[r->pos] >= '0' &&
               r->text[r->pos] <= '9')
            r->pos++;
    }
    if (r->pos < r->len && (r->text[r->pos] == 'e' || r->text[r->pos] == 'E')) {
        r->pos++;
        if (r->pos < r->len &&
            (r->text[r->pos] == '+' || r->text[r->pos] == '-'))
            r->pos++;
        if (r->pos >= r->len || r->text[r->pos] < '0' || r->text[r->pos] > '9')
            return fail(r, "invalid number");
        while (r->pos < r->len && r->text[r->pos] >= '0' &&
               r->text[r->pos] <= '9')
            r->pos++;
    }
    return r->pos > start ? 0 : fail(r, "invalid number");
}

/* Skips an object or array whose opening bracket is at r->pos. */
static int skip_container(struct reader *r, int depth)
{
    unsigned char close = r->text[r->pos] == '{' ? '}' : ']';
    bool object = close == '}';
    r->pos++;
    skip_space(r);
    if (r->pos < r->len && r->text[r->pos] == close) {
        r->pos++;
        return 0;
    }
    for (;;) {
        int rc;
        if (object) {
            skip_space(r);
            if (r->pos >= r->len || r->text[r->pos] != '"')
                return fail(r, "expected a member name");
            rc = read_string(r, &r->value);
            if (rc < 0)
                return rc;
            skip_space(r);
            if (r->pos >= r->len || r->text[r->pos] != ':')
                return fail(r, "expected ':'");
            r->pos++;
        }
        rc = skip_value(r, depth + 1);
        if (rc < 0)
            return rc;
        skip_space(r);
        if (r->pos < r->len && r->text[r->pos] == ',') {
            r->pos++;
            continue;
        }
        if (r->pos < r->len && r->text[r->pos] == close) {
            r->pos++;
            return 0;
        }
        return fail(r, "expected ',' or '%c'", close);
    }
}

static int skip_value(struct reader *r, int depth)
{
    skip_space(r);
    if (r->pos >= r->len)
        return fail(r, "missing value");
    if (depth > NESTING_MAX)
        return fail(r, "nested more than %d levels", NESTING_MAX);
    unsigned char c = r->text[r->pos];
    if (c == '"')
        return read_string(r, &r->value);
    if (c == '{' || c == '[')
        return skip_container(r, depth);
    if (c == '-' || (c >= '0' && c <= '9'))
        return skip_number(r);
    return skip_literal(r);
}

static int read_members(struct reader *r, fce_json_member_fn member,
                        void *context)
{
    for (;;) {
        skip_space(r);
        if (r->pos >= r->len || r->text[r->pos] != '"')
            return fail(r, "expected a member name");
        int rc = read_string(r, &r->name);
        if (rc < 0)
            return rc;
        skip_space(r);
        if (r->pos >= r->len || r->text[r->pos] != ':')
            return fail(r, "expected ':' after \"%s\"", r->name.data);
        r->pos++;
        skip_space(r);

        size_t start = r->pos;
        bool is_string = r->pos < r->len && r->text[r->pos] == '"';
        rc = skip_value(r, 1);
        if (rc < 0)
            return rc;
        const char *value =
            is_string ? r->value.data : (const char *)r->text + start;
        size_t value_len = is_string ? r->value.len - 1 : r->pos - start;
        rc = member(context, r->name.data, r->name.len - 1, value, value_len,
                    is_string);
        if (rc)
            return rc;

        skip_space(r);
        if (r->pos < r->len && r->text[r->pos] == ',') {
            r->pos++;
            continue;
        }
        if (r->pos < r->len && r->text[r->pos] == '}') {
            r->pos++;
            return 0;
        }
        return fail(r, "expected ',' or '}'");
    }
}

int fce_json_parse_object(const char *text, size_t len,
                          fce_json_member_fn member, void *context, char *err,
                          size_t err_size)
{
    struct reader r = {
        .text = (const unsigned char *)text,
        .len = len,
        .err = err,
        .err_size = err_size,
        .name = FCE_BUF_INIT,
        .value = FCE_BUF_INIT,
    };
    int rc;
    skip_space(&r);
    if (r.pos >= r.len || r.text[r.pos] != '{') {
        rc = fail(&r, "expected a JSON object");
        goto cleanup;
    }
    r.pos++;
    skip_space(&r);
    if (r.pos < r.len && r.text[r.pos] == '}')
        r.pos++;
    else if ((rc = read_members(&r, member, context)) != 0)
        goto cleanup;
    skip_space(&r);
    rc = r.pos == r.len ? 0 : fail(&r, "unexpected text after the object");

cleanup:
    fce_buf_free(&r.name);
    fce_buf_free(&r.value);
    return rc;
}
