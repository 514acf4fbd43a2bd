#include "fce_aws_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fce_ce.h"
#include "fce_log.h"

/* CloudEvent attributes that may become message attributes. */
static const char *const attribute_choices[] = {
    "type", "subject",     "id",           "source",
    "time", "specversion", "partitionkey", NULL,
};

static const char *const attribute_names[] = {
    "ce-type", "ce-subject",     "ce-id",           "ce-source",
    "ce-time", "ce-specversion", "ce-partitionkey",
};

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int choose_attributes(struct fce_aws_pub *pub)
{
    const struct fce_strlist *list = &pub->settings->message_attributes;
    if (list->count > FCE_AWS_MAX_ATTRIBUTES) {
        fce_error(pub->protocol->component, "too many message attributes",
                  "publisher=%s count=%zu max=10 fix=\"list at most 10 "
                  "names in aws.messageAttributes\"",
                  pub->publisher, list->count);
        return -EINVAL;
    }
    for (size_t i = 0; i < list->count; i++) {
        size_t k = 0;
        while (attribute_choices[k] &&
               strcmp(attribute_choices[k], list->items[i]) != 0)
            k++;
        if (!attribute_choices[k]) {
            fce_error(pub->protocol->component,
                      "invalid aws.messageAttributes entry",
                      "publisher=%s value=%s fix=\"use type, subject, id, "
                      "source, time, specversion or partitionkey\"",
                      pub->publisher, fce_log_quote(list->items[i]));
            return -EINVAL;
        }
        pub->attribute_names[pub->attribute_count++] = attribute_names[k];
    }
    return 0;
}

static int choose_region(struct fce_aws_pub *pub, char *region, size_t size)
{
    const char *set = pub->settings->region;
    region[0] = '\0';
    if (set && *set)
        snprintf(region, size, "%s", set);
    else
        pub->protocol->destination_region(pub->destination, region, size);
    if (!region[0] && env_or_null("AWS_REGION"))
        snprintf(region, size, "%s", getenv("AWS_REGION"));
    if (!region[0] && env_or_null("AWS_DEFAULT_REGION"))
        snprintf(region, size, "%s", getenv("AWS_DEFAULT_REGION"));
    if (region[0])
        return 0;
    fce_error(pub->protocol->component, "no AWS region",
              "publisher=%s %s=%s fix=\"set aws.region or AWS_REGION\"",
              pub->publisher, pub->protocol->destination_kind,
              fce_log_quote(pub->destination));
    return -EINVAL;
}

static int setup_endpoint(struct fce_aws_pub *pub)
{
    char region[64], derived[512], err[512];
    const char *override = pub->settings->endpoint;
    int rc = choose_region(pub, region, sizeof(region));
    if (rc < 0)
        return rc;

    if ((!override || !*override) && pub->protocol->destination_endpoint &&
        pub->protocol->destination_endpoint(pub->destination, derived,
                                            sizeof(derived)) == 0)
        override = derived;
    rc = fce_aws_endpoint_init(&pub->endpoint, override, pub->protocol->service,
                               region, err, sizeof(err));
    if (rc < 0)
        fce_error(pub->protocol->component, "invalid AWS endpoint",
                  "publisher=%s error=%s", pub->publisher, fce_log_quote(err));
    return rc;
}

static int setup_credentials(struct fce_aws_pub *pub)
{
    struct fce_aws_creds_options options = {
        .region = pub->endpoint.region,
        .sts_endpoint = pub->settings->sts_endpoint,
    };
    char err[768];
    int rc = fce_aws_creds_open(&options, &pub->creds);
    if (rc < 0)
        return rc;

    rc = fce_aws_creds_get(pub->creds, &pub->credentials, err, sizeof(err));
    if (rc < 0) {
        fce_error(pub->protocol->component, "cannot get AWS credentials",
                  "publisher=%s error=%s", pub->publisher, fce_log_quote(err));
        return rc == -EINVAL ? -EINVAL : -EAGAIN;
    }
    fce_info(pub->protocol->component, "AWS credentials loaded",
             "publisher=%s source=%s access_key_id=%.4s...", pub->publisher,
             pub->credentials->source, pub->credentials->access_key_id);
    return 0;
}

