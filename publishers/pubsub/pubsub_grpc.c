/*
 * The gRPC transport: unary /google.pubsub.v1.Publisher/Publish calls over
 * HTTP/2 with libcurl's multi interface. https:// negotiates h2 by ALPN;
 * plain http:// (the emulator) starts HTTP/2 with prior knowledge. Calls
 * share one connection as multiplexed HTTP/2 streams (CURLPIPE_MULTIPLEX,
 * CURLOPT_PIPEWAIT). The outcome of a call is its grpc-status, which
 * libcurl hands to the header callback both as a trailer and in a
 * trailers-only response.
 *
 * libcurl 7.88 (Debian 12) fails a prior-knowledge transfer that reuses a
 * connection with "Error in the HTTP2 framing layer" (fixed in curl 8.0).
 * So over plain HTTP one call with prior knowledge opens a fresh
 * connection, alone until it is connected, and the calls after it ask for
 * HTTP/2 without prior knowledge, which reuses that connection as it is.
 */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fce_pubsub_grpc.h"
#include "http/fce_http.h"
#include "pubsub_internal.h"

/* A PublishResponse lists one id of about 16 bytes per message, so 1000
 * messages take some 20 KB; more than this is no Publish response. */
#define MAX_RESPONSE_BYTES (4u << 20)

/* grpc-timeout takes at most 8 digits. */
#define MAX_TIMEOUT_MS 99999999ull

/* Bytes curl hands the connection per send: requests run to megabytes,
 * and the 64 KiB default costs a system call per 64 KiB. */
#define UPLOAD_BUFFER_BYTES (512L * 1024)

/* Over plain HTTP, a connection idle this long may have been closed by
 * the server, so the next call opens a fresh one with prior knowledge. A
 * call asking for HTTP/2 without prior knowledge would otherwise open an
 * HTTP/1.1 connection and fail. */
#define CLEARTEXT_IDLE_MS 30000
/* TODO(pubsub): test a cleartext server that closes the connection within
 * CLEARTEXT_IDLE_MS; the next call should fail once and be retried. */

struct grpc_conn;

/* One call: an easy handle kept for reuse, plus what it sends and gets. */
struct grpc_call {
    struct grpc_conn *conn;
    struct pubsub_request *req;
    CURL *easy;
    struct curl_slist *headers;
    struct fce_buf body;     /* framed PublishRequest */
    struct fce_buf response; /* framed PublishResponse */
    int status;              /* grpc-status; -1 until one arrives */
    char message[256];       /* grpc-message, decoded */
    char error[CURL_ERROR_SIZE];
    struct grpc_call *next, *prev; /* free list or running list */
};

/* The way a call gets to HTTP/2. */
enum h2_mode {
    H2_TLS,   /* ALPN on a TLS connection, new or reused */
    H2_OPEN,  /* prior knowledge on a fresh cleartext connection */
    H2_REUSE, /* the cleartext HTTP/2 connection that is up */
    H2_WAIT,  /* a fresh cleartext connection is being opened */
};

struct grpc_conn {
    CURLM *multi;
    bool tls;
    bool cleartext_up;       /* a cleartext HTTP/2 connection is open */
    uint64_t last_active_ms; /* when a call last connected or completed */
    char *params_header;     /* x-goog-request-params: topic=... */
    char timeout_header[40];
    size_t max_in_flight;
    size_t in_flight;
    struct grpc_call *free_calls;
    struct grpc_call *running;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static enum h2_mode h2_mode(const struct grpc_conn *conn)
{
    if (conn->tls)
        return H2_TLS;
    if (conn->cleartext_up &&
        pubsub_now_ms() - conn->last_active_ms < CLEARTEXT_IDLE_MS)
        return H2_REUSE;
    return conn->in_flight ? H2_WAIT : H2_OPEN;
}

static size_t grpc_capacity(const struct pubsub *ps)
{
    const struct grpc_conn *conn = ps->conn;
    switch (h2_mode(conn)) {
    case H2_OPEN:
        return 1;
    case H2_WAIT:
        return 0;
    default:
        return conn->max_in_flight - conn->in_flight;
    }
}

static size_t grpc_envelope_size(const struct pubsub *ps)
{
    size_t topic = strlen(ps->topic_path);
    return 1 + fce_pubsub_grpc_varint_size(topic) + topic;
}

static size_t grpc_framed_size(size_t message_len, bool later)
{
    return 1 + fce_pubsub_grpc_varint_size(message_len) + message_len;
}

/* Matches a "name: value" header line and returns the trimmed value. */
static bool header_value(const char *line, size_t len, const char *name,
                         const char **value, size_t *value_len)
{
    size_t name_len = strlen(name);
    if (len <= name_len || line[name_len] != ':' ||
        strncasecmp(line, name, name_len) != 0)
        return false;
    const char *v = line + name_len + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                       end[-1] == '\t'))
        end--;
    *value = v;
    *value_len = (size_t)(end - v);
    return true;
}

