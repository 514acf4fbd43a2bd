/*
 * The sqs backend: SendMessageBatch over AWS JSON 1.0, POST to "/" of the
 * queue's host with X-Amz-Target: AmazonSQS.SendMessageBatch. The body is
 * the structured CloudEvent, escaped by the shared JSON writer, which also
 * escapes the characters SQS rejects raw.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aws/fce_aws_backend.h"
#include "aws/fce_aws_parse.h"
#include "fce_ce.h"
#include "fce_json.h"
#include "fce_sqs.h"

/* https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (also the older
 * https://REGION.queue.amazonaws.com/... form). */
static void url_region(const char *url, char *out, size_t size)
{
    out[0] = '\0';
    const char *host = strstr(url, "://");
    if (!host)
        return;
    host += 3;
    const char *end = host + strcspn(host, ":/");
    if (strncmp(host, "sqs.", 4) == 0) {
        const char *dot = memchr(host + 4, '.', (size_t)(end - host - 4));
        if (dot)
            snprintf(out, size, "%.*s", (int)(dot - host - 4), host + 4);
        return;
    }
    const char *queue = strstr(host, ".queue.");
    if (queue && queue < end)
        snprintf(out, size, "%.*s", (int)(queue - host), host);
}

/* The JSON protocol posts to "/" of the queue URL's own host. */
static int url_endpoint(const char *url, char *out, size_t size)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -EINVAL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        snprintf(out, size, "%s://%s%s%s/", scheme, host, port ? ":" : "",
                 port ? port : "");
        rc = 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static bool url_fifo(const char *url)
{
    size_t len = strlen(url);
    while (len && url[len - 1] == '/')
        len--;
    return len > 5 && strncmp(url + len - 5, ".fifo", 5) == 0;
}

static int member(struct fce_buf *body, const char *name, const char *value,
                  size_t len)
{
    int rc = fce_buf_printf(body, ",\"%s\":", name);
    if (rc == 0)
        rc = fce_json_append_string(body, value, len);
    return rc;
}

static int sqs_begin(struct fce_aws_pub *pub, struct fce_aws_call *call)
{
    struct fce_buf *body = &call->body;
    call->target = "AmazonSQS.SendMessageBatch";
    int rc = fce_buf_append_str(body, "{\"QueueUrl\":");
    if (rc == 0)
        rc = fce_json_append_string(body, pub->destination,
                                    strlen(pub->destination));
    if (rc == 0)
        rc = fce_buf_append_str(body, ",\"Entries\":[");
    return rc;
}

static int attributes(struct fce_aws_pub *pub, struct fce_buf *body,
                      const struct fce_pub_record *record)
{
    struct fce_aws_attribute attrs[FCE_AWS_MAX_ATTRIBUTES];
    size_t n = fce_aws_attributes(pub, record, attrs);
    if (n == 0)
        return 0;
    int rc = fce_buf_append_str(body, ",\"MessageAttributes\":{");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i)
            rc = fce_buf_append(body, ",", 1);
        if (rc == 0)
            rc = fce_json_append_string(body, attrs[i].name,
                                        strlen(attrs[i].name));
        if (rc == 0)
            rc = fce_buf_append_str(
                body, ":{\"DataType\":\"String\",\"StringValue\":");
        if (rc == 0)
            rc = fce_json_append_string(body, attrs[i].value,
                                        attrs[i].value_len);
        if (rc == 0)
            rc = fce_buf_append(body, "}", 1);
    }
    if (rc == 0)
        rc = fce_buf_append(body, "}", 1);
    return rc;
}

static int sqs_append(struct fce_aws_pub *pub, struct fce_aws_call *call,
                      size_t index, const char *message, size_t len)
{
    struct fce_buf *body = &call->body;
    struct fce_aws_entry *entry = &call->entries[index];
    int rc = fce_buf_append_str(body, index ? ",{\"Id\":" : "{\"Id\":");
    if (rc == 0)
        rc = fce_json_append_string(body, entry->id, strlen(entry->id));
    if (rc == 0)
        rc = member(body, "MessageBody", message, len);
    if (rc == 0)
        rc = attributes(pub, body, entry->record);
    if (rc == 0 && pub->fifo) {
        char group[129], dedup[65];
        fce_aws_group_id(entry->record, group);
        rc = member(body, "MessageGroupId", group, strlen(group));
        if (rc == 0 && !pub->settings->content_based_deduplication) {
            fce_aws_dedup_id(entry->record, dedup);
            rc = member(body, "MessageDeduplicationId", dedup, 64);
        }
    }
    if (rc == 0)
        rc = fce_buf_append(body, "}", 1);
    return rc;
}

static int sqs_end(struct fce_aws_pub *pub, struct fce_aws_call *call)
{
    (void)pub;
    return fce_buf_append_str(&call->body, "]}");
}

static void mark_list(struct fce_aws_pub *pub, struct fce_aws_call *call,
                      struct fce_slice doc, bool failed)
{
    struct fce_slice list, item;
    struct fce_buf id = FCE_BUF_INIT, code = FCE_BUF_INIT,
                   message = FCE_BUF_INIT;
    if (fce_aws_json_member(doc, failed ? "Failed" : "Successful", &list) < 0)
        return;
    while (fce_aws_json_next(&list, &item) == 1) {
        if (fce_aws_json_get_string(item, "Id", &id) < 0)
            continue;
        struct fce_aws_entry *entry = fce_aws_find_entry(call, id.data, id.len);
        if (!entry)
            continue;
        if (!failed) {
            fce_aws_complete(pub, entry, FCE_OUTCOME_DELIVERED, NULL);
            continue;
        }
        struct fce_slice fault = {0};
        fce_aws_json_member(item, "SenderFault", &fault);
        fce_aws_json_get_string(item, "Code", &code);
        fce_aws_json_get_string(item, "Message", &message);
        fce_aws_fail_entry(pub, entry, code.data, message.data,
                           fce_aws_json_is_true(fault));
    }
    fce_buf_free(&id);
    fce_buf_free(&code);
    fce_buf_free(&message);
}

static void sqs_parse_success(struct fce_aws_pub *pub,
                              struct fce_aws_call *call,
                              const struct fce_http_response *response)
{
    struct fce_slice doc = {response->body.data, response->body.len};
    if (!doc.data)
        return;
    mark_list(pub, call, doc, false);
    mark_list(pub, call, doc, true);
}

static const struct fce_aws_protocol sqs_protocol = {
    .component = "sqs",
    .service = "sqs",
    .content_type = "application/x-amz-json-1.0",
    .destination_kind = "queue",
    .destination_region = url_region,
    .destination_endpoint = url_endpoint,
    .destination_fifo = url_fifo,
    .begin = sqs_begin,
    .append = sqs_append,
    .end = sqs_end,
    .parse_success = sqs_parse_success,
    .parse_error = fce_aws_error_from_json,
};

static int sqs_open(const struct fce_backend_ctx *ctx, void **state)
{
    return fce_aws_pub_open(&sqs_protocol, ctx, state);
}

const struct fce_backend fce_sqs_backend = {
    .type = &fce_sqs_type,
    .open = sqs_open,
    .publish = fce_aws_pub_publish,
    .poll = fce_aws_pub_poll,
    .close = fce_aws_pub_close,
};