static int setup_http(struct fce_aws_pub *pub)
{
    const struct fce_aws_settings *s = pub->settings;
    struct fce_http_options options = {
        .connect_timeout_ms = s->connect_timeout_ms,
        .timeout_ms = s->request_timeout_ms,
        .max_in_flight = pub->max_in_flight,
        .ca_file = s->ca_file && *s->ca_file ? s->ca_file : NULL,
    };
    return fce_http_open(&options, &pub->http);
}

int fce_aws_pub_open(const struct fce_aws_protocol *protocol,
                     const struct fce_backend_ctx *ctx, void **state)
{
    struct fce_aws_pub *pub = calloc(1, sizeof(*pub));
    if (!pub)
        return -ENOMEM;
    pub->protocol = protocol;
    pub->ctx = *ctx;
    pub->settings = ctx->settings;
    pub->publisher = ctx->publisher->name;
    pub->destination = ctx->publisher->topic;

    int rc = -EINVAL;
    if (!pub->destination || !*pub->destination) {
        fce_error(
            protocol->component, "no destination",
            "publisher=%s fix=\"set topicName to the %s\"", pub->publisher,
            strcmp(protocol->destination_kind, "topic") == 0 ? "SNS topic ARN"
                                                             : "SQS queue URL");
        goto fail;
    }
    const struct fce_aws_settings *s = pub->settings;
    pub->fifo = s->fifo == FCE_AWS_FIFO_ON ||
                (s->fifo == FCE_AWS_FIFO_AUTO &&
                 protocol->destination_fifo(pub->destination));
    pub->max_entries =
        s->max_batch_entries > 0 && s->max_batch_entries <= FCE_AWS_MAX_ENTRIES
            ? (size_t)s->max_batch_entries
            : FCE_AWS_MAX_ENTRIES;
    /* One request at a time keeps FIFO order across requests. */
    pub->max_in_flight =
        pub->fifo || s->max_in_flight <= 0 ? 1 : (size_t)s->max_in_flight;

    rc = choose_attributes(pub);
    if (rc == 0)
        rc = setup_endpoint(pub);
    if (rc == 0)
        rc = setup_http(pub);
    if (rc == 0)
        rc = setup_credentials(pub);
    if (rc < 0)
        goto fail;

    fce_info(protocol->component, "backend open",
             "publisher=%s %s=%s endpoint=%s region=%s fifo=%s "
             "max_in_flight=%zu",
             pub->publisher, protocol->destination_kind,
             fce_log_quote(pub->destination), pub->endpoint.url,
             pub->endpoint.region, pub->fifo ? "true" : "false",
             pub->max_in_flight);
    *state = pub;
    return 0;

fail:
    fce_aws_pub_close(pub);
    return rc;
}

static void call_free(struct fce_aws_call *call)
{
    fce_buf_free(&call->body);
    fce_buf_free(&call->first);
    free(call);
}

static void unlink_call(struct fce_aws_pub *pub, struct fce_aws_call *call)
{
    if (call->prev)
        call->prev->next = call->next;
    else if (pub->calls == call)
        pub->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    call->next = call->prev = NULL;
}

void fce_aws_pub_close(void *state)
{
    struct fce_aws_pub *pub = state;
    if (!pub)
        return;
    /* Closing the client first: no callback runs on a freed call. */
    fce_http_close(pub->http);
    while (pub->calls) {
        struct fce_aws_call *call = pub->calls;
        unlink_call(pub, call);
        call_free(call);
    }
    fce_aws_creds_close(pub->creds);
    fce_buf_free(&pub->message);
    fce_buf_free(&pub->scratch);
    free(pub);
}

/* ---- completions ---- */

void fce_aws_complete(struct fce_aws_pub *pub, struct fce_aws_entry *entry,
                      enum fce_outcome outcome, const char *reason)
{
    if (entry->done)
        return;
    entry->done = true;
    pub->ctx.complete(pub->ctx.driver, entry->record, outcome, reason);
}

