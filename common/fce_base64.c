/*
 * The encoder looks up 12 input bits at a time in a table of character
 * pairs, so three input bytes take two loads and two stores.
 */
#include "fce_base64.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

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

size_t fce_base64_encode(const uint8_t *data, size_t len, char *out)
{
    char *w = out;
    size_t i = 0;
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