static size_t on_header(char *data, size_t size, size_t count, void *user)
{
    struct grpc_call *call = user;
    size_t len = size * count;
    const char *value;
    size_t value_len;

    if (header_value(data, len, "grpc-status", &value, &value_len)) {
        int code = fce_pubsub_grpc_parse_status(value, value_len);
        call->status = code < 0 ? FCE_GRPC_UNKNOWN : code;
    } else if (header_value(data, len, "grpc-message", &value, &value_len)) {
        if (value_len >= sizeof(call->message))
            value_len = sizeof(call->message) - 1;
        memcpy(call->message, value, value_len);
        fce_pubsub_grpc_decode_message(call->message, value_len);
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    struct grpc_call *call = user;
    size_t len = size * count;
    if (call->response.len + len > MAX_RESPONSE_BYTES ||
        fce_buf_append(&call->response, data, len) < 0)
        return 0; /* curl fails the call with CURLE_WRITE_ERROR */
    return len;
}

/* Runs once the connection of a call is up, before the request goes out:
 * from here on, calls may wait for that connection and share it. */
static int on_connected(void *user, char *primary_ip, char *local_ip,
                        int primary_port, int local_port)
{
    struct grpc_call *call = user;
    if (!call->conn->tls) {
        call->conn->cleartext_up = true;
        call->conn->last_active_ms = pubsub_now_ms();
    }
    return CURL_PREREQFUNC_OK;
}

/* The options that stay the same for every call of an easy handle. */
static int set_fixed_options(CURL *easy, struct grpc_call *call,
                             const struct pubsub *ps)
{
    const struct fce_pubsub_settings *s = ps->settings;
    uint64_t connect_ms = s->connect_timeout_ms ? s->connect_timeout_ms : 10000;
    uint64_t timeout_ms = s->request_timeout_ms ? s->request_timeout_ms : 60000;
    CURLcode rc = CURLE_OK;

    rc |= curl_easy_setopt(easy, CURLOPT_URL, ps->url);
    rc |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
    rc |= curl_easy_setopt(easy, CURLOPT_POST, 1L);
    rc |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    rc |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    rc |=
        curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER_BYTES);
    rc |=
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)(connect_ms > LONG_MAX ? LONG_MAX : connect_ms));
    rc |=
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                         (long)(timeout_ms > LONG_MAX ? LONG_MAX : timeout_ms));
    rc |= curl_easy_setopt(easy, CURLOPT_USERAGENT,
                           "flyte-cloudevents pubsub-grpc");
    rc |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, call);
    rc |= curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    rc |= curl_easy_setopt(easy, CURLOPT_HEADERDATA, call);
    rc |= curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_connected);
    rc |= curl_easy_setopt(easy, CURLOPT_PREREQDATA, call);
    rc |= curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call->error);
    rc |= curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
    if (s->ca_file && *s->ca_file)
        rc |= curl_easy_setopt(easy, CURLOPT_CAINFO, s->ca_file);
    return rc == CURLE_OK ? 0 : -ENOMEM;
}

static void call_free(struct grpc_call *call)
{
    if (call->easy)
        curl_easy_cleanup(call->easy);
    curl_slist_free_all(call->headers);
    fce_buf_free(&call->body);
    fce_buf_free(&call->response);
    free(call);
}

