/*
 * fce_text: the protobuf text format of protobuf-c messages.
 *
 * Two layouts:
 *   - single line, as CloudEvent ids use it: fields in declaration order,
 *     only fields that are set, `name:value` separated by one space, nested
 *     messages as `name:{...}`, enums by name (a number with no name in
 *     decimal);
 *   - multi-line, as `fce decode` prints it: `name: value` per line and
 *     `name {` ... `}` blocks indented by two spaces.
 * Strings and bytes are quoted: `"` `\` and newline, carriage return, tab
 * get a backslash escape, other bytes below 0x20, 0x7F and bytes that are
 * not valid UTF-8 become \xNN, U+0080..U+009F become \uNNNN (lowercase
 * hex), and other UTF-8 is copied unchanged.
 *
 * No function here logs.
 */
#ifndef FCE_TEXT_H
#define FCE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "fce_buf.h"

/* Appends text as a quoted, escaped string. Returns 0 or -ENOMEM. */
int fce_text_append_string(struct fce_buf *out, const char *text, size_t len);

/* Appends the name of enum value number, or the number in decimal when the
 * enum has no such value. Returns 0 or -ENOMEM. */
int fce_text_append_enum(struct fce_buf *out,
                         const ProtobufCEnumDescriptor *descriptor, int number);

/* Appends message in the single-line layout, without braces around the
 * outer message. Returns 0 or -ENOMEM. */
int fce_text_append_message(struct fce_buf *out,
                            const ProtobufCMessage *message);

/* Appends message in the multi-line layout, each line indented by indent
 * spaces and ending in a newline. Returns 0 or -ENOMEM. */
int fce_text_append_multiline(struct fce_buf *out,
                              const ProtobufCMessage *message, int indent);

#endif
