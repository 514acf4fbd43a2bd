/*
 * fce_gcp_json: the small JSON reader and string writer that the Google
 * backends need: key files, token responses, publish responses and error
 * bodies are read by member path ("error.status"), and request bodies are
 * written with strings escaped per RFC 8259.
 *
 * The reader validates the whole document (RFC 8259 grammar, nesting up to
 * FCE_GCP_JSON_MAX_DEPTH) before it looks anything up, so a truncated or
 * malformed body is reported as such rather than half read. No function
 * here logs or allocates, except those that append to a struct fce_buf.
 */
#ifndef FCE_GCP_JSON_H
#define FCE_GCP_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "fce_buf.h"

#define FCE_GCP_JSON_MAX_DEPTH 32

enum fce_gcp_json_type {
    FCE_GCP_JSON_NULL,
    FCE_GCP_JSON_BOOL,
    FCE_GCP_JSON_NUMBER,
    FCE_GCP_JSON_STRING,
    FCE_GCP_JSON_ARRAY,
    FCE_GCP_JSON_OBJECT,
};

/* A value inside a document: text points at its first byte (the quote of a
 * string, the bracket of an array), len covers the whole value. */
struct fce_gcp_json_value {
    enum fce_gcp_json_type type;
    const char *text;
    size_t len;
};

/* Checks that text is one complete JSON value with only blanks around it.
 * Returns 0, or -EPROTO when it is not. */
int fce_gcp_json_validate(const char *text, size_t len);

/*
 * Finds the value at path, a dot-separated list of object member names
 * ("error.status"; "" is the document itself), in a document that
 * fce_gcp_json_validate() accepted. Returns 0 with *value set, -ENOENT when
 * a member is missing or a step is not an object, or -EPROTO for a
 * malformed document.
 */
int fce_gcp_json_find(const char *text, size_t len, const char *path,
                      struct fce_gcp_json_value *value);

/*
 * Copies the unescaped content of a string value into out (out_size bytes,
 * NUL-terminated). Returns the length, -ERANGE when it does not fit, -EINVAL
 * when value is not a string or contains a NUL character (\u0000).
 */
long fce_gcp_json_string(const struct fce_gcp_json_value *value, char *out,
                         size_t out_size);

/* Same, into a new malloc'd string in *out. Returns the length, -EINVAL or
 * -ENOMEM. */
long fce_gcp_json_strdup(const struct fce_gcp_json_value *value, char **out);

/*
 * Reads a number value, or a string that contains a decimal integer (token
 * responses send expires_in either way), as a non-negative integer.
 * Returns 0 or -EINVAL.
 */
int fce_gcp_json_uint(const struct fce_gcp_json_value *value,
                      unsigned long long *out);

/* Counts the elements of an array value. Returns the count or -EINVAL. */
long fce_gcp_json_array_count(const struct fce_gcp_json_value *value);

/* Finds element index (from 0) of an array value. Returns 0, -ENOENT past
 * the end, or -EINVAL when value is not an array. */
int fce_gcp_json_array_at(const struct fce_gcp_json_value *value, size_t index,
                          struct fce_gcp_json_value *element);

/*
 * Appends text as a JSON string with its quotes. Quote, backslash and
 * control characters are escaped; other bytes are copied, so text must be
 * valid UTF-8 for the output to be valid JSON. Returns 0 or -ENOMEM.
 */
int fce_gcp_json_append_string(struct fce_buf *out, const char *text,
                               size_t len);

/* Bytes fce_gcp_json_append_string() appends for text. */
size_t fce_gcp_json_string_size(const char *text, size_t len);

/* Returns whether text is valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
bool fce_gcp_utf8_valid(const char *text, size_t len);

#endif
