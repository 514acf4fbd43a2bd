/*
 * fce_pbscan: a strict check of protobuf wire bytes against a protobuf-c
 * message descriptor, run before protobuf-c decodes them.
 *
 * protobuf-c rejects malformed input without saying why, and it does not
 * check UTF-8. This scan walks every field, nested messages included, and
 * rejects what a proto3 parser rejects: a malformed varint (more than 10
 * bytes), a value cut off by the end of the data, a length past the end of
 * its message, field number 0, a wire type that does not match the
 * declared type, groups (protobuf-c cannot decode them), and invalid UTF-8
 * in a string field. It also rejects a google.protobuf.Timestamp outside
 * 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z. Unknown fields are
 * skipped, not checked further. No function here allocates or logs.
 */
#ifndef FCE_PBSCAN_H
#define FCE_PBSCAN_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define FCE_TIMESTAMP_SECONDS_MIN (-62135596800LL)
#define FCE_TIMESTAMP_SECONDS_MAX 253402300799LL

/*
 * Checks data against descriptor. Returns 0, or -EINVAL with a message in
 * err that starts with the kind of problem ("truncated message", "malformed
 * varint", "length exceeds message", "field N has the wrong wire type",
 * "invalid UTF-8 in a string field", "timestamp out of range") and names
 * the field path, e.g. "event.id.node_id".
 */
int fce_pb_scan(const ProtobufCMessageDescriptor *descriptor,
                const uint8_t *data, size_t len, char *err, size_t err_size);

#endif