struct fce_aws_entry *fce_aws_find_entry(struct fce_aws_call *call,
                                         const char *id, size_t len)
{
    for (size_t i = 0; i < call->count; i++)
        if (strlen(call->entries[i].id) == len &&
            memcmp(call->entries[i].id, id, len) == 0)
            return &call->entries[i];
    return NULL;
}

void fce_aws_fail_entry(struct fce_aws_pub *pub, struct fce_aws_entry *entry,
                        const char *code, const char *message,
                        bool sender_fault)
{
    static struct fce_log_limit limit;
    char reason[512];
    enum fce_aws_retry_class c = fce_aws_classify_entry(code, sender_fault);
    enum fce_outcome outcome =
        c == FCE_AWS_PERMANENT ? FCE_OUTCOME_REJECTED : FCE_OUTCOME_RETRY;

    snprintf(reason, sizeof(reason), "%s %s: %s", pub->protocol->component,
             code && *code ? code : "error", message ? message : "");
    fce_log_limited(&limit, 1000, FCE_LOG_WARN, pub->protocol->component,
                    "batch entry failed",
                    "publisher=%s id=%s code=%s sender_fault=%s class=%s",
                    pub->publisher, entry->id, code && *code ? code : "none",
                    sender_fault ? "true" : "false",
                    fce_aws_retry_class_name(c));
    fce_aws_complete(pub, entry, outcome, reason);
}

static void complete_all(struct fce_aws_pub *pub, struct fce_aws_call *call,
                         enum fce_outcome outcome, const char *reason)
{
    for (size_t i = 0; i < call->count; i++)
        fce_aws_complete(pub, &call->entries[i], outcome, reason);
}

/* ---- sending ---- */

static int submit(struct fce_aws_pub *pub, struct fce_aws_call *call);

static bool refresh_for_retry(struct fce_aws_pub *pub)
{
    char err[768];
    fce_aws_creds_invalidate(pub->creds);
    int rc = fce_aws_creds_get(pub->creds, &pub->credentials, err, sizeof(err));
    if (rc < 0)
        fce_warn(pub->protocol->component, "credential refresh failed",
                 "publisher=%s error=%s", pub->publisher, fce_log_quote(err));
    return rc == 0;
}

static const char *skew_hint(enum fce_aws_retry_class c)
{
    return c == FCE_AWS_CLOCK_SKEW
               ? "; the host clock differs from AWS time, fix it (NTP)"
               : "";
}

static void on_error(struct fce_aws_pub *pub, struct fce_aws_call *call,
                     const struct fce_http_response *response)
{
    static struct fce_log_limit limit;
    struct fce_aws_error error = {0};
    char reason[768];

    if (response->status)
        pub->protocol->parse_error(response, &error);
    enum fce_aws_retry_class c =
        fce_aws_classify(response->status, response->error, error.code);

    if (c == FCE_AWS_EXPIRED_TOKEN && !call->expired_retry &&
        refresh_for_retry(pub)) {
        call->expired_retry = true;
        if (submit(pub, call) == 0)
            return;
    }

    if (response->status)
        snprintf(reason, sizeof(reason), "%s HTTP %ld %s: %s%s",
                 pub->protocol->component, response->status,
                 error.code[0] ? error.code : "(no code)", error.message,
                 skew_hint(c));
    else
        snprintf(reason, sizeof(reason), "%s request failed: %s",
                 pub->protocol->component, response->error_text);
    fce_log_limited(
        &limit, 1000, FCE_LOG_WARN, pub->protocol->component, "request failed",
        "publisher=%s status=%ld code=%s class=%s entries=%zu "
        "error=%s",
        pub->publisher, response->status, error.code[0] ? error.code : "none",
        fce_aws_retry_class_name(c), call->count,
        fce_log_quote(error.message[0] ? error.message : response->error_text));
    /* TODO(aws): pass x-amz-retry-after and the standard mode's retry
     * quota to the driver; fce_backend.h has no per-record delay yet. */
    bool permanent = c == FCE_AWS_PERMANENT || c == FCE_AWS_CLOCK_SKEW;
    complete_all(pub, call,
                 permanent ? FCE_OUTCOME_REJECTED : FCE_OUTCOME_RETRY, reason);
}

