/*
 * The REST transport: POST {base}/v1/projects/P/topics/T:publish with
 * {"messages":[...]} over the shared libcurl-multi client (fce_http), and
 * AIP-193 error bodies ({"error":{"status":...,"message":...}}) read back
 * into a pubsub_result.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gcp/fce_gcp_json.h"
#include "http/fce_http.h"
#include "pubsub_internal.h"

static size_t rest_envelope_size(const struct pubsub *ps)
{
    return FCE_PUBSUB_ENVELOPE_BYTES;
}

static size_t rest_framed_size(size_t message_len, bool later)
{
    return message_len + (later ? 1 : 0); /* the comma */
}

static int build_url(struct pubsub *ps)
{
    struct fce_buf url = FCE_BUF_INIT;
    int rc = pubsub_base_url(ps, &url);
    if (rc == 0)
        rc = fce_buf_append_str(&url, "/v1/projects/");
    if (rc == 0)
        rc = pubsub_append_segment(&url, ps->settings->project_id);
    if (rc == 0)
        rc = fce_buf_append_str(&url, "/topics/");
    if (rc == 0)
        rc = pubsub_append_segment(&url, ps->ctx.publisher->topic);
    if (rc == 0)
        rc = fce_buf_append(&url, ":publish", strlen(":publish") + 1);
    if (rc < 0) {
        fce_buf_free(&url);
        return rc;
    }
    ps->url = url.data;
    return 0;
}

static int rest_open(struct pubsub *ps, char *err, size_t err_size)
{
    const struct fce_pubsub_settings *s = ps->settings;
    int rc = build_url(ps);
    if (rc < 0)
        return rc;

    struct fce_http_options options = {
        .connect_timeout_ms = s->connect_timeout_ms,
        .timeout_ms = s->request_timeout_ms,
        .max_in_flight = (size_t)s->max_in_flight,
        .ca_file = s->ca_file && *s->ca_file ? s->ca_file : NULL,
        .user_agent = "flyte-cloudevents pubsub",
    };
    struct fce_http *http;
    rc = fce_http_open(&options, &http);
    if (rc < 0) {
        snprintf(err, err_size, "cannot create the HTTP client: %s",
                 strerror(-rc));
        return rc;
    }
    ps->conn = http;
    return 0;
}

static void rest_close(struct pubsub *ps)
{
    /* Closing the client drops the requests without their callbacks. */
    fce_http_close(ps->conn);
    ps->conn = NULL;
}

static long count_ids(const struct fce_http_response *response)
{
    struct fce_gcp_json_value ids;
    const char *body = response->body.data ? response->body.data : "";
    if (fce_gcp_json_validate(body, response->body.len) == 0 &&
        fce_gcp_json_find(body, response->body.len, "messageIds", &ids) == 0)
        return fce_gcp_json_array_count(&ids);
    return -1;
}

/* Reads error.status and error.message of an AIP-193 error body. */
static void read_error(const struct fce_http_response *response, char *status,
                       size_t status_size, char *message, size_t message_size)
{
    const char *body = response->body.data ? response->body.data : "";
    size_t len = response->body.len;
    struct fce_gcp_json_value value;
    status[0] = message[0] = '\0';
    if (fce_gcp_json_validate(body, len) < 0)
        return;
    if (fce_gcp_json_find(body, len, "error.status", &value) == 0)
        fce_gcp_json_string(&value, status, status_size);
    if (fce_gcp_json_find(body, len, "error.message", &value) == 0 &&
        fce_gcp_json_string(&value, message, message_size) == -ERANGE)
        message[0] = '\0';
}

static void on_response(void *arg, const struct fce_http_response *response)
{
    struct pubsub_request *req = arg;
    char status[64] = "", message[200] = "", reason[300];
    struct pubsub_result result = {
        .error = response->error,
        .http_status = response->status,
        .status = status,
        .message_ids = -1,
        .reason = reason,
    };

    if (response->error < 0) {
        snprintf(reason, sizeof(reason), "%s",
                 response->error_text[0] ? response->error_text
                                         : strerror(-response->error));
    } else if (response->status >= 200 && response->status < 300) {
        result.ok = true;
        result.message_ids = count_ids(response);
        reason[0] = '\0';
    } else {
        read_error(response, status, sizeof(status), message, sizeof(message));
        snprintf(reason, sizeof(reason), "HTTP %ld%s%s%s%s", response->status,
                 status[0] ? " " : "", status, message[0] ? ": " : "", message);
    }
    pubsub_request_done(req, &result);
}

/* Writes {"messages":[...]} of the request's messages into ps->body. */
static int build_body(struct pubsub *ps, const struct pubsub_request *req)
{
    fce_buf_reset(&ps->body);
    int rc = fce_buf_append_str(&ps->body, "{\"messages\":[");
    for (size_t i = 0; rc == 0 && i < req->count; i++) {
        if (i)
            rc = fce_buf_append(&ps->body, ",", 1);
        if (rc == 0)
            rc = fce_buf_append(&ps->body, req->slots[i]->message.data,
                                req->slots[i]->message.len);
    }
    if (rc == 0)
        rc = fce_buf_append_str(&ps->body, "]}");
    return rc;
}

static int rest_submit(struct pubsub *ps, struct pubsub_request *req,
                       const char *auth_header)
{
    int rc = build_body(ps, req);
    if (rc < 0)
        return rc;

    const char *headers[2] = {"Content-Type: application/json", auth_header};
    struct fce_http_request request = {
        .method = "POST",
        .url = ps->url,
        .headers = headers,
        .header_count = auth_header ? 2 : 1,
        .body = ps->body.data,
        .body_len = ps->body.len,
    };
    return fce_http_submit(ps->conn, &request, on_response, req);
}

static size_t rest_capacity(const struct pubsub *ps)
{
    return fce_http_capacity(ps->conn);
}

static size_t rest_in_flight(const struct pubsub *ps)
{
    return fce_http_in_flight(ps->conn);
}

static int rest_poll(struct pubsub *ps, int timeout_ms)
{
    int rc = fce_http_poll(ps->conn, timeout_ms);
    return rc < 0 ? rc : 0;
}

const struct pubsub_transport pubsub_rest_transport = {
    .name = "rest",
    .render = fce_pubsub_render_message,
    .envelope_size = rest_envelope_size,
    .framed_size = rest_framed_size,
    .open = rest_open,
    .close = rest_close,
    .submit = rest_submit,
    .capacity = rest_capacity,
    .in_flight = rest_in_flight,
    .poll = rest_poll,
};
