/*
 * fce_http: the HTTP/1.1 request head parser of fce-ingest.
 *
 * Pure functions over a buffer: no I/O, no allocation, no logging, so the
 * parser runs the same under a socket, a unit test and libFuzzer. Pointers
 * in a parsed request point into the caller's buffer.
 *
 * The parser follows RFC 9112 strictly where leniency would let a request
 * be framed two ways (request smuggling): Content-Length must be digits
 * only, several Content-Length values must agree, Transfer-Encoding with
 * Content-Length is an error, header names may not end in whitespace, and
 * obsolete line folding is rejected. Bare LF line ends are accepted, as
 * RFC 9112 section 2.2 allows.
 */
#ifndef FCE_INGEST_HTTP_H
#define FCE_INGEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most header fields in one request; more is a 431. */
#define FCE_HTTP_MAX_HEADERS 100

enum fce_http_method {
    FCE_HTTP_UNKNOWN, /* a valid token that is not a standard method */
    FCE_HTTP_GET,
    FCE_HTTP_HEAD,
    FCE_HTTP_POST,
    FCE_HTTP_PUT,
    FCE_HTTP_DELETE,
    FCE_HTTP_CONNECT,
    FCE_HTTP_OPTIONS,
    FCE_HTTP_TRACE,
    FCE_HTTP_PATCH,
};

/* A parsed request head. */
struct fce_http_head {
    enum fce_http_method method;
    const char *method_text;
    size_t method_len;
    const char *path; /* origin-form path without the query */
    size_t path_len;
    int version_minor; /* HTTP/1.x */
    bool keep_alive;   /* after this request */
    bool has_content_length;
    uint64_t content_length;
    bool has_transfer_encoding;
    bool expect_continue;     /* Expect: 100-continue, HTTP/1.1 only */
    const char *content_type; /* media type without parameters, or NULL */
    size_t content_type_len;
    size_t head_len; /* bytes of the head, final empty line included */
};

/* Why a head was rejected: the status to answer with, a metrics reason
 * and a message for the JSON error body. */
struct fce_http_head_error {
    int status;
    const char *reason; /* snake_case, for metrics */
    char message[160];
};

/*
 * Finds the end of a request head (the empty line) in data, continuing a
 * scan that stopped at *scan (0 at the start of a request; the function
 * updates it so a head that arrives byte by byte is scanned once). Returns
 * the head length including the empty line, or 0 when it is not complete.
 */
size_t fce_http_head_end(const char *data, size_t len, size_t *scan);

/*
 * Checks the bytes of an incomplete head so that garbage is rejected
 * before the head completes: the method must start with a token
 * character. Returns 0, or -EINVAL with error filled.
 */
int fce_http_head_check(const char *data, size_t len,
                        struct fce_http_head_error *error);

/*
 * Parses a complete head of head_len bytes (from fce_http_head_end()).
 * Returns 0 with *request filled, or -EINVAL with error filled: 400 for a
 * malformed request line, header or Content-Length, 417 for an Expect
 * member other than 100-continue, 431 for too many header fields, 505 for
 * an HTTP version other than 1.0 and 1.1.
 */
int fce_http_head_parse(const char *data, size_t head_len,
                        struct fce_http_head *request,
                        struct fce_http_head_error *error);

/* Returns the standard reason phrase of a status code ("Not Found"). */
const char *fce_http_status_text(int status);

#endif
