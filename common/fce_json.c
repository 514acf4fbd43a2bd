#include "fce_json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "fce_utf8.h"

static const char hex_digits[] = "0123456789abcdef";

/* 1 for ASCII bytes copied as they are: 0x20..0x7E except '"' and '\'. */
static const uint8_t plain[256] = {
    [0x20] = 1,
    [0x21] = 1,
    [0x23 ... 0x5B] = 1,
    [0x5D ... 0x7E] = 1,
};

static char *write_u_escape(char *w, uint32_t unit)
{
    w[0] = '\\';
    w[1] = 'u';
    w[2] = hex_digits[(unit >> 12) & 15];
    w[3] = hex_digits[(unit >> 8) & 15];
    w[4] = hex_digits[(unit >> 4) & 15];
    w[5] = hex_digits[unit & 15];
    return w + 6;
}

static char *write_ascii_escape(char *w, uint8_t byte)
{
    char short_form = 0;
    switch (byte) {
    case '"':
        short_form = '"';
        break;
    case '\\':
        short_form = '\\';
        break;
    case '\b':
        short_form = 'b';
        break;
    case '\f':
        short_form = 'f';
        break;
    case '\n':
        short_form = 'n';
        break;
    case '\r':
        short_form = 'r';
        break;
    case '\t':
        short_form = 't';
        break;
    }
    if (!short_form)
        return write_u_escape(w, byte);
    w[0] = '\\';
    w[1] = short_form;
    return w + 2;
}

static bool needs_escape(uint32_t code_point)
{
    if (code_point <= 0x9F)
        return true; /* C1 controls; ASCII never gets here */
    if (code_point == 0x2028 || code_point == 0x2029)
        return true;
    if (code_point >= 0xFDD0 && code_point <= 0xFDEF)
        return true;
    return (code_point & 0xFFFE) == 0xFFFE;
}

static char *write_code_point_escape(char *w, uint32_t code_point)
{
    if (code_point < 0x10000)
        return write_u_escape(w, code_point);
    uint32_t v = code_point - 0x10000;
    w = write_u_escape(w, 0xD800 | (v >> 10));
    return write_u_escape(w, 0xDC00 | (v & 0x3FF));
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Returns nonzero when a byte of word is zero. Only zero or nonzero is
 * exact, not which bits are set. */
static uint64_t has_zero(uint64_t word)
{
    return (word - ONES) & ~word & HIGHS;
}

/* Returns nonzero when one of the eight bytes of word is not plain: a control
 * byte, '"', '\\', 0x7F or a byte of 0x80 and above. */
static uint64_t has_special(uint64_t word)
{
    uint64_t below_space = (word - 0x20 * ONES) & ~word & HIGHS;

    return below_space | (word & HIGHS) | has_zero(word ^ ('"' * ONES)) |
           has_zero(word ^ ('\\' * ONES)) | has_zero(word ^ (0x7F * ONES));
}

#ifdef __SSE2__
/* Returns a bit per byte of v that is not plain. Bytes of 0x80 and above
 * are negative as signed bytes, so one signed compare with 0x20 finds
 * them together with the control bytes. */
static unsigned special_mask(__m128i v)
{
    __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F));

    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(low, quote), _mm_or_si128(backslash, del)));
}
#endif

/*
 * Copies the plain bytes at the start of src (n bytes) to w and returns
 * how many there were. Whole blocks are stored before they are checked,
 * so w needs room for fce_json_string_size_max(n) bytes, which a caller
 * of fce_json_write_string() provides.
 */
static size_t copy_plain(char *w, const uint8_t *src, size_t n)
{
    size_t k = 0;
    uint64_t word, flags;

#ifdef __SSE2__
    for (; n - k >= 16; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(src + k));
        unsigned mask;

        _mm_storeu_si128((__m128i *)(w + k), v);
        mask = special_mask(v);
        if (mask)
            return k + (size_t)__builtin_ctz(mask);
    }
#endif
    for (; n - k >= sizeof(word); k += sizeof(word)) {
        memcpy(&word, src + k, sizeof(word));
        memcpy(w + k, &word, sizeof(word));
        flags = has_special(word);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* A flag can be wrong only in a byte above a true one, because a
         * borrow runs towards the high end, so the lowest flag is exact. */
        if (flags)
            return k + (size_t)__builtin_ctzll(flags) / 8;
#else
        if (flags)
            break;
#endif
    }
    while (k < n && plain[src[k]]) {
        w[k] = (char)src[k];
        k++;
    }
    return k;
}

char *fce_json_write_string(char *out, const char *text, size_t len)
{
    const uint8_t *p = (const uint8_t *)text;
    char *w = out;
    *w++ = '"';
    size_t i = 0;
    while (i < len) {
        size_t run = copy_plain(w, p + i, len - i);
        w += run;
        i += run;
        if (i == len)
            break;

        if (p[i] < 0x80) {
            w = write_ascii_escape(w, p[i]);
            i++;
            continue;
        }
        uint32_t code_point;
        size_t n = fce_utf8_decode(p + i, len - i, &code_point);
        if (n == 0) {
            w = write_u_escape(w, 0xFFFD);
            i++;
        } else if (needs_escape(code_point)) {
            w = write_code_point_escape(w, code_point);
            i += n;
        } else {
            memcpy(w, p + i, n);
            w += n;
            i += n;
        }
    }
    *w++ = '"';
    return w;
}

int fce_json_append_string(struct fce_buf *out, const char *text, size_t len)
{
    if (len > (SIZE_MAX - 2) / FCE_JSON_ESCAPE_MAX ||
        fce_buf_reserve(out, fce_json_string_size_max(len)) < 0)
        return -ENOMEM;
    char *end = fce_json_write_string(out->data + out->len, text, len);
    out->len = (size_t)(end - out->data);
    return 0;
}
