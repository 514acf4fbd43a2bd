/* HTTP/1.1: routing, request bodies and responses of one connection. */
#include "ingest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fce_log.h"

static const struct {
    const char *path;
    enum ingest_route route;
} routes[] = {
    {"/api/v1/events/workflows", ROUTE_WORKFLOWS},
    {"/api/v1/events/nodes", ROUTE_NODES},
    {"/api/v1/events/tasks", ROUTE_TASKS},
    {"/healthz", ROUTE_HEALTHZ},
    {"/readyz", ROUTE_READYZ},
    {"/metrics", ROUTE_METRICS},
};

static enum ingest_route lookup_route(const char *path, size_t len)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strlen(routes[i].path) == len &&
            memcmp(routes[i].path, path, len) == 0)
            return routes[i].route;
    return ROUTE_OTHER;
}

static bool is_event_route(enum ingest_route route)
{
    return route <= ROUTE_TASKS;
}

/* The Date header value, formatted once per second. */
static const char *http_date(void)
{
    static char text[40];
    static time_t formatted = -1;
    time_t now = time(NULL);
    if (now != formatted) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        formatted = now;
    }
    return text;
}

void http_respond(struct conn *conn, int status, enum ingest_reason reason,
                  const char *extra_headers, const char *content_type,
                  const char *body, size_t body_len)
{
    int rc = fce_buf_printf(
        &conn->out,
        "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Length: %zu\r\n%s%s%s%s%s\r\n",
        status, fce_http_status_text(status), http_date(), body_len,
        content_type ? "Content-Type: " : "", content_type ? content_type : "",
        content_type ? "\r\n" : "", extra_headers ? extra_headers : "",
        conn->keep_alive ? "" : "Connection: close\r\n");
    if (rc == 0 && body_len > 0 && !conn->head_only)
        rc = fce_buf_append(&conn->out, body, body_len);
    if (rc < 0)
        conn->abort = true;

    metrics_count_response(conn->ingest, conn->route, status, reason);
    if (!conn->keep_alive)
        conn->close_after_flush = true;
}

/* Appends text as the contents of a JSON string. */
static void json_escape(struct fce_buf *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fce_buf_printf(out, "\\%c", *p);
        else if (*p < 0x20)
            fce_buf_printf(out, "\\u%04x", *p);
        else
            fce_buf_append(out, p, 1);
    }
}

void http_error(struct conn *conn, int status, enum ingest_reason reason,
                const char *extra_headers, const char *message)
{
    struct fce_buf body = FCE_BUF_INIT;
    fce_buf_printf(&body, "{\"code\":%d,\"error\":\"%s\",\"message\":\"",
                   status, fce_http_status_text(status));
    json_escape(&body, message);
    fce_buf_append_str(&body, "\"}");
    http_respond(conn, status, reason, extra_headers, "application/json",
                 body.data, body.len);
    fce_buf_free(&body);
}

/* Ends the connection after an error that leaves the framing unknown. */
static void error_close(struct conn *conn, int status,
                        enum ingest_reason reason, const char *message)
{
    conn->keep_alive = false;
    http_error(conn, status, reason, NULL, message);
}

void http_timeout(struct conn *conn)
{
    conn->route = ROUTE_OTHER;
    conn->head_only = false;
    char message[128];
    snprintf(message, sizeof(message),
             "request not complete within %llu ms (requestTimeout)",
             (unsigned long long)conn->ingest->limits.request_timeout_ms);
    conn->keep_alive = false;
    http_error(conn, 408, REASON_request_timeout, NULL, message);
}

static void finish_request(struct conn *conn)
{
    conn->http_state = HTTP_HEAD;
    conn->head_scan = 0;
    conn->request_start_ms = 0;
    conn->head_only = false;
}