static void on_done(void *arg, const struct fce_http_response *response)
{
    struct fce_aws_call *call = arg;
    struct fce_aws_pub *pub = call->pub;
    unlink_call(pub, call);

    if (response->status >= 200 && response->status < 300) {
        pub->protocol->parse_success(pub, call, response);
        complete_all(pub, call, FCE_OUTCOME_RETRY,
                     "entry missing from the batch response");
    } else {
        on_error(pub, call, response);
        if (pub->calls == call || call->prev || call->next)
            return; /* re-sent after ExpiredToken */
    }
    call_free(call);
}

/* Signs and queues call; on success the call is on pub->calls. */
static int submit(struct fce_aws_pub *pub, struct fce_aws_call *call)
{
    struct fce_aws_headers headers = {0};
    int rc = fce_aws_sign_post(&pub->endpoint, pub->credentials,
                               pub->protocol->content_type, call->target,
                               call->body.data, call->body.len, time(NULL),
                               &pub->key_cache, &headers);
    if (rc == 0) {
        struct fce_http_request request = {
            .method = "POST",
            .url = pub->endpoint.url,
            .headers = headers.lines,
            .header_count = headers.count,
            .body = call->body.data,
            .body_len = call->body.len,
        };
        rc = fce_http_submit(pub->http, &request, on_done, call);
    }
    fce_aws_headers_free(&headers);
    if (rc < 0)
        return rc;

    call->prev = NULL;
    call->next = pub->calls;
    if (pub->calls)
        pub->calls->prev = call;
    pub->calls = call;
    return 0;
}

/* ---- building requests ---- */

size_t fce_aws_attributes(const struct fce_aws_pub *pub,
                          const struct fce_pub_record *record,
                          struct fce_aws_attribute *attrs)
{
    size_t n = 0;
    for (size_t i = 0; i < pub->attribute_count; i++) {
        const char *name = pub->attribute_names[i];
        const char *ce_name = name + 3; /* after "ce-" */
        size_t len = 0;
        const char *value;
        if (strcmp(ce_name, "partitionkey") == 0) {
            value = record->ce.partition_key;
            len = record->ce.partition_key_len;
        } else {
            value = fce_ce_attr(&record->ce, ce_name, &len);
        }
        /* AWS rejects empty attribute values: leave those out. */
        if (value && len)
            attrs[n++] = (struct fce_aws_attribute){name, value, len};
    }
    return n;
}

/* Bytes AWS counts for a message: body plus each attribute's name, data
 * type ("String") and value. */
static size_t message_size(const struct fce_aws_pub *pub,
                           const struct fce_pub_record *record, size_t len)
{
    struct fce_aws_attribute attrs[FCE_AWS_MAX_ATTRIBUTES];
    size_t n = fce_aws_attributes(pub, record, attrs);
    for (size_t i = 0; i < n; i++)
        len += strlen(attrs[i].name) + 6 + attrs[i].value_len;
    return len;
}

void fce_aws_dedup_id(const struct fce_pub_record *record, char out[65])
{
    size_t len = 0;
    const char *id = fce_ce_attr(&record->ce, "id", &len);
    fce_sigv4_sha256_hex(id ? id : "", id ? len : 0, out);
}

void fce_aws_group_id(const struct fce_pub_record *record, char out[129])
{
    const char *key = record->ce.partition_key;
    size_t len = record->ce.partition_key_len;
    bool ok = key && len > 0 && len <= 128;
    for (size_t i = 0; ok && i < len; i++)
        ok = key[i] > 0x20 && key[i] < 0x7f;
    if (ok) {
        memcpy(out, key, len);
        out[len] = '\0';
        return;
    }
    fce_sigv4_sha256_hex(key ? key : "", key ? len : 0, out);
}

static struct fce_aws_call *call_new(struct fce_aws_pub *pub)
{
    struct fce_aws_call *call = calloc(1, sizeof(*call));
    if (!call)
        return NULL;
    call->pub = pub;
    if (pub->protocol->begin(pub, call) < 0) {
        call_free(call);
        return NULL;
    }
    return call;
}

