#include "fce_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One transfer: an easy handle kept for reuse, plus what it collects. */
struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    struct fce_buf body_out; /* request body copy */
    struct fce_http_response response;
    fce_http_done_fn done;
    void *arg;
    struct transfer *next; /* free list or in-flight list */
    struct transfer *prev;
};

struct fce_http {
    CURLM *multi;
    struct fce_http_options options;
    char *ca_file;
    char *user_agent;
    struct transfer *free_list;
    struct transfer *running; /* doubly linked */
    size_t in_flight;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int ensure_global(void)
{
    pthread_once(&global_once, global_init);
    return global_rc == CURLE_OK ? 0 : -ENOMEM;
}

int fce_http_errno(int curl_code)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return -ECONNRESET;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return -EKEYREJECTED;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return -EPROTO;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return -EINVAL;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    default:
        return -EIO;
    }
}

void fce_http_response_init(struct fce_http_response *response)
{
    memset(response, 0, sizeof(*response));
}

void fce_http_response_free(struct fce_http_response *response)
{
    fce_buf_free(&response->body);
    fce_buf_free(&response->headers);
    fce_http_response_init(response);
}

static void response_reset(struct fce_http_response *response)
{
    response->status = 0;
    response->error = 0;
    response->error_text[0] = '\0';
    response->elapsed_us = 0;
    fce_buf_reset(&response->body);
    fce_buf_reset(&response->headers);
}

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    struct fce_http_response *response = user;
    size_t len = size * count;
    if (fce_buf_append(&response->body, data, len) < 0)
        return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
    return len;
}

/* Keeps the header lines of the last response only: a status line starts
 * a new block (after 100 Continue or a redirect). */
static size_t on_header(char *data, size_t size, size_t count, void *user)
{
    struct fce_http_response *response = user;
    size_t len = size * count;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
        fce_buf_reset(&response->headers);
    if (fce_buf_append(&response->headers, data, len) < 0)
        return 0;
    return len;
}

const char *fce_http_header(const struct fce_http_response *response,
                            const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    const char *p = response->headers.data;
    const char *end = p ? p + response->headers.len : NULL;

    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) > name_len && p[name_len] == ':' &&
            strncasecmp(p, name, name_len) == 0) {
            const char *v = p + name_len + 1;
            while (v < line_end && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = line_end;
            while (ve > v &&
                   (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *len = (size_t)(ve - v);
            return v;
        }
        p = eol ? eol + 1 : end;
    }
    return NULL;
}

static int check_header_line(const char *line)
{
    if (strpbrk(line, "\r\n") || !strchr(line, ':'))
        return -EINVAL;
    return 0;
}

static int build_headers(const struct fce_http_request *request,
                         struct curl_slist **list)
{
    /* An empty Expect: turns off the 100-continue round trip that curl
     * adds for large POST bodies. */
    struct curl_slist *out = curl_slist_append(NULL, "Expect:");
    if (!out)
        return -ENOMEM;

    for (size_t i = 0; i < request->header_count; i++) {
        if (check_header_line(request->headers[i]) < 0) {
            curl_slist_free_all(out);
            return -EINVAL;
        }
        struct curl_slist *next = curl_slist_append(out, request->headers[i]);
        if (!next) {
            curl_slist_free_all(out);
            return -ENOMEM;
        }
        out = next;
    }
    *list = out;
    return 0;
}

static long clamp_ms(uint64_t ms)
{
    return ms > (uint64_t)LONG_MAX ? LONG_MAX : (long)ms;
}

/* Sets the options of one transfer on its (possibly reused) easy handle. */
static int setup_easy(CURL *easy, const struct fce_http_request *request,
                      struct transfer *t, uint64_t connect_ms,
                      uint64_t timeout_ms)
{
    CURLcode rc = CURLE_OK;
    const char *method = request->method;
    bool has_body = request->body_len > 0 || request->body;

    if (!method)
        method = has_body ? "POST" : "GET";

    rc |= curl_easy_setopt(easy, CURLOPT_URL, request->url);
    rc |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
    rc |=
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, clamp_ms(connect_ms));
    rc |= curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, clamp_ms(timeout_ms));
    rc |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    rc |= curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    rc |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t->response);
    rc |= curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    rc |= curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t->response);
    rc |= curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->response.error_text);

    if (strcmp(method, "GET") == 0) {
        rc |= curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else {
        rc |= curl_easy_setopt(easy, CURLOPT_POST, 1L);
        rc |= curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
                               t->body_out.data ? t->body_out.data : "");
        rc |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                               (curl_off_t)t->body_out.len);
        if (strcmp(method, "POST") != 0)
            rc |= curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    }
    return rc == CURLE_OK ? 0 : -ENOMEM;
}