static void serve_endpoint(struct conn *conn)
{
    struct ingest *ingest = conn->ingest;
    if (conn->route == ROUTE_HEALTHZ) {
        static const char body[] = "{\"status\":\"ok\"}";
        http_respond(conn, 200, REASON_COUNT, NULL, "application/json", body,
                     sizeof(body) - 1);
    } else if (conn->route == ROUTE_READYZ && ingest->ring) {
        static const char body[] = "{\"status\":\"ready\"}";
        http_respond(conn, 200, REASON_COUNT, NULL, "application/json", body,
                     sizeof(body) - 1);
    } else if (conn->route == ROUTE_READYZ) {
        char message[512];
        if (ingest->ring_holder_pid)
            snprintf(message, sizeof(message),
                     "not ready: the producer side of the ingest ring %s "
                     "is held by another process (pid %d)",
                     ingest->ring_path, (int)ingest->ring_holder_pid);
        else
            snprintf(message, sizeof(message),
                     "not ready: the ingest ring %s is not attached yet",
                     ingest->ring_path);
        http_error(conn, 503, REASON_ring_unavailable, "Retry-After: 1\r\n",
                   message);
    } else {
        struct fce_buf text = FCE_BUF_INIT;
        if (metrics_render(ingest, &text) < 0)
            http_error(conn, 500, REASON_other, NULL,
                       "out of memory while rendering metrics");
        else
            http_respond(conn, 200, REASON_COUNT, NULL,
                         "text/plain; version=0.0.4; charset=utf-8", text.data,
                         text.len);
        fce_buf_free(&text);
    }
}

/* Rejects a request whose body is still to come: the body is read and
 * dropped when it is within the limit, otherwise the connection closes. */
static void reject_before_body(struct conn *conn, uint64_t body_len, int status,
                               enum ingest_reason reason,
                               const char *extra_headers, const char *message)
{
    if (body_len > conn->ingest->limits.max_body_bytes)
        conn->keep_alive = false;
    http_error(conn, status, reason, extra_headers, message);
    conn->body_remaining = body_len;
    conn->http_state = body_len ? HTTP_DISCARD : HTTP_HEAD;
}

static bool media_type_is(const struct fce_http_head *request, const char *type)
{
    return request->content_type_len == strlen(type) &&
           strncasecmp(request->content_type, type,
                       request->content_type_len) == 0;
}

/* Returns NULL when the body's media type is accepted, else the message. */
static const char *check_content_type(const struct fce_http_head *request)
{
    if (!request->content_type)
        return "Content-Type missing; send the protobuf request with "
               "Content-Type: application/x-protobuf";
    if (media_type_is(request, "application/x-protobuf") ||
        media_type_is(request, "application/protobuf") ||
        media_type_is(request, "application/octet-stream"))
        return NULL;

    size_t len = request->content_type_len;
    if (media_type_is(request, "application/json") ||
        (len >= 5 &&
         strncasecmp(request->content_type + len - 5, "+json", 5) == 0))
        return "JSON bodies are not accepted yet; send the protobuf "
               "request with Content-Type: application/x-protobuf";
    return "unsupported Content-Type; send the protobuf request with "
           "Content-Type: application/x-protobuf, application/protobuf or "
           "application/octet-stream";
}

/* Checks an event POST's head. Returns false when it sent an error. */
static bool accept_event_head(struct conn *conn,
                              const struct fce_http_head *request)
{
    const struct ingest_limits *limits = &conn->ingest->limits;
    char message[160];
    if (!request->has_content_length) {
        error_close(conn, 411, REASON_length_required,
                    "Content-Length missing; send the body with a "
                    "Content-Length header");
        return false;
    }
    if (request->content_length > limits->max_body_bytes) {
        snprintf(message, sizeof(message),
                 "body of %llu bytes exceeds the limit of %llu bytes (%s)",
                 (unsigned long long)request->content_length,
                 (unsigned long long)limits->max_body_bytes,
                 limits->max_body_bytes < conn->ingest->max_body_setting
                     ? "the ring's maxRecord"
                     : "maxBodyBytes");
        error_close(conn, 413, REASON_body_too_large, message);
        return false;
    }
    const char *type_error = check_content_type(request);
    if (type_error) {
        reject_before_body(conn, request->content_length, 415,
                           REASON_unsupported_media_type, NULL, type_error);
        return false;
    }
    return true;
}

