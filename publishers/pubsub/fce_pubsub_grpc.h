/*
 * fce_pubsub_grpc: the wire format of the Pub/Sub backend's gRPC
 * transport, without I/O, so tests can check it byte for byte.
 *
 * A unary gRPC call sends one length-prefixed message: a compressed-flag
 * byte (0 here), the message length as 4 bytes big-endian, then the
 * protobuf bytes. The response body carries PublishResponse the same way,
 * and the outcome is the grpc-status trailer (or header, in a
 * trailers-only response), with an optional percent-encoded grpc-message.
 */
#ifndef FCE_PUBSUB_GRPC_H
#define FCE_PUBSUB_GRPC_H

#include <stdbool.h>
#include <stddef.h>

#include "fce_buf.h"

#define FCE_PUBSUB_GRPC_PATH   "/google.pubsub.v1.Publisher/Publish"
#define FCE_PUBSUB_GRPC_PREFIX 5 /* flag byte + 4-byte length */

/* gRPC status codes (grpc/doc/statuscodes.md). */
enum fce_grpc_code {
    FCE_GRPC_OK = 0,
    FCE_GRPC_CANCELLED = 1,
    FCE_GRPC_UNKNOWN = 2,
    FCE_GRPC_INVALID_ARGUMENT = 3,
    FCE_GRPC_DEADLINE_EXCEEDED = 4,
    FCE_GRPC_NOT_FOUND = 5,
    FCE_GRPC_ALREADY_EXISTS = 6,
    FCE_GRPC_PERMISSION_DENIED = 7,
    FCE_GRPC_RESOURCE_EXHAUSTED = 8,
    FCE_GRPC_FAILED_PRECONDITION = 9,
    FCE_GRPC_ABORTED = 10,
    FCE_GRPC_OUT_OF_RANGE = 11,
    FCE_GRPC_UNIMPLEMENTED = 12,
    FCE_GRPC_INTERNAL = 13,
    FCE_GRPC_UNAVAILABLE = 14,
    FCE_GRPC_DATA_LOSS = 15,
    FCE_GRPC_UNAUTHENTICATED = 16,
};

/* The name of a status code ("UNAVAILABLE"), or "UNKNOWN" for a code
 * outside 0..16. */
const char *fce_pubsub_grpc_code_name(int code);

/* The status a response without grpc-status stands for, by its HTTP
 * status, as gRPC's HTTP-to-gRPC mapping defines it: 400 INTERNAL, 401
 * UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429, 502, 503
 * and 504 UNAVAILABLE, anything else UNKNOWN. */
int fce_pubsub_grpc_code_from_http(long http_status);

/* Bytes a protobuf varint of value takes (1 to 10). */
size_t fce_pubsub_grpc_varint_size(size_t value);

/*
 * Builds a framed PublishRequest in out: fce_pubsub_grpc_begin() resets
 * out and writes the prefix and the topic field (1), each
 * fce_pubsub_grpc_add() appends one packed PubsubMessage as a messages
 * field (2), and fce_pubsub_grpc_finish() writes the length into the
 * prefix. Each returns 0, -ENOMEM, or (finish) -EMSGSIZE past 4 GiB.
 */
int fce_pubsub_grpc_begin(struct fce_buf *out, const char *topic_path);
int fce_pubsub_grpc_add(struct fce_buf *out, const void *message, size_t len);
int fce_pubsub_grpc_finish(struct fce_buf *out);

/*
 * Reads the message ids of a response body of one framed PublishResponse.
 * Returns how many there are, or -EPROTO (truncated or extra bytes, a
 * compressed frame, or bytes that are no PublishResponse), with the
 * problem in err.
 */
long fce_pubsub_grpc_response_ids(const void *body, size_t len, char *err,
                                  size_t err_size);

/*
 * Decodes a grpc-message value in place: %XX escapes become bytes, and a
 * malformed escape stays as it is. text has room for len + 1 bytes.
 * Returns the new length; text is NUL-terminated after it.
 */
size_t fce_pubsub_grpc_decode_message(char *text, size_t len);

/*
 * Parses a grpc-status value ("14"): returns the code, or -EPROTO when the
 * value is not a decimal number in 0..99.
 */
int fce_pubsub_grpc_parse_status(const char *value, size_t len);

#endif