static int set_tls(CURL *easy, const char *ca_file, bool insecure,
                   const char *user_agent)
{
    CURLcode rc = CURLE_OK;
    if (ca_file)
        rc |= curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file);
    if (insecure) {
        rc |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        rc |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    rc |= curl_easy_setopt(easy, CURLOPT_USERAGENT, user_agent);
    return rc == CURLE_OK ? 0 : -ENOMEM;
}

static char *dup_or_null(const char *text, int *rc)
{
    if (!text)
        return NULL;
    char *copy = strdup(text);
    if (!copy)
        *rc = -ENOMEM;
    return copy;
}

int fce_http_open(const struct fce_http_options *options,
                  struct fce_http **http)
{
    int rc = ensure_global();
    if (rc < 0)
        return rc;

    struct fce_http *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    if (options)
        h->options = *options;
    if (!h->options.connect_timeout_ms)
        h->options.connect_timeout_ms = 5000;
    if (!h->options.timeout_ms)
        h->options.timeout_ms = 30000;
    if (!h->options.max_in_flight)
        h->options.max_in_flight = 8;
    if (!h->options.max_host_connections)
        h->options.max_host_connections = h->options.max_in_flight;

    h->ca_file = dup_or_null(h->options.ca_file, &rc);
    h->user_agent = dup_or_null(h->options.user_agent ? h->options.user_agent
                                                      : "flyte-cloudevents",
                                &rc);
    h->multi = curl_multi_init();
    if (rc < 0 || !h->multi) {
        fce_http_close(h);
        return -ENOMEM;
    }

    CURLMcode mrc = CURLM_OK;
    mrc |= curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                             (long)h->options.max_host_connections);
    mrc |= curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
                             (long)h->options.max_host_connections * 2);
    mrc |= curl_multi_setopt(h->multi, CURLMOPT_PIPELINING,
                             (long)CURLPIPE_MULTIPLEX);
    if (mrc != CURLM_OK) {
        fce_http_close(h);
        return -EINVAL;
    }
    *http = h;
    return 0;
}

static void transfer_free(struct transfer *t)
{
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    fce_buf_free(&t->body_out);
    fce_http_response_free(&t->response);
    free(t);
}

static void unlink_running(struct fce_http *http, struct transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        http->running = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->next = t->prev = NULL;
    http->in_flight--;
}

void fce_http_close(struct fce_http *http)
{
    if (!http)
        return;
    while (http->running) {
        struct transfer *t = http->running;
        curl_multi_remove_handle(http->multi, t->easy);
        unlink_running(http, t);
        transfer_free(t);
    }
    while (http->free_list) {
        struct transfer *t = http->free_list;
        http->free_list = t->next;
        transfer_free(t);
    }
    if (http->multi)
        curl_multi_cleanup(http->multi);
    free(http->ca_file);
    free(http->user_agent);
    free(http);
}

static struct transfer *transfer_get(struct fce_http *http)
{
    struct transfer *t = http->free_list;
    if (t) {
        http->free_list = t->next;
        t->next = NULL;
        return t;
    }
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->easy = curl_easy_init();
    if (!t->easy) {
        free(t);
        return NULL;
    }
    return t;
}

/* Returns a finished transfer to the free list, keeping its easy handle
 * and buffers so the next request allocates nothing. */
static void transfer_put(struct fce_http *http, struct transfer *t)
{
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    fce_buf_reset(&t->body_out);
    response_reset(&t->response);
    t->done = NULL;
    t->arg = NULL;
    t->next = http->free_list;
    http->free_list = t;
}

static int prepare(struct fce_http *http, struct transfer *t,
                   const struct fce_http_request *request)
{
    int rc = build_headers(request, &t->headers);
    if (rc < 0)
        return rc;

    fce_buf_reset(&t->body_out);
    if (request->body_len) {
        rc = fce_buf_append(&t->body_out, request->body, request->body_len);
        if (rc < 0)
            return rc;
    }
    response_reset(&t->response);

    uint64_t timeout =
        request->timeout_ms ? request->timeout_ms : http->options.timeout_ms;
    curl_easy_reset(t->easy);
    rc = setup_easy(t->easy, request, t, http->options.connect_timeout_ms,
                    timeout);
    if (rc == 0)
        rc = set_tls(t->easy, http->ca_file, http->options.insecure_skip_verify,
                     http->user_agent);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    return rc;
}

