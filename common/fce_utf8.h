/*
 * fce_utf8: strict UTF-8 checks shared by validation and the JSON writer.
 *
 * "Valid" means RFC 3629: shortest form only, no surrogates (U+D800 to
 * U+DFFF), nothing above U+10FFFF. This is what proto3 parsers require of
 * string fields. No function here allocates or logs.
 */
#ifndef FCE_UTF8_H
#define FCE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns the length of the longest valid UTF-8 prefix of text; len when
 * all of it is valid. */
size_t fce_utf8_valid_prefix(const uint8_t *text, size_t len);

static inline bool fce_utf8_valid(const uint8_t *text, size_t len)
{
    return fce_utf8_valid_prefix(text, len) == len;
}

/*
 * Decodes the sequence at text (len > 0). Returns its length (1 to 4) and
 * the code point in *code_point, or 0 when the bytes there are not a valid
 * sequence.
 */
size_t fce_utf8_decode(const uint8_t *text, size_t len, uint32_t *code_point);

#endif