static struct grpc_call *call_get(struct pubsub *ps)
{
    struct grpc_conn *conn = ps->conn;
    struct grpc_call *call = conn->free_calls;
    if (call) {
        conn->free_calls = call->next;
        call->next = NULL;
        return call;
    }
    call = calloc(1, sizeof(*call));
    if (!call)
        return NULL;
    call->conn = conn;
    call->easy = curl_easy_init();
    if (!call->easy || set_fixed_options(call->easy, call, ps) < 0) {
        call_free(call);
        return NULL;
    }
    return call;
}

/* Returns a finished call to the free list, keeping its handle and
 * buffers so the next call allocates nothing. */
static void call_put(struct grpc_conn *conn, struct grpc_call *call)
{
    curl_slist_free_all(call->headers);
    call->headers = NULL;
    call->req = NULL;
    call->next = conn->free_calls;
    call->prev = NULL;
    conn->free_calls = call;
}

static void unlink_running(struct grpc_conn *conn, struct grpc_call *call)
{
    if (call->prev)
        call->prev->next = call->next;
    else
        conn->running = call->next;
    if (call->next)
        call->next->prev = call->prev;
    call->next = call->prev = NULL;
    conn->in_flight--;
}

static int build_headers(const struct grpc_conn *conn, const char *auth_header,
                         struct curl_slist **list)
{
    /* Empty Accept: and Expect: remove headers that curl adds itself. */
    const char *const lines[] = {
        "Content-Type: application/grpc",
        "TE: trailers",
        "grpc-accept-encoding: identity",
        conn->timeout_header,
        conn->params_header,
        "Accept:",
        "Expect:",
        auth_header,
    };
    size_t n = sizeof(lines) / sizeof(lines[0]) - (auth_header ? 0 : 1);
    struct curl_slist *out = NULL;
    for (size_t i = 0; i < n; i++) {
        struct curl_slist *next = curl_slist_append(out, lines[i]);
        if (!next) {
            curl_slist_free_all(out);
            return -ENOMEM;
        }
        out = next;
    }
    *list = out;
    return 0;
}

static int build_body(const struct pubsub *ps, const struct pubsub_request *req,
                      struct fce_buf *body)
{
    int rc = fce_pubsub_grpc_begin(body, ps->topic_path);
    for (size_t i = 0; rc == 0 && i < req->count; i++)
        rc = fce_pubsub_grpc_add(body, req->slots[i]->message.data,
                                 req->slots[i]->message.len);
    if (rc == 0)
        rc = fce_pubsub_grpc_finish(body);
    return rc;
}

static int prepare(struct pubsub *ps, struct grpc_call *call,
                   const struct pubsub_request *req, const char *auth_header)
{
    int rc = build_body(ps, req, &call->body);
    if (rc == 0)
        rc = build_headers(ps->conn, auth_header, &call->headers);
    if (rc < 0)
        return rc;

    fce_buf_reset(&call->response);
    call->status = -1;
    call->message[0] = '\0';
    call->error[0] = '\0';
    enum h2_mode mode = h2_mode(ps->conn);
    long version = mode == H2_TLS    ? CURL_HTTP_VERSION_2TLS
                   : mode == H2_OPEN ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                                     : CURL_HTTP_VERSION_2_0;
    CURLcode code = CURLE_OK;
    code |= curl_easy_setopt(call->easy, CURLOPT_HTTP_VERSION, version);
    code |= curl_easy_setopt(call->easy, CURLOPT_FRESH_CONNECT,
                             mode == H2_OPEN ? 1L : 0L);
    code |= curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, call->headers);
    code |= curl_easy_setopt(call->easy, CURLOPT_POSTFIELDS, call->body.data);
    code |= curl_easy_setopt(call->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)call->body.len);
    return code == CURLE_OK ? 0 : -ENOMEM;
}

static int grpc_submit(struct pubsub *ps, struct pubsub_request *req,
                       const char *auth_header)
{
    struct grpc_conn *conn = ps->conn;
    if (grpc_capacity(ps) == 0)
        return -EBUSY;
    struct grpc_call *call = call_get(ps);
    if (!call)
        return -ENOMEM;

    int rc = prepare(ps, call, req, auth_header);
    if (rc == 0 && curl_multi_add_handle(conn->multi, call->easy) != CURLM_OK)
        rc = -ENOMEM;
    if (rc < 0) {
        call_put(conn, call);
        return rc;
    }
    call->req = req;
    call->prev = NULL;
    call->next = conn->running;
    if (conn->running)
        conn->running->prev = call;
    conn->running = call;
    conn->in_flight++;
    return 0;
}