int fce_http_submit(struct fce_http *http,
                    const struct fce_http_request *request,
                    fce_http_done_fn done, void *arg)
{
    if (!request->url || !*request->url || !done)
        return -EINVAL;
    if (http->in_flight >= http->options.max_in_flight)
        return -EBUSY;

    struct transfer *t = transfer_get(http);
    if (!t)
        return -ENOMEM;

    int rc = prepare(http, t, request);
    if (rc == 0 && curl_multi_add_handle(http->multi, t->easy) != CURLM_OK)
        rc = -ENOMEM;
    if (rc < 0) {
        transfer_put(http, t);
        return rc;
    }

    t->done = done;
    t->arg = arg;
    t->prev = NULL;
    t->next = http->running;
    if (http->running)
        http->running->prev = t;
    http->running = t;
    http->in_flight++;
    return 0;
}

size_t fce_http_in_flight(const struct fce_http *http)
{
    return http->in_flight;
}

size_t fce_http_capacity(const struct fce_http *http)
{
    return http->options.max_in_flight - http->in_flight;
}

static void finish(struct transfer *t, CURLcode code)
{
    struct fce_http_response *response = &t->response;
    curl_off_t elapsed = 0;

    /* A NUL after the body (not counted in len) for callers that treat it
     * as a C string; on ENOMEM the body simply has none. */
    if (response->body.len && fce_buf_append(&response->body, "", 1) == 0)
        response->body.len--;

    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &elapsed);
    response->elapsed_us = elapsed > 0 ? (uint64_t)elapsed : 0;
    if (code == CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &response->status);
        response->error = 0;
        response->error_text[0] = '\0';
        return;
    }

    response->status = 0;
    response->error = fce_http_errno(code);
    if (!response->error_text[0])
        snprintf(response->error_text, sizeof(response->error_text), "%s",
                 curl_easy_strerror(code));
}

int fce_http_poll(struct fce_http *http, int timeout_ms)
{
    int running = 0;
    int completed = 0;

    if (http->in_flight == 0 && timeout_ms <= 0)
        return 0;
    if (curl_multi_perform(http->multi, &running) != CURLM_OK)
        return -EIO;
    if (running > 0 && timeout_ms > 0) {
        if (curl_multi_poll(http->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
            return -EIO;
        if (curl_multi_perform(http->multi, &running) != CURLM_OK)
            return -EIO;
    }

    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(http->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct transfer *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        CURLcode code = msg->data.result;
        curl_multi_remove_handle(http->multi, t->easy);
        unlink_running(http, t);
        finish(t, code);
        t->done(t->arg, &t->response);
        transfer_put(http, t);
        completed++;
    }
    return completed;
}

int fce_http_fetch(const struct fce_http_request *request,
                   struct fce_http_response *response)
{
    int rc = ensure_global();
    if (rc < 0)
        return rc;
    if (!request->url || !*request->url)
        return -EINVAL;

    struct transfer t = {0};
    t.response = *response;
    t.easy = curl_easy_init();
    if (!t.easy) {
        rc = -ENOMEM;
        goto cleanup;
    }

    uint64_t timeout = request->timeout_ms ? request->timeout_ms : 5000;
    uint64_t connect = timeout < 2000 ? timeout : 2000;
    rc = build_headers(request, &t.headers);
    if (rc == 0 && request->body_len)
        rc = fce_buf_append(&t.body_out, request->body, request->body_len);
    if (rc == 0)
        rc = setup_easy(t.easy, request, &t, connect, timeout);
    if (rc == 0)
        rc = set_tls(t.easy, NULL, false, "flyte-cloudevents");
    if (rc < 0)
        goto cleanup;

    finish(&t, curl_easy_perform(t.easy));
    rc = t.response.error;

cleanup:
    if (rc < 0 && t.response.error == 0)
        t.response.error = rc;
    *response = t.response;
    if (t.easy)
        curl_easy_cleanup(t.easy);
    curl_slist_free_all(t.headers);
    fce_buf_free(&t.body_out);
    return rc;
}
