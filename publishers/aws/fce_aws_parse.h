/*
 * fce_aws_parse: the small readers AWS responses need. AWS answers Query
 * calls (SNS, STS) in XML and JSON 1.0 calls (SQS) and credential
 * endpoints in JSON; these functions pick values out of both without a
 * full DOM, on untrusted input: every read is bounded by the length given,
 * and malformed input yields -EPROTO, never a crash.
 *
 * No function here logs or keeps global state.
 */
#ifndef FCE_AWS_PARSE_H
#define FCE_AWS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fce_buf.h"

/* A slice of the input: not NUL-terminated. */
struct fce_slice {
    const char *data;
    size_t len;
};

/* ---- JSON ---- */

/*
 * Finds member key of the JSON object in text and sets *value to the raw
 * member value (a string with its quotes, an object, a number...).
 * Returns 0, -ENOENT when the object has no such member, or -EPROTO when
 * text is not a well-formed object.
 */
int fce_aws_json_member(struct fce_slice text, const char *key,
                        struct fce_slice *value);

/*
 * Iterates over a JSON array: *cursor starts as the raw array (from
 * fce_aws_json_member) and each call sets *element to the next element.
 * Returns 1 with an element, 0 at the end, -EPROTO on malformed input.
 */
int fce_aws_json_next(struct fce_slice *cursor, struct fce_slice *element);

/* Appends the decoded text of a raw JSON string value (with quotes) to
 * out, as UTF-8. Returns 0, -EPROTO, or -ENOMEM. */
int fce_aws_json_string(struct fce_slice value, struct fce_buf *out);

/* Looks up a string member and decodes it into out (reset first).
 * Returns 0, -ENOENT, -EPROTO (also when the member is not a string) or
 * -ENOMEM. */
int fce_aws_json_get_string(struct fce_slice object, const char *key,
                            struct fce_buf *out);

/* True when the raw value is the literal true. */
bool fce_aws_json_is_true(struct fce_slice value);

/* ---- XML (AWS Query responses) ---- */

/*
 * Finds the first element <tag>...</tag> inside text (namespace prefixes
 * and attributes on the start tag are allowed) and sets *content to what
 * lies between the tags. An empty element <tag/> yields empty content.
 * Returns 0 or -ENOENT.
 */
int fce_aws_xml_element(struct fce_slice text, const char *tag,
                        struct fce_slice *content);

/*
 * Iterates over the <tag> children of text: *cursor starts as text and each
 * call sets *content to the next element's content. Returns 1 or 0 at the
 * end.
 */
int fce_aws_xml_next(struct fce_slice *cursor, const char *tag,
                     struct fce_slice *content);

/* Appends element content with the five XML entities and numeric
 * character references decoded. Returns 0, -EPROTO or -ENOMEM. */
int fce_aws_xml_text(struct fce_slice content, struct fce_buf *out);

/* fce_aws_xml_element + fce_aws_xml_text into out (reset first). */
int fce_aws_xml_get_text(struct fce_slice text, const char *tag,
                         struct fce_buf *out);

/* ---- time ---- */

/*
 * Parses an ISO 8601 UTC time as AWS writes it ("2026-12-04T08:11:02Z",
 * with an optional fraction, or a "+00:00" style offset) into Unix
 * milliseconds. Returns 0 or -EINVAL.
 */
int fce_aws_parse_time(const char *text, size_t len, int64_t *unix_ms);

#endif
