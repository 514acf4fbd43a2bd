#include "fce_utf8.h"

#include <string.h>

#define HIGH_BITS 0x8080808080808080ull

size_t fce_utf8_decode(const uint8_t *text, size_t len, uint32_t *code_point)
{
    uint8_t lead = text[0];
    if (lead < 0x80) {
        *code_point = lead;
        return 1;
    }

    /* The second byte's range depends on the lead byte: that is how
     * overlong forms, surrogates and values past U+10FFFF are excluded. */
    size_t need;
    uint8_t low = 0x80, high = 0xBF;
    uint32_t value;
    if (lead >= 0xC2 && lead <= 0xDF) {
        need = 2;
        value = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        need = 3;
        value = lead & 0x0F;
        if (lead == 0xE0)
            low = 0xA0;
        else if (lead == 0xED)
            high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        need = 4;
        value = lead & 0x07;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F;
    } else {
        return 0;
    }
    if (len < need)
        return 0;

    if (text[1] < low || text[1] > high)
        return 0;
    value = value << 6 | (text[1] & 0x3F);
    for (size_t i = 2; i < need; i++) {
        if ((text[i] & 0xC0) != 0x80)
            return 0;
        value = value << 6 | (text[i] & 0x3F);
    }
    *code_point = value;
    return need;
}

size_t fce_utf8_valid_prefix(const uint8_t *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Most text is ASCII: test eight bytes at a time. */
        if (len - i >= 8) {
            uint64_t word;
            memcpy(&word, text + i, 8);
            if (!(word & HIGH_BITS)) {
                i += 8;
                continue;
            }
        }
        if (text[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t code_point;
        size_t n = fce_utf8_decode(text + i, len - i, &code_point);
        if (n == 0)
            return i;
        i += n;
    }
    return i;
}
