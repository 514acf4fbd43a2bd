/*
 * fce_pubsub: the GCP Pub/Sub backend (type pubsub; FlyteAdmin's type gcp).
 *
 * Publishes with one of two transports (the transport setting):
 *   grpc  the unary call /google.pubsub.v1.Publisher/Publish over HTTP/2,
 *         a protobuf PublishRequest per request, several requests
 *         multiplexed on one connection (the default);
 *   rest  POST {endpoint}/v1/projects/P/topics/T:publish with a JSON body
 *         over HTTP/1.1 (or HTTP/2 when TLS offers it).
 * Batches hold up to maxMessages messages and maxRequestBytes bytes of
 * request (JSON with base64 data for REST, the serialized PublishRequest
 * for gRPC). Structured mode sends the CloudEvent JSON as data with the
 * attribute content-type: application/cloudevents+json; binary mode sends
 * the request bytes as data and the CloudEvent attributes as ce-
 * attributes. With orderingKeys on, the ordering key is the partition key,
 * each request holds one key, and each key has at most one request in
 * flight.
 *
 * The settings struct is filled by the config loader from the publisher's
 * `gcp:` block (pubsub_options.c); fce_pubsub_backend is the vtable.
 */
#ifndef FCE_PUBSUB_H
#define FCE_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fce_backend.h"
#include "fce_buf.h"
#include "fce_ce.h"
#include "fce_config.h"
#include "fce_option.h"

/* The service's limits (Pub/Sub resource limits, 2026). */
#define FCE_PUBSUB_MAX_MESSAGES      1000
#define FCE_PUBSUB_MAX_REQUEST_BYTES 10000000
#define FCE_PUBSUB_MAX_ATTRIBUTES    100
#define FCE_PUBSUB_MAX_ATTR_KEY      256
#define FCE_PUBSUB_MAX_ATTR_VALUE    1024
/* NOTE: 1024 is the commonly quoted ordering-key limit; the quotas table
 * itself was not available to confirm it. */
#define FCE_PUBSUB_MAX_ORDERING_KEY 1024

#define FCE_PUBSUB_GLOBAL_ENDPOINT "https://pubsub.googleapis.com"
#define FCE_PUBSUB_AUDIENCE        "https://pubsub.googleapis.com/"

enum fce_pubsub_transport {
    FCE_PUBSUB_TRANSPORT_GRPC,
    FCE_PUBSUB_TRANSPORT_REST,
};

enum fce_pubsub_auth {
    FCE_PUBSUB_AUTH_AUTO,
    FCE_PUBSUB_AUTH_JWT_GRANT,
    FCE_PUBSUB_AUTH_SELF_SIGNED,
    FCE_PUBSUB_AUTH_METADATA,
    FCE_PUBSUB_AUTH_NONE,
};

/* The `gcp:` block of a publisher. */
struct fce_pubsub_settings {
    char *project_id;       /* projectId (FlyteAdmin's key) */
    char *endpoint;         /* endpoint: URL or host */
    char *emulator_host;    /* emulatorHost: host:port, plain HTTP */
    int transport;          /* transport: enum fce_pubsub_transport */
    bool ordering;          /* orderingKeys */
    int auth;               /* auth: enum fce_pubsub_auth */
    char *credentials_file; /* credentialsFile */
    char *metadata_host;    /* metadataHost */
    char *audience;         /* jwtAudience */
    uint64_t jwt_lifetime_ms;
    char *scope; /* scopes, space-separated */
    int64_t max_messages;
    uint64_t max_request_bytes;
    uint64_t max_message_bytes;
    int64_t max_attributes;
    int64_t max_attribute_key_bytes;
    int64_t max_attribute_value_bytes;
    int64_t max_ordering_key_bytes;
    int64_t max_in_flight;
    int64_t max_pending;
    uint64_t request_timeout_ms;
    uint64_t connect_timeout_ms;
    uint64_t token_timeout_ms;
    uint64_t ordering_resume_ms;
    char *ca_file;
};

extern const struct fce_backend_type fce_pubsub_type;
extern const struct fce_backend fce_pubsub_backend;

/*
 * Checks a topic id as Pub/Sub defines it: 3 to 255 characters of letters,
 * digits and - _ . ~ + %, starting with a letter, not starting with "goog".
 * Returns 0, or -EINVAL with the reason and the fix in err.
 */
int fce_pubsub_topic_check(const char *topic, char *err, size_t err_size);

/* The limits a message is checked against before it is sent. */
struct fce_pubsub_limits {
    size_t max_request_bytes;
    size_t max_message_bytes;
    size_t max_attributes;
    size_t max_attribute_key;
    size_t max_attribute_value;
    size_t max_ordering_key;
    /* gRPC only: PublishRequest bytes besides its messages (the topic
     * field), counted against max_request_bytes with the message. */
    size_t request_envelope;
};

/*
 * Appends one PubsubMessage as JSON, {"data":"...","attributes":{...},
 * "orderingKey":"..."}, for ce in the given content mode; orderingKey only
 * when ordering is set and the partition key is not empty. scratch receives
 * the structured JSON on the way. Returns 0, -ENOMEM, or -EMSGSIZE when the
 * message breaks a limit, with the limit and the value in reason; out is
 * then unchanged.
 */
int fce_pubsub_render_message(const struct fce_ce *ce,
                              enum fce_content_mode mode, bool ordering,
                              const struct fce_pubsub_limits *limits,
                              struct fce_buf *scratch, struct fce_buf *out,
                              char *reason, size_t reason_size);

/* JSON bytes around the messages of a publish request:
 * {"messages":[...]} with commas between messages. */
#define FCE_PUBSUB_ENVELOPE_BYTES 15

/*
 * Appends one PubsubMessage in protobuf encoding (data = 1, attributes =
 * 2, ordering_key = 5), packed by protobuf-c, with the same content modes,
 * checks and errors as fce_pubsub_render_message(). The request check
 * counts the message as a field of a PublishRequest plus
 * limits->request_envelope.
 */
int fce_pubsub_render_proto(const struct fce_ce *ce, enum fce_content_mode mode,
                            bool ordering,
                            const struct fce_pubsub_limits *limits,
                            struct fce_buf *scratch, struct fce_buf *out,
                            char *reason, size_t reason_size);

/*
 * How a failed publish is handled: RETRY for the HTTP statuses 401, 408,
 * 429, 500, 502, 503, 504 and other 5xx, and for the gRPC status names
 * ABORTED, CANCELLED, DEADLINE_EXCEEDED, INTERNAL, RESOURCE_EXHAUSTED,
 * UNAVAILABLE, UNKNOWN and UNAUTHENTICATED; REJECTED for other 4xx
 * statuses and other status names. status_name is the REST error body's
 * error.status or the gRPC status name, or NULL; it decides when present.
 * The backend refreshes the token and resends once on a 401 or
 * UNAUTHENTICATED before it asks here.
 */
enum fce_pubsub_class {
    FCE_PUBSUB_RETRY,
    FCE_PUBSUB_REJECT,
};
enum fce_pubsub_class fce_pubsub_classify(long http_status,
                                          const char *status_name);

#endif
