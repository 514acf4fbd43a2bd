/*
 * fce_aws: what the SNS and SQS backends share: the service endpoint,
 * signed request headers, error parsing for both wire protocols, and the
 * retry classification of the AWS SDKs' standard mode.
 *
 * No function here logs or keeps global state.
 */
#ifndef FCE_AWS_H
#define FCE_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fce_aws_creds.h"
#include "fce_buf.h"
#include "fce_sigv4.h"
#include "http/fce_http.h"

/* Where requests go: POST to url, with Host: host. */
struct fce_aws_endpoint {
    char url[512];  /* "https://sns.us-east-1.amazonaws.com/" */
    char host[256]; /* "sns.us-east-1.amazonaws.com" or "127.0.0.1:4566" */
    char service[16];
    char region[64];
};

/*
 * Sets up the endpoint of service in region: override (aws.endpoint, for
 * fauxqs, LocalStack or a VPC endpoint; a base URL, any path is dropped
 * because AWS Query and JSON calls always POST to "/") or
 * https://<service>.<region>.amazonaws.com (amazonaws.com.cn for cn-*).
 * Returns 0, or -EINVAL with a message in err.
 */
int fce_aws_endpoint_init(struct fce_aws_endpoint *endpoint,
                          const char *override, const char *service,
                          const char *region, char *err, size_t err_size);

/* Signed headers for one attempt, as "Name: value" lines for fce_http. */
struct fce_aws_headers {
    struct fce_buf storage;
    const char *lines[8];
    size_t count;
};

void fce_aws_headers_free(struct fce_aws_headers *headers);

/*
 * Builds the headers of a POST to endpoint with body: Host, Content-Type,
 * X-Amz-Date (from now), X-Amz-Target when target is not NULL,
 * X-Amz-Security-Token for temporary credentials, and Authorization
 * (SigV4 over all of them). Sign each attempt anew. Returns 0, -EINVAL or
 * -ENOMEM.
 */
int fce_aws_sign_post(const struct fce_aws_endpoint *endpoint,
                      const struct fce_aws_credentials *credentials,
                      const char *content_type, const char *target,
                      const void *body, size_t body_len, time_t now,
                      struct fce_sigv4_key_cache *cache,
                      struct fce_aws_headers *headers);

/* An error answer, from either protocol. */
struct fce_aws_error {
    char code[128];    /* "Throttled", "InvalidParameter"; "" if unknown */
    char message[512]; /* the service's text, truncated */
    bool sender_fault; /* Type Sender / SenderFault true / ";Sender" */
};

/* Reads a Query-protocol XML error body (ErrorResponse/Error). */
void fce_aws_error_from_xml(const struct fce_http_response *response,
                            struct fce_aws_error *error);

/* Reads an AWS JSON 1.0 error (__type, message, x-amzn-query-error). */
void fce_aws_error_from_json(const struct fce_http_response *response,
                             struct fce_aws_error *error);

enum fce_aws_retry_class {
    FCE_AWS_OK,
    FCE_AWS_THROTTLING,    /* retry after backoff */
    FCE_AWS_TRANSIENT,     /* 5xx, timeout, reset: retry after backoff */
    FCE_AWS_EXPIRED_TOKEN, /* refresh credentials, then retry once */
    FCE_AWS_CLOCK_SKEW,    /* the host clock is off; retrying cannot help */
    FCE_AWS_PERMANENT,     /* the request can never succeed as it is */
};

/*
 * Classifies a whole-request result like the SDKs' standard retry mode,
 * adding SNS's Throttled, KMS throttling, SQS RequestThrottled and HTTP 429
 * as throttling. status 0 means no response (transport_error tells why;
 * every transport failure is transient). code may be NULL or "".
 */
enum fce_aws_retry_class fce_aws_classify(long status, int transport_error,
                                          const char *code);

/*
 * Classifies one failed entry of a batch response: throttling and
 * transient codes retry whatever the fault; otherwise a sender fault is
 * permanent and a receiver fault transient.
 */
enum fce_aws_retry_class fce_aws_classify_entry(const char *code,
                                                bool sender_fault);

/* "throttling", "transient", ... for logs. */
const char *fce_aws_retry_class_name(enum fce_aws_retry_class retry_class);

#endif
