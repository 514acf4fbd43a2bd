/* HTTP/1.1 request head parsing (RFC 9112), over a caller's buffer. */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* tchar of RFC 9110 section 5.6.2. */
/* strcspn() over len bytes that need not end in a NUL. */
static size_t span_until(const char *text, size_t len, const char *stop)
{
    size_t i = 0;
    while (i < len && !strchr(stop, text[i]))
        i++;
    return i;
}

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int fail(struct fce_http_head_error *error, int status,
                const char *reason, const char *message)
{
    error->status = status;
    error->reason = reason;
    snprintf(error->message, sizeof(error->message), "%s", message);
    return -EINVAL;
}

size_t fce_http_head_end(const char *data, size_t len, size_t *scan)
{
    size_t i = *scan;
    while (i < len) {
        const char *lf = memchr(data + i, '\n', len - i);
        if (!lf)
            break;
        size_t p = (size_t)(lf - data);
        if (p + 1 >= len) {
            *scan = p;
            return 0;
        }
        if (data[p + 1] == '\n')
            return p + 2;
        if (data[p + 1] == '\r') {
            if (p + 2 >= len) {
                *scan = p;
                return 0;
            }
            if (data[p + 2] == '\n')
                return p + 3;
        }
        i = p + 1;
    }
    *scan = len;
    return 0;
}

int fce_http_head_check(const char *data, size_t len,
                        struct fce_http_head_error *error)
{
    if (len > 0 && !is_tchar((unsigned char)data[0]))
        return fail(error, 400, "bad_request",
                    "invalid request line: the method must be a token");
    return 0;
}

static const struct {
    const char *name;
    enum fce_http_method method;
} methods[] = {
    {"GET", FCE_HTTP_GET},         {"HEAD", FCE_HTTP_HEAD},
    {"POST", FCE_HTTP_POST},       {"PUT", FCE_HTTP_PUT},
    {"DELETE", FCE_HTTP_DELETE},   {"CONNECT", FCE_HTTP_CONNECT},
    {"OPTIONS", FCE_HTTP_OPTIONS}, {"TRACE", FCE_HTTP_TRACE},
    {"PATCH", FCE_HTTP_PATCH},
};

static enum fce_http_method lookup_method(const char *text, size_t len)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strlen(methods[i].name) == len &&
            memcmp(methods[i].name, text, len) == 0)
            return methods[i].method;
    return FCE_HTTP_UNKNOWN;
}

/* Splits the request target into the path the router sees. */
static int parse_target(const char *target, size_t len,
                        struct fce_http_head *request,
                        struct fce_http_head_error *error)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)target[i] <= 0x20 || target[i] == 0x7f)
            return fail(error, 400, "bad_request",
                        "invalid request target: control character");

    if (len >= 7 && (strncasecmp(target, "http://", 7) == 0 ||
                     (len >= 8 && strncasecmp(target, "https://", 8) == 0))) {
        /* absolute-form: the path starts after the authority. */
        const char *authority = (const char *)memchr(target, '/', len) + 2;
        const char *path =
            memchr(authority, '/', len - (size_t)(authority - target));
        request->path = path ? path : "/";
        request->path_len = path ? len - (size_t)(path - target) : 1;
    } else if (len == 1 && target[0] == '*') {
        request->path = target;
        request->path_len = 1;
    } else if (len > 0 && target[0] == '/') {
        request->path = target;
        request->path_len = len;
    } else {
        return fail(error, 400, "bad_request",
                    "invalid request target: expected a path starting "
                    "with '/'");
    }

    request->path_len = span_until(request->path, request->path_len, "?#");
    return 0;
}

