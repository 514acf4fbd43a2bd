/*
 * fce_http: a small HTTP client over libcurl's multi interface for the
 * backends that speak HTTP (SNS, SQS, Pub/Sub) and for credential fetches.
 *
 * One client owns one curl multi handle and its connection pool, so
 * requests to the same host reuse kept-alive connections (HTTP/1.1, or
 * HTTP/2 over TLS when the server offers it). Several requests run at once,
 * up to max_in_flight; each has a total timeout and a connect timeout.
 *
 * Flow: fce_http_submit() copies a request and queues it, fce_http_poll()
 * drives the transfers and calls each request's completion callback once,
 * from inside fce_http_poll(), with the status, the response headers and
 * the body. fce_http_fetch() performs one request synchronously (for
 * credential providers and test tools) without a client.
 *
 * Not thread-safe: one client belongs to one thread, and every callback
 * runs on that thread. The library never logs; errors are negative errno
 * values plus curl's error text in the response.
 */
#ifndef FCE_HTTP_H
#define FCE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fce_buf.h"

struct fce_http;

/* Client settings. A zero field takes the default given with it. */
struct fce_http_options {
    uint64_t connect_timeout_ms; /* TCP + TLS handshake; default 5000 */
    uint64_t timeout_ms;         /* whole request; default 30000 */
    size_t max_in_flight;        /* requests running at once; default 8 */
    size_t max_host_connections; /* open connections per host; default
                                  * max_in_flight */
    const char *ca_file;         /* PEM bundle; NULL: the system store */
    bool insecure_skip_verify;   /* do not verify the server certificate */
    const char *user_agent;      /* NULL: "flyte-cloudevents" */
};

/*
 * One request. Everything is copied by fce_http_submit(), so the caller may
 * free or reuse its memory as soon as the call returns.
 */
struct fce_http_request {
    const char *method;         /* "GET", "POST", "PUT"; NULL: POST with a body,
                                 * GET without */
    const char *url;            /* absolute http:// or https:// URL */
    const char *const *headers; /* "Name: value" lines, no CR or LF */
    size_t header_count;
    const void *body; /* NULL with body_len 0: no body */
    size_t body_len;
    uint64_t timeout_ms; /* 0: the client's timeout_ms */
};

/*
 * The result of one request. status is 0 when no HTTP response arrived; error
 * is then a negative errno: -ETIMEDOUT     connect or total timeout
 *   -ECONNREFUSED  nothing listens at the address
 *   -ECONNRESET    connection closed or reset before a full response
 *   -EHOSTUNREACH  host name not resolved or network unreachable
 *   -EKEYREJECTED  TLS certificate not trusted or host name mismatch
 *   -EPROTO        other TLS or HTTP protocol failure
 *   -EINVAL        malformed URL or unsupported scheme
 *   -ENOMEM        out of memory
 *   -EIO           any other transport failure
 * error is 0 whenever status is set, whatever the status.
 */
struct fce_http_response {
    long status;
    int error;
    char error_text[256];   /* curl's message when error < 0, else "" */
    struct fce_buf body;    /* NULL data when empty; else a NUL follows
                             * the len bytes */
    struct fce_buf headers; /* raw header lines of the final response */
    uint64_t elapsed_us;    /* from start of transfer to completion */
};

/*
 * Completion callback. response (and the memory it points to) is valid
 * only during the call; copy what must live longer. The callback may
 * submit new requests, but must not close the client.
 */
typedef void (*fce_http_done_fn)(void *arg,
                                 const struct fce_http_response *response);

/* Creates a client. Returns 0 with *http set, -EINVAL for a bad option, or
 * -ENOMEM. */
int fce_http_open(const struct fce_http_options *options,
                  struct fce_http **http);

/* Aborts the requests in flight without calling their callbacks, closes
 * the connections and frees the client. NULL is allowed. */
void fce_http_close(struct fce_http *http);

/*
 * Queues a request; done(arg, response) is called exactly once from a later
 * fce_http_poll() (never from inside this call). Returns 0, -EBUSY when
 * max_in_flight requests are already running (nothing queued), -EINVAL for
 * a request without a URL or with a CR/LF in a header, or -ENOMEM.
 */
int fce_http_submit(struct fce_http *http,
                    const struct fce_http_request *request,
                    fce_http_done_fn done, void *arg);

/* Requests submitted and not yet completed. */
size_t fce_http_in_flight(const struct fce_http *http);

/* Requests that fce_http_submit() accepts now without -EBUSY. */
size_t fce_http_capacity(const struct fce_http *http);

/*
 * Drives the transfers, waiting up to timeout_ms for network activity
 * (0: do not wait), and calls the callback of every request that finished.
 * Returns the number of completions, or a negative errno when the multi
 * handle failed (the client must then be closed).
 */
int fce_http_poll(struct fce_http *http, int timeout_ms);

/*
 * Performs one request synchronously with its own connection, waiting at
 * most request->timeout_ms (0: 5000) and connecting within
 * min(timeout, 2000) ms. Fills *response, which the caller initialises with
 * fce_http_response_init() and frees with fce_http_response_free().
 * Returns 0 when a response arrived (any status), or the negative errno
 * also stored in response->error.
 */
int fce_http_fetch(const struct fce_http_request *request,
                   struct fce_http_response *response);

void fce_http_response_init(struct fce_http_response *response);
void fce_http_response_free(struct fce_http_response *response);

/*
 * Looks up a response header by name (case-insensitive) and returns its
 * value with surrounding blanks removed, not NUL-terminated, with the
 * length in *len; NULL when absent. The value points into response.
 */
const char *fce_http_header(const struct fce_http_response *response,
                            const char *name, size_t *len);

/* Maps a CURLcode (passed as int) to the negative errno listed above. */
int fce_http_errno(int curl_code);

#endif
