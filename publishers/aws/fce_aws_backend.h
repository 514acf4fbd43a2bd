/*
 * fce_aws_backend: the part of the sns and sqs backends that is the same
 * for both: batching records into requests within the entry and byte
 * limits, rejecting oversize messages without a request, signing,
 * keeping several requests in flight on one fce_http client, credential
 * refresh with one immediate retry after ExpiredToken, and turning
 * responses into per-record outcomes. A protocol (SNS Query, SQS JSON)
 * supplies the request body and the response parser.
 *
 * Runs on the publisher driver's thread only.
 */
#ifndef FCE_AWS_BACKEND_H
#define FCE_AWS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "fce_aws.h"
#include "fce_aws_settings.h"
#include "fce_backend.h"

#define FCE_AWS_MAX_ENTRIES    10
#define FCE_AWS_MAX_ATTRIBUTES 10
#define FCE_AWS_ENTRY_ID_MAX   24

struct fce_aws_pub;

/* One record inside a request. Its id ("r" + ring sequence) is unique in
 * the request and the same when the record is retried. */
struct fce_aws_entry {
    struct fce_pub_record *record;
    char id[FCE_AWS_ENTRY_ID_MAX];
    bool done;
};

/* One request and its entries, from building to completion. */
struct fce_aws_call {
    struct fce_aws_pub *pub;
    struct fce_aws_entry entries[FCE_AWS_MAX_ENTRIES];
    size_t count;
    size_t message_bytes; /* sum of the entries' sizes as AWS counts them */
    struct fce_buf body;  /* request body, kept for the ExpiredToken retry */
    struct fce_buf first; /* the first message, for a one-entry request */
    const char *target;   /* X-Amz-Target, or NULL */
    bool single;          /* sent with the one-message action */
    bool expired_retry;   /* already re-sent after ExpiredToken */
    struct fce_aws_call *next, *prev;
};

struct fce_aws_attribute {
    const char *name; /* "ce-type" */
    const char *value;
    size_t value_len;
};

struct fce_aws_protocol {
    const char *component;        /* log component and backend name */
    const char *service;          /* SigV4 service name */
    const char *content_type;     /* request Content-Type */
    const char *destination_kind; /* "topic" or "queue", for messages */
    /* Region named by the destination (ARN or queue URL) into out, or "". */
    void (*destination_region)(const char *destination, char *out, size_t size);
    /* Base URL derived from the destination when aws.endpoint is empty,
     * or NULL for the regional default. */
    int (*destination_endpoint)(const char *destination, char *out,
                                size_t size);
    bool (*destination_fifo)(const char *destination);
    /* Body building: begin once, append per entry, end once. */
    int (*begin)(struct fce_aws_pub *pub, struct fce_aws_call *call);
    int (*append)(struct fce_aws_pub *pub, struct fce_aws_call *call,
                  size_t index, const char *message, size_t len);
    int (*end)(struct fce_aws_pub *pub, struct fce_aws_call *call);
    /* Completes the entries of a call that returned HTTP 2xx. */
    void (*parse_success)(struct fce_aws_pub *pub, struct fce_aws_call *call,
                          const struct fce_http_response *response);
    void (*parse_error)(const struct fce_http_response *response,
                        struct fce_aws_error *error);
};

/* The backend state both backends share. */
struct fce_aws_pub {
    const struct fce_aws_protocol *protocol;
    struct fce_backend_ctx ctx;
    const struct fce_aws_settings *settings;
    const char *publisher; /* publisher name, for logs */
    const char *destination;
    struct fce_aws_endpoint endpoint;
    struct fce_aws_creds *creds;
    const struct fce_aws_credentials *credentials;
    struct fce_sigv4_key_cache key_cache;
    struct fce_http *http;
    bool fifo;
    size_t max_in_flight;
    size_t max_entries;
    struct fce_aws_call *calls; /* in flight */
    struct fce_buf message;     /* scratch: one rendered CloudEvent */
    struct fce_buf scratch;
    const char *attribute_names[FCE_AWS_MAX_ATTRIBUTES];
    size_t attribute_count;
};

/* Opens the shared state for a protocol. Returns 0, -EINVAL for a
 * configuration error (logged), or another negative errno (logged). */
int fce_aws_pub_open(const struct fce_aws_protocol *protocol,
                     const struct fce_backend_ctx *ctx, void **state);

int fce_aws_pub_publish(void *state, struct fce_pub_record **records,
                        size_t count);
int fce_aws_pub_poll(void *state, int timeout_ms);
void fce_aws_pub_close(void *state);

/* Completes one entry once; later calls for the same entry do nothing. */
void fce_aws_complete(struct fce_aws_pub *pub, struct fce_aws_entry *entry,
                      enum fce_outcome outcome, const char *reason);

/* Finds an entry of call by id, or NULL. */
struct fce_aws_entry *fce_aws_find_entry(struct fce_aws_call *call,
                                         const char *id, size_t len);

/* Completes a failed batch entry from its Code and SenderFault. */
void fce_aws_fail_entry(struct fce_aws_pub *pub, struct fce_aws_entry *entry,
                        const char *code, const char *message,
                        bool sender_fault);

/* Fills attrs with the configured message attributes of record. Returns
 * the count. */
size_t fce_aws_attributes(const struct fce_aws_pub *pub,
                          const struct fce_pub_record *record,
                          struct fce_aws_attribute *attrs);

/* MessageGroupId for FIFO: the partition key when it fits the AWS rules
 * (1-128 printable ASCII characters), else its SHA-256 hex. */
void fce_aws_group_id(const struct fce_pub_record *record, char out[129]);

/* MessageDeduplicationId: SHA-256 hex of the CloudEvent id. */
void fce_aws_dedup_id(const struct fce_pub_record *record, char out[65]);

#endif