static int parse_request_line(const char *line, size_t len,
                              struct fce_http_head *request,
                              struct fce_http_head_error *error)
{
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i == len || line[i] != ' ')
        return fail(error, 400, "bad_request",
                    "invalid request line: expected 'METHOD TARGET "
                    "HTTP/1.1'");
    request->method_text = line;
    request->method_len = i;
    request->method = lookup_method(line, i);

    const char *target = line + i + 1;
    const char *space = memchr(target, ' ', len - i - 1);
    if (!space || space == target)
        return fail(error, 400, "bad_request",
                    "invalid request line: expected 'METHOD TARGET "
                    "HTTP/1.1'");
    int rc = parse_target(target, (size_t)(space - target), request, error);
    if (rc < 0)
        return rc;

    const char *version = space + 1;
    size_t version_len = len - (size_t)(version - line);
    if (version_len != 8 || memcmp(version, "HTTP/", 5) != 0 ||
        version[5] < '0' || version[5] > '9' || version[6] != '.' ||
        version[7] < '0' || version[7] > '9')
        return fail(error, 400, "bad_request",
                    "invalid request line: malformed HTTP version");
    if (version[5] != '1' || version[7] > '1')
        return fail(error, 505, "version_not_supported",
                    "only HTTP/1.0 and HTTP/1.1 are supported");
    request->version_minor = version[7] - '0';
    request->keep_alive = request->version_minor >= 1;
    return 0;
}

/* Content-Length = 1*DIGIT, at most 2^63 - 1. */
static int parse_length(const char *value, size_t len, uint64_t *out)
{
    uint64_t n = 0;
    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -EINVAL;
        if (n > (INT64_MAX - 9) / 10)
            return -EINVAL;
        n = n * 10 + (uint64_t)(value[i] - '0');
    }
    *out = n;
    return 0;
}