/* The status of a completed HTTP/2 exchange: grpc-status when present,
 * else what the HTTP status stands for. */
static int call_status(struct grpc_call *call, long http_status)
{
    if (call->status >= 0)
        return call->status;
    if (http_status != 200)
        return fce_pubsub_grpc_code_from_http(http_status);
    snprintf(call->message, sizeof(call->message),
             "response without grpc-status");
    return FCE_GRPC_INTERNAL;
}

/* Fills result for a call that got an HTTP/2 response. */
static void read_outcome(struct grpc_call *call, long http_status,
                         struct pubsub_result *result, char *reason,
                         size_t reason_size)
{
    int code = call_status(call, http_status);
    result->http_status = http_status;
    result->status = fce_pubsub_grpc_code_name(code);
    if (code == FCE_GRPC_OK) {
        char err[160];
        result->ok = true;
        result->message_ids = fce_pubsub_grpc_response_ids(
            call->response.data, call->response.len, err, sizeof(err));
        snprintf(reason, reason_size, "%s", result->message_ids < 0 ? err : "");
        return;
    }

    char http[32] = "";
    if (http_status != 200)
        snprintf(http, sizeof(http), " (HTTP %ld)", http_status);
    snprintf(reason, reason_size, "gRPC %s%s%s%s", result->status, http,
             call->message[0] ? ": " : "", call->message);
}

static void finish(struct grpc_call *call, CURLcode code)
{
    char reason[400];
    struct pubsub_result result = {
        .status = "",
        .message_ids = -1,
        .reason = reason,
    };
    long http_status = 0, version = 0;
    curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &http_status);
    curl_easy_getinfo(call->easy, CURLINFO_HTTP_VERSION, &version);

    struct grpc_conn *conn = call->conn;
    if (code == CURLE_OK && version == CURL_HTTP_VERSION_2_0) {
        conn->cleartext_up = !conn->tls;
        conn->last_active_ms = pubsub_now_ms();
    } else {
        conn->cleartext_up = false;
    }

    if (code != CURLE_OK) {
        result.error = fce_http_errno(code);
        snprintf(reason, sizeof(reason), "gRPC call failed: %s",
                 call->error[0] ? call->error : curl_easy_strerror(code));
    } else if (version != CURL_HTTP_VERSION_2_0) {
        result.error = -EPROTO;
        result.http_status = http_status;
        snprintf(reason, sizeof(reason),
                 "the endpoint answered over HTTP/1 (status %ld), but gRPC "
                 "needs HTTP/2; set gcp.transport to rest for this endpoint",
                 http_status);
    } else {
        read_outcome(call, http_status, &result, reason, sizeof(reason));
    }
    pubsub_request_done(call->req, &result);
}

static int grpc_poll(struct pubsub *ps, int timeout_ms)
{
    struct grpc_conn *conn = ps->conn;
    int running = 0;
    if (curl_multi_perform(conn->multi, &running) != CURLM_OK)
        return -EIO;
    if (running > 0 && timeout_ms > 0) {
        if (curl_multi_poll(conn->multi, NULL, 0, timeout_ms, NULL) !=
                CURLM_OK ||
            curl_multi_perform(conn->multi, &running) != CURLM_OK)
            return -EIO;
    }

    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(conn->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct grpc_call *call = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        CURLcode code = msg->data.result;
        curl_multi_remove_handle(conn->multi, call->easy);
        unlink_running(conn, call);
        finish(call, code);
        call_put(conn, call);
    }
    return 0;
}

static size_t grpc_in_flight(const struct pubsub *ps)
{
    const struct grpc_conn *conn = ps->conn;
    return conn->in_flight;
}