/* Rejects methods a route does not serve: 501 for unknown methods, 405
 * with Allow for known ones. Returns false when it rejected one. */
static bool check_method(struct conn *conn, const struct fce_http_head *request)
{
    bool event = is_event_route(conn->route);
    char message[160];
    if (request->method == FCE_HTTP_UNKNOWN) {
        snprintf(message, sizeof(message), "method %.*s is not implemented",
                 (int)(request->method_len < 32 ? request->method_len : 32),
                 request->method_text);
        reject_before_body(conn, request->content_length, 501,
                           REASON_not_implemented, NULL, message);
        return false;
    }
    if (conn->route == ROUTE_OTHER) {
        snprintf(message, sizeof(message), "no resource at %.*s",
                 (int)(request->path_len < 100 ? request->path_len : 100),
                 request->path);
        reject_before_body(conn, request->content_length, 404, REASON_not_found,
                           NULL, message);
        return false;
    }
    if (event ? request->method == FCE_HTTP_POST
              : (request->method == FCE_HTTP_GET ||
                 request->method == FCE_HTTP_HEAD))
        return true;

    snprintf(message, sizeof(message),
             "method %.*s is not allowed here; "
             "use %s",
             (int)request->method_len, request->method_text,
             event ? "POST" : "GET");
    reject_before_body(
        conn, request->content_length, 405, REASON_method_not_allowed,
        event ? "Allow: POST\r\n" : "Allow: GET, HEAD\r\n", message);
    return false;
}

static void dispatch(struct conn *conn, const struct fce_http_head *request)
{
    conn->keep_alive = request->keep_alive;
    conn->route = lookup_route(request->path, request->path_len);
    conn->head_only = request->method == FCE_HTTP_HEAD;
    conn->http_state = HTTP_HEAD;

    if (request->has_transfer_encoding) {
        error_close(conn, 501, REASON_not_implemented,
                    "Transfer-Encoding (chunked bodies) is not supported; "
                    "send the body with a Content-Length header");
        return;
    }
    if (!check_method(conn, request))
        return;
    if (!is_event_route(conn->route)) {
        serve_endpoint(conn);
        conn->body_remaining = request->content_length;
        if (conn->body_remaining)
            conn->http_state = HTTP_DISCARD;
        return;
    }
    if (!accept_event_head(conn, request))
        return;

    conn->body_remaining = request->content_length;
    conn->http_state = HTTP_BODY;
    size_t avail = conn->in.len - conn->in_off;
    if (request->expect_continue && avail < request->content_length)
        fce_buf_append_str(&conn->out, "HTTP/1.1 100 Continue\r\n\r\n");
}

/* Queues "200 {}", the response to nearly every request, from a copy
 * formatted once per second (when the Date changes). */
static void respond_ok(struct conn *conn)
{
    static char text[2][160];
    static size_t len[2];
    static time_t formatted = -1;
    time_t now = time(NULL);
    if (now != formatted) {
        for (int close = 0; close < 2; close++)
            len[close] = (size_t)snprintf(
                text[close], sizeof(text[close]),
                "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Length: 2\r\n"
                "Content-Type: application/json\r\n%s\r\n{}",
                http_date(), close ? "Connection: close\r\n" : "");
        formatted = now;
    }
    int close = !conn->keep_alive;
    if (fce_buf_append(&conn->out, text[close], len[close]) < 0)
        conn->abort = true;
    metrics_count_response(conn->ingest, conn->route, 200, REASON_COUNT);
    if (close)
        conn->close_after_flush = true;
}

