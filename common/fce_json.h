/*
 * fce_json: the JSON string writer behind structured-mode CloudEvents.
 *
 * Output is always valid UTF-8 and a valid RFC 8259 string, whatever the
 * input bytes: '"' and '\' are escaped, control characters (U+0000..U+001F,
 * U+007F..U+009F) become \b \f \n \r \t or \u00XX, U+2028 and U+2029 (line
 * breaks to JavaScript) and Unicode noncharacters (U+FDD0..U+FDEF and the
 * last two code points of each plane, which SQS rejects raw) become \u
 * escapes, and bytes that are not valid UTF-8 become \ufffd. Other UTF-8
 * is copied unchanged. No function here logs.
 */
#ifndef FCE_JSON_H
#define FCE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "fce_buf.h"

/* Largest growth of one input byte (an invalid byte becomes \ufffd). */
#define FCE_JSON_ESCAPE_MAX 6

/* Bytes fce_json_write_string() may write for len input bytes. */
static inline size_t fce_json_string_size_max(size_t len)
{
    return len * FCE_JSON_ESCAPE_MAX + 2;
}

/* Writes text as a quoted JSON string at out, which has
 * fce_json_string_size_max(len) bytes, and returns the end of it. */
char *fce_json_write_string(char *out, const char *text, size_t len);

/* Appends text as a quoted JSON string. Returns 0 or -ENOMEM. */
int fce_json_append_string(struct fce_buf *out, const char *text, size_t len);

#endif

/* ---- reading ---- */

/* Called for each member of a top-level object. value is the decoded
 * string (NUL-terminated, may contain NUL bytes) when is_string, else the
 * raw JSON text of the value. Return 0 to continue, non-zero to stop. */
typedef int (*fce_json_member_fn)(void *context, const char *name,
                                  size_t name_len, const char *value,
                                  size_t value_len, bool is_string);

/*
 * Parses text as one JSON object (RFC 8259; nested values are checked and
 * passed raw) and calls member for each member in order. Returns 0, the
 * callback's non-zero value, -EINVAL with the problem and its 1-based
 * column in err, or -ENOMEM.
 */
int fce_json_parse_object(const char *text, size_t len,
                          fce_json_member_fn member, void *context, char *err,
                          size_t err_size);