/* Returns whether a comma-separated header value contains token. */
static bool has_token(const char *value, size_t len, const char *token)
{
    size_t token_len = strlen(token);
    size_t i = 0;
    while (i < len) {
        while (i < len &&
               (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
            i++;
        size_t start = i;
        while (i < len && value[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
            end--;
        if (end - start == token_len &&
            strncasecmp(value + start, token, token_len) == 0)
            return true;
    }
    return false;
}

static bool name_is(const char *name, size_t len, const char *expected)
{
    return strlen(expected) == len && strncasecmp(name, expected, len) == 0;
}

/*
 * Takes an Expect field: 100-continue is the only expectation defined
 * (RFC 9110 section 10.1.1), so any other member gets 417. HTTP/1.0
 * clients do not wait for 100 Continue, and the RFC has servers ignore
 * their 100-continue.
 */
static int apply_expect(const char *value, size_t len,
                        struct fce_http_head *request,
                        struct fce_http_head_error *error)
{
    size_t i = 0;
    while (i < len) {
        while (i < len &&
               (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
            i++;
        size_t start = i;
        while (i < len && value[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
            end--;
        if (end == start)
            continue;
        if (end - start != 12 ||
            strncasecmp(value + start, "100-continue", 12) != 0) {
            fail(error, 417, "expectation_failed", "");
            snprintf(error->message, sizeof(error->message),
                     "unsupported expectation '%.*s'; only Expect: "
                     "100-continue is supported",
                     (int)(end - start < 64 ? end - start : 64), value + start);
            return -EINVAL;
        }
        request->expect_continue = request->version_minor >= 1;
    }
    return 0;
}

struct head_state {
    bool seen_host;
    bool seen_connection_token;
};

static int apply_header(const char *name, size_t name_len, const char *value,
                        size_t value_len, struct fce_http_head *request,
                        struct head_state *state,
                        struct fce_http_head_error *error)
{
    if (name_is(name, name_len, "Content-Length")) {
        uint64_t length;
        if (parse_length(value, value_len, &length) < 0)
            return fail(error, 400, "bad_content_length",
                        "invalid Content-Length: expected a decimal number "
                        "of bytes");
        if (request->has_content_length && request->content_length != length)
            return fail(error, 400, "bad_content_length",
                        "conflicting Content-Length values");
        request->has_content_length = true;
        request->content_length = length;
    } else if (name_is(name, name_len, "Transfer-Encoding")) {
        request->has_transfer_encoding = true;
    } else if (name_is(name, name_len, "Host")) {
        if (state->seen_host)
            return fail(error, 400, "bad_request", "more than one Host header");
        state->seen_host = true;
    } else if (name_is(name, name_len, "Connection")) {
        if (has_token(value, value_len, "close")) {
            request->keep_alive = false;
            state->seen_connection_token = true;
        } else if (has_token(value, value_len, "keep-alive") &&
                   !state->seen_connection_token) {
            request->keep_alive = true;
        }
    } else if (name_is(name, name_len, "Expect")) {
        return apply_expect(value, value_len, request, error);
    } else if (name_is(name, name_len, "Content-Type")) {
        size_t type_len = span_until(value, value_len, ";");
        while (type_len > 0 &&
               (value[type_len - 1] == ' ' || value[type_len - 1] == '\t'))
            type_len--;
        request->content_type = value;
        request->content_type_len = type_len;
    }
    return 0;
}

static int parse_header_line(const char *line, size_t len,
                             struct fce_http_head *request,
                             struct head_state *state,
                             struct fce_http_head_error *error)
{
    if (line[0] == ' ' || line[0] == '\t')
        return fail(error, 400, "bad_request",
                    "obsolete header line folding is not supported");

    size_t name_len = 0;
    while (name_len < len && is_tchar((unsigned char)line[name_len]))
        name_len++;
    if (name_len == 0 || name_len == len || line[name_len] != ':')
        return fail(error, 400, "bad_request",
                    "invalid header field: expected 'Name: value'");

    const char *value = line + name_len + 1;
    size_t value_len = len - name_len - 1;
    while (value_len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        value_len--;
    }
    while (value_len > 0 &&
           (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
        value_len--;
    for (size_t i = 0; i < value_len; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(error, 400, "bad_request",
                        "invalid header field value: control character");
    }
    return apply_header(line, name_len, value, value_len, request, state,
                        error);
}

/* Returns the length of the line at data without its CRLF or LF, and the
 * offset of the next line in *next; -1 for a bare CR inside the line. */
static long line_length(const char *data, size_t len, size_t *next)
{
    const char *lf = memchr(data, '\n', len);
    size_t end = lf ? (size_t)(lf - data) : len;
    *next = lf ? end + 1 : len;
    if (end > 0 && data[end - 1] == '\r')
        end--;
    if (memchr(data, '\r', end))
        return -1;
    return (long)end;
}

int fce_http_head_parse(const char *data, size_t head_len,
                        struct fce_http_head *request,
                        struct fce_http_head_error *error)
{
    memset(request, 0, sizeof(*request));
    request->head_len = head_len;

    size_t pos = 0, next;
    long len = line_length(data, head_len, &next);
    if (len < 0)
        return fail(error, 400, "bad_request", "bare CR in the request line");
    int rc = parse_request_line(data, (size_t)len, request, error);
    if (rc < 0)
        return rc;

    struct head_state state = {0};
    size_t count = 0;
    for (pos = next; pos < head_len; pos = next) {
        len = line_length(data + pos, head_len - pos, &next);
        next += pos;
        if (len < 0)
            return fail(error, 400, "bad_request", "bare CR in a header line");
        if (len == 0)
            break;
        if (++count > FCE_HTTP_MAX_HEADERS)
            return fail(error, 431, "header_too_large",
                        "too many header fields");
        rc = parse_header_line(data + pos, (size_t)len, request, &state, error);
        if (rc < 0)
            return rc;
    }

    if (request->has_transfer_encoding && request->has_content_length)
        return fail(error, 400, "bad_request",
                    "both Content-Length and Transfer-Encoding are set");
    if (request->version_minor >= 1 && !state.seen_host)
        return fail(error, 400, "bad_request", "Host header missing");
    return 0;
}

const char *fce_http_status_text(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}