static void serve_event(struct conn *conn, const uint8_t *body, size_t len)
{
    static const enum fce_kind kinds[] = {FCE_KIND_WORKFLOW, FCE_KIND_NODE,
                                          FCE_KIND_TASK};
    char err[256] = "";
    int rc = ingest_commit(conn->ingest, kinds[conn->route], body, len, err,
                           sizeof(err));
    switch (rc) {
    case 0:
        respond_ok(conn);
        break;
    case -EINVAL:
        http_error(conn, 400, REASON_invalid_event, NULL, err);
        break;
    case -EMSGSIZE:
        http_error(conn, 413, REASON_record_too_large, NULL, err);
        break;
    default:
        http_error(conn, 503,
                   rc == -EAGAIN ? REASON_ring_full : REASON_ring_unavailable,
                   "Retry-After: 1\r\n", err);
        break;
    }
}

/* Reads a request head. Returns whether it progressed. */
static bool read_head(struct conn *conn, uint64_t now_ms)
{
    const char *data = conn->in.data + conn->in_off;
    size_t avail = conn->in.len - conn->in_off;
    const struct ingest_limits *limits = &conn->ingest->limits;

    /* Empty lines before a request line are ignored (RFC 9112 2.2). */
    size_t blank = 0;
    while (conn->head_scan == 0 && blank < avail &&
           (data[blank] == '\r' || data[blank] == '\n'))
        blank++;
    if (blank) {
        conn_consume(conn, blank);
        return true;
    }
    if (avail == 0)
        return false;
    if (!conn->request_start_ms)
        conn->request_start_ms = now_ms;

    struct fce_http_head_error error;
    conn->route = ROUTE_OTHER;
    if (fce_http_head_check(data, avail, &error) < 0) {
        error_close(conn, error.status, REASON_bad_request, error.message);
        return true;
    }
    size_t head_len = fce_http_head_end(data, avail, &conn->head_scan);
    if ((head_len == 0 && avail > limits->max_header_bytes) ||
        head_len > limits->max_header_bytes) {
        char message[128];
        snprintf(message, sizeof(message),
                 "request head exceeds the limit of %llu bytes "
                 "(maxHeaderBytes)",
                 (unsigned long long)limits->max_header_bytes);
        error_close(conn, 431, REASON_header_too_large, message);
        return true;
    }
    if (head_len == 0)
        return false;

    struct fce_http_head request;
    if (fce_http_head_parse(data, head_len, &request, &error) < 0) {
        enum ingest_reason reason = REASON_bad_request;
        if (error.status == 431)
            reason = REASON_header_too_large;
        else if (error.status == 505)
            reason = REASON_version_not_supported;
        else if (error.status == 417)
            reason = REASON_expectation_failed;
        else if (strcmp(error.reason, "bad_content_length") == 0)
            reason = REASON_bad_content_length;
        error_close(conn, error.status, reason, error.message);
        return true;
    }
    dispatch(conn, &request);
    conn_consume(conn, head_len);
    if (conn->http_state == HTTP_HEAD)
        finish_request(conn);
    return true;
}

bool http_step(struct conn *conn, uint64_t now_ms)
{
    size_t avail = conn->in.len - conn->in_off;
    switch (conn->http_state) {
    case HTTP_HEAD:
        return read_head(conn, now_ms);
    case HTTP_BODY:
        if (avail < conn->body_remaining)
            return false;
        serve_event(conn, (const uint8_t *)conn->in.data + conn->in_off,
                    (size_t)conn->body_remaining);
        conn_consume(conn, (size_t)conn->body_remaining);
        finish_request(conn);
        return true;
    case HTTP_DISCARD: {
        size_t n =
            avail < conn->body_remaining ? avail : (size_t)conn->body_remaining;
        conn_consume(conn, n);
        conn->body_remaining -= n;
        if (conn->body_remaining == 0)
            finish_request(conn);
        return n > 0;
    }
    }
    return false;
}
