/*
 * fce_base64: standard base64 (RFC 4648 section 4, alphabet A-Z a-z 0-9 +
 * /, padded with '='), as CloudEvents use for data_base64.
 */
#ifndef FCE_BASE64_H
#define FCE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters fce_base64_encode() writes for len input bytes. */
static inline size_t fce_base64_encoded_size(size_t len)
{
    return (len + 2) / 3 * 4;
}

/* Encodes len bytes into out, which has fce_base64_encoded_size(len)
 * bytes, and returns that size. Writes no NUL. */
size_t fce_base64_encode(const uint8_t *data, size_t len, char *out);

/*
 * Decodes padded standard base64 into out, which has room for len / 4 * 3
 * bytes. Returns the decoded size, or -EINVAL with the offset of the first
 * bad character in *bad_offset (a length that is not a multiple of 4, a
 * character outside the alphabet, misplaced padding, or non-zero bits
 * after the last character).
 */
long long fce_base64_decode(const char *text, size_t len, uint8_t *out,
                            size_t *bad_offset);

#endif
