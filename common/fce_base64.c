/*
 * The encoder looks up 12 input bits at a time in a table of character
 * pairs, so three input bytes take two loads and two stores. On x86 CPUs
 * with SSSE3 it first encodes 12 bytes at a time with vector shuffles.
 */
#include "fce_base64.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_SSSE3_PATH 1
#endif

/* The character of a 6-bit value, as a constant expression. */
#define B64_CHAR(v)                                                            \
    ((v) < 26    ? 'A' + (v)                                                   \
     : (v) < 52  ? 'a' + (v)-26                                                \
     : (v) < 62  ? '0' + (v)-52                                                \
     : (v) == 62 ? '+'                                                         \
                 : '/')

/* Entry i contains the two characters of the 12-bit value i, the one of its
 * high 6 bits first. */
#define PAIR(i)                                                                \
    {                                                                          \
        (char)B64_CHAR((i) >> 6), (char)B64_CHAR((i)&63)                       \
    }
#define PAIRS4(i)  PAIR(i), PAIR((i) + 1), PAIR((i) + 2), PAIR((i) + 3)
#define PAIRS16(i) PAIRS4(i), PAIRS4((i) + 4), PAIRS4((i) + 8), PAIRS4((i) + 12)
#define PAIRS64(i)                                                             \
    PAIRS16(i), PAIRS16((i) + 16), PAIRS16((i) + 32), PAIRS16((i) + 48)
#define PAIRS256(i)                                                            \
    PAIRS64(i), PAIRS64((i) + 64), PAIRS64((i) + 128), PAIRS64((i) + 192)
#define PAIRS1024(i)                                                           \
    PAIRS256(i), PAIRS256((i) + 256), PAIRS256((i) + 512), PAIRS256((i) + 768)

static const char pairs[4096][2] = {
    PAIRS1024(0),
    PAIRS1024(1024),
    PAIRS1024(2048),
    PAIRS1024(3072),
};

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#ifdef HAVE_SSSE3_PATH
/*
 * Turns the first 12 bytes of in (4 groups of 3) into 16 characters.
 * Each 32-bit lane gets the bytes b a c b of its group a b c, so that its
 * low 16 bits are a << 8 | b and its high 16 bits b << 8 | c. Two masks and
 * two multiplies then move the four 6-bit values to the four bytes of the
 * lane, in order.
 */
__attribute__((target("ssse3"))) static __m128i encode_block(__m128i in)
{
    const __m128i groups =
        _mm_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
    __m128i lanes = _mm_shuffle_epi8(in, groups);

    /* First and third values: (ab >> 10) in byte 0, (bc >> 6) in byte 2. */
    __m128i first =
        _mm_mulhi_epu16(_mm_and_si128(lanes, _mm_set1_epi32(0x0FC0FC00)),
                        _mm_set1_epi32(0x04000040));
    /* Second and fourth: (ab >> 4) & 63 in byte 1, bc & 63 in byte 3. */
    __m128i second =
        _mm_mullo_epi16(_mm_and_si128(lanes, _mm_set1_epi32(0x003F03F0)),
                        _mm_set1_epi32(0x01000010));
    __m128i values = _mm_or_si128(first, second);

    /* Each value range has one offset to its character: 0-25 get 'A',
     * 26-51 'a' - 26, 52-61 '0' - 52, 62 '+' - 62 and 63 '/' - 63. The
     * range's number picks the offset from a 16-entry table. */
    const __m128i offsets = _mm_setr_epi8(
        'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
        '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62, '/' - 63, 'A', 0, 0);
    __m128i range = _mm_subs_epu8(values, _mm_set1_epi8(51));
    __m128i below_26 = _mm_cmpgt_epi8(_mm_set1_epi8(26), values);

    range = _mm_or_si128(range, _mm_and_si128(below_26, _mm_set1_epi8(13)));
    return _mm_add_epi8(values, _mm_shuffle_epi8(offsets, range));
}

/* Encodes 12 bytes per step while 16 can be loaded, and returns how many
 * input bytes it took (a multiple of 3). */
__attribute__((target("ssse3"))) static size_t
encode_blocks(const uint8_t *data, size_t len, char *out)
{
    size_t i = 0;

    for (; len - i >= 16; i += 12, out += 16) {
        __m128i in = _mm_loadu_si128((const __m128i *)(data + i));

        _mm_storeu_si128((__m128i *)out, encode_block(in));
    }
    return i;
}

static bool have_ssse3(void)
{
    static int cached = -1;

    if (cached < 0)
        cached = __builtin_cpu_supports("ssse3") ? 1 : 0;
    return cached == 1;
}
#endif

size_t fce_base64_encode(const uint8_t *data, size_t len, char *out)
{
    char *w = out;
    size_t i = 0;

#ifdef HAVE_SSSE3_PATH
    if (len >= 16 && have_ssse3()) {
        i = encode_blocks(data, len, out);
        w += i / 3 * 4;
    }
#endif
    for (; i + 3 <= len; i += 3) {
        uint32_t bits =
            (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        memcpy(w, pairs[bits >> 12], 2);
        memcpy(w + 2, pairs[bits & 0xFFF], 2);
        w += 4;
    }

    size_t rest = len - i;
    if (rest) {
        uint32_t bits = (uint32_t)data[i] << 16;
        if (rest == 2)
            bits |= (uint32_t)data[i + 1] << 8;
        w[0] = alphabet[bits >> 18];
        w[1] = alphabet[(bits >> 12) & 63];
        w[2] = rest == 2 ? alphabet[(bits >> 6) & 63] : '=';
        w[3] = '=';
        w += 4;
    }
    return (size_t)(w - out);
}

/* The 6-bit value of c, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long long fce_base64_decode(const char *text, size_t len, uint8_t *out,
                            size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t w = 0;
    if (len % 4) {
        *bad_offset = len;
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        size_t pad = 0;
        if (last && p[i + 3] == '=')
            pad = p[i + 2] == '=' ? 2 : 1;

        uint32_t bits = 0;
        for (size_t k = 0; k < 4; k++) {
            int v = k >= 4 - pad ? 0 : b64_value(p[i + k]);
            if (v < 0) {
                *bad_offset = i + k;
                return -EINVAL;
            }
            bits = bits << 6 | (uint32_t)v;
        }
        /* Bits under the padding must be zero (RFC 4648 section 3.5). */
        if ((pad == 1 && (bits & 0xFF)) || (pad == 2 && (bits & 0xFFFF))) {
            *bad_offset = i + 3 - pad;
            return -EINVAL;
        }
        out[w++] = (uint8_t)(bits >> 16);
        if (pad < 2)
            out[w++] = (uint8_t)(bits >> 8);
        if (pad < 1)
            out[w++] = (uint8_t)bits;
    }
    return (long long)w;
}