/* The URL of the call; a gRPC endpoint is scheme://host[:port] alone. */
static int build_url(struct pubsub *ps, char *err, size_t err_size)
{
    struct fce_buf url = FCE_BUF_INIT;
    int rc = pubsub_base_url(ps, &url);
    const char *host = rc == 0 ? strstr(url.data, "://") : NULL;
    if (host && strchr(host + 3, '/')) {
        snprintf(err, err_size,
                 "gcp.endpoint \"%.200s\" has a path, but a gRPC endpoint is "
                 "scheme://host[:port]; remove the path, or set "
                 "gcp.transport to rest",
                 url.data);
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = fce_buf_append(&url, FCE_PUBSUB_GRPC_PATH,
                            strlen(FCE_PUBSUB_GRPC_PATH) + 1);
    if (rc < 0) {
        fce_buf_free(&url);
        return rc;
    }
    ps->url = url.data;
    return 0;
}

/* Google routes a call by the resource it names: the topic, URL-encoded. */
static int build_params(struct pubsub *ps, struct grpc_conn *conn)
{
    struct fce_buf header = FCE_BUF_INIT;
    int rc = fce_buf_append_str(&header, "x-goog-request-params: topic=");
    if (rc == 0)
        rc = pubsub_append_segment(&header, ps->topic_path);
    if (rc == 0)
        rc = fce_buf_append(&header, "", 1);
    if (rc < 0) {
        fce_buf_free(&header);
        return rc;
    }
    conn->params_header = header.data;
    return 0;
}

static void grpc_close(struct pubsub *ps)
{
    struct grpc_conn *conn = ps->conn;
    if (!conn)
        return;
    while (conn->running) {
        struct grpc_call *call = conn->running;
        curl_multi_remove_handle(conn->multi, call->easy);
        unlink_running(conn, call);
        call_free(call);
    }
    while (conn->free_calls) {
        struct grpc_call *call = conn->free_calls;
        conn->free_calls = call->next;
        call_free(call);
    }
    if (conn->multi)
        curl_multi_cleanup(conn->multi);
    free(conn->params_header);
    free(conn);
    ps->conn = NULL;
}

static int open_multi(struct grpc_conn *conn)
{
    conn->multi = curl_multi_init();
    if (!conn->multi)
        return -ENOMEM;
    long streams = conn->max_in_flight > 100 ? (long)conn->max_in_flight : 100;
    CURLMcode rc = CURLM_OK;
    rc |= curl_multi_setopt(conn->multi, CURLMOPT_PIPELINING,
                            (long)CURLPIPE_MULTIPLEX);
    rc |= curl_multi_setopt(conn->multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
                            streams);
    return rc == CURLM_OK ? 0 : -EINVAL;
}

static int grpc_open(struct pubsub *ps, char *err, size_t err_size)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return -ENOMEM;
    if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2)) {
        snprintf(err, err_size,
                 "this libcurl has no HTTP/2 support, which "
                 "gRPC needs; set gcp.transport to rest");
        return -ENOTSUP;
    }
    int rc = build_url(ps, err, err_size);
    if (rc < 0)
        return rc;

    struct grpc_conn *conn = calloc(1, sizeof(*conn));
    if (!conn)
        return -ENOMEM;
    ps->conn = conn;
    conn->max_in_flight = (size_t)ps->settings->max_in_flight;
    conn->tls = strncmp(ps->url, "https://", 8) == 0;
    uint64_t timeout = ps->settings->request_timeout_ms;
    snprintf(conn->timeout_header, sizeof(conn->timeout_header),
             "grpc-timeout: %llum",
             (unsigned long long)(timeout && timeout < MAX_TIMEOUT_MS
                                      ? timeout
                                      : MAX_TIMEOUT_MS));
    rc = build_params(ps, conn);
    if (rc == 0)
        rc = open_multi(conn);
    if (rc < 0)
        grpc_close(ps);
    return rc;
}

const struct pubsub_transport pubsub_grpc_transport = {
    .name = "grpc",
    .render = fce_pubsub_render_proto,
    .envelope_size = grpc_envelope_size,
    .framed_size = grpc_framed_size,
    .open = grpc_open,
    .close = grpc_close,
    .submit = grpc_submit,
    .capacity = grpc_capacity,
    .in_flight = grpc_in_flight,
    .poll = grpc_poll,
};