static void reject_oversize(struct fce_aws_pub *pub,
                            struct fce_pub_record *record, size_t size)
{
    static struct fce_log_limit limit;
    char reason[256];
    snprintf(reason, sizeof(reason),
             "message of %zu bytes exceeds aws.maxMessageBytes %llu", size,
             (unsigned long long)pub->settings->max_message_bytes);
    fce_log_limited(&limit, 1000, FCE_LOG_WARN, pub->protocol->component,
                    "message too large; dead-lettering it",
                    "publisher=%s seq=%llu bytes=%zu max=%llu", pub->publisher,
                    (unsigned long long)record->seq, size,
                    (unsigned long long)pub->settings->max_message_bytes);
    pub->ctx.complete(pub->ctx.driver, record, FCE_OUTCOME_REJECTED, reason);
}

/* Finishes and sends call; on failure its entries are completed RETRY. */
static void send_call(struct fce_aws_pub *pub, struct fce_aws_call *call)
{
    int rc = pub->protocol->end(pub, call);
    if (rc == 0)
        rc = submit(pub, call);
    if (rc == 0)
        return;
    complete_all(pub, call, FCE_OUTCOME_RETRY, "request could not be queued");
    call_free(call);
}

static bool credentials_ready(struct fce_aws_pub *pub,
                              struct fce_pub_record **records, size_t count)
{
    static struct fce_log_limit limit;
    char err[768], reason[1024];
    if (fce_aws_creds_get(pub->creds, &pub->credentials, err, sizeof(err)) == 0)
        return true;

    fce_log_limited(&limit, 1000, FCE_LOG_ERROR, pub->protocol->component,
                    "no usable AWS credentials; retrying the batch later",
                    "publisher=%s error=%s", pub->publisher,
                    fce_log_quote(err));
    snprintf(reason, sizeof(reason), "AWS credentials: %s", err);
    for (size_t i = 0; i < count; i++)
        pub->ctx.complete(pub->ctx.driver, records[i], FCE_OUTCOME_RETRY,
                          reason);
    return false;
}

static bool call_full(const struct fce_aws_pub *pub,
                      const struct fce_aws_call *call, size_t size)
{
    return call->count == pub->max_entries ||
           call->message_bytes + size > pub->settings->max_request_bytes;
}

int fce_aws_pub_publish(void *state, struct fce_pub_record **records,
                        size_t count)
{
    struct fce_aws_pub *pub = state;
    struct fce_aws_call *call = NULL;
    size_t accepted = 0;

    if (fce_http_capacity(pub->http) == 0)
        return 0;
    if (!credentials_ready(pub, records, count))
        return (int)count;

    for (; accepted < count; accepted++) {
        struct fce_pub_record *record = records[accepted];
        fce_buf_reset(&pub->message);
        if (fce_ce_render_json(&record->ce, &pub->message) < 0)
            break;
        size_t size = message_size(pub, record, pub->message.len);
        if (size > pub->settings->max_message_bytes) {
            reject_oversize(pub, record, size);
            continue;
        }

        if (call && call_full(pub, call, size)) {
            send_call(pub, call);
            call = NULL;
        }
        if (!call && fce_http_capacity(pub->http) == 0)
            break;
        if (!call && !(call = call_new(pub)))
            break;

        struct fce_aws_entry *entry = &call->entries[call->count];
        entry->record = record;
        snprintf(entry->id, sizeof(entry->id), "r%llu",
                 (unsigned long long)record->seq);
        if (pub->protocol->append(pub, call, call->count, pub->message.data,
                                  pub->message.len) < 0)
            break;
        call->count++;
        call->message_bytes += size;
    }
    if (call && call->count)
        send_call(pub, call);
    else if (call)
        call_free(call);
    return (int)accepted;
}

int fce_aws_pub_poll(void *state, int timeout_ms)
{
    struct fce_aws_pub *pub = state;
    int rc = fce_http_poll(pub->http, timeout_ms);
    return rc < 0 ? rc : 0;
}
