#include "fce_aws.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fce_aws_parse.h"

static void set_err(char *err, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *format, ...)
{
    if (!err || !size)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(err, size, format, args);
    va_end(args);
}

static bool valid_region(const char *region)
{
    if (!region || !*region || strlen(region) > 40)
        return false;
    for (const char *p = region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return false;
    return true;
}

static int endpoint_from_override(struct fce_aws_endpoint *e,
                                  const char *override, char *err,
                                  size_t err_size)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -EINVAL;
    if (!u || curl_url_set(u, CURLUPART_URL, override, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        set_err(err, err_size,
                "aws.endpoint %s is not a URL; write it as "
                "http://HOST:PORT or https://HOST",
                override);
        goto cleanup;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        set_err(err, err_size,
                "aws.endpoint %s: the scheme must be http or https", override);
        goto cleanup;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    if (port)
        snprintf(e->host, sizeof(e->host), "%s:%s", host, port);
    else
        snprintf(e->host, sizeof(e->host), "%s", host);
    snprintf(e->url, sizeof(e->url), "%s://%s/", scheme, e->host);
    rc = 0;

cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

int fce_aws_endpoint_init(struct fce_aws_endpoint *endpoint,
                          const char *override, const char *service,
                          const char *region, char *err, size_t err_size)
{
    memset(endpoint, 0, sizeof(*endpoint));
    if (!valid_region(region)) {
        set_err(err, err_size,
                "aws.region %s is not a region name; set it to the topic's "
                "region, such as us-east-1",
                region ? region : "(empty)");
        return -EINVAL;
    }
    snprintf(endpoint->service, sizeof(endpoint->service), "%s", service);
    snprintf(endpoint->region, sizeof(endpoint->region), "%s", region);

    if (override && *override)
        return endpoint_from_override(endpoint, override, err, err_size);

    const char *suffix =
        strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    snprintf(endpoint->host, sizeof(endpoint->host), "%s.%s.%s", service,
             region, suffix);
    snprintf(endpoint->url, sizeof(endpoint->url), "https://%s/",
             endpoint->host);
    return 0;
}

void fce_aws_headers_free(struct fce_aws_headers *headers)
{
    fce_buf_free(&headers->storage);
    headers->count = 0;
}

/* Header lines are stored NUL-separated in storage; offsets first, because
 * storage may move while it grows. */
static int add_line(struct fce_aws_headers *h, size_t *offsets,
                    const char *name, const char *value)
{
    offsets[h->count++] = h->storage.len;
    int rc = fce_buf_printf(&h->storage, "%s: %s", name, value);
    if (rc == 0)
        rc = fce_buf_append(&h->storage, "", 1);
    return rc;
}

int fce_aws_sign_post(const struct fce_aws_endpoint *endpoint,
                      const struct fce_aws_credentials *credentials,
                      const char *content_type, const char *target,
                      const void *body, size_t body_len, time_t now,
                      struct fce_sigv4_key_cache *cache,
                      struct fce_aws_headers *headers)
{
    char date[FCE_SIGV4_DATE_LEN + 1];
    struct fce_sigv4_header signed_list[5];
    size_t n = 0;
    fce_sigv4_format_date(now, date);

    signed_list[n++] = (struct fce_sigv4_header){"Host", endpoint->host};
    signed_list[n++] = (struct fce_sigv4_header){"Content-Type", content_type};
    signed_list[n++] = (struct fce_sigv4_header){"X-Amz-Date", date};
    if (target)
        signed_list[n++] = (struct fce_sigv4_header){"X-Amz-Target", target};
    if (credentials->session_token)
        signed_list[n++] = (struct fce_sigv4_header){
            "X-Amz-Security-Token", credentials->session_token};

    struct fce_sigv4_request request = {
        .method = "POST",
        .path = "/",
        .headers = signed_list,
        .header_count = n,
        .body = body,
        .body_len = body_len,
    };
    struct fce_sigv4_params params = {
        .access_key_id = credentials->access_key_id,
        .secret_access_key = credentials->secret_access_key,
        .region = endpoint->region,
        .service = endpoint->service,
        .amz_date = date,
    };
    struct fce_buf authorization = FCE_BUF_INIT;
    size_t offsets[8];
    fce_buf_reset(&headers->storage);
    headers->count = 0;

    int rc =
        fce_sigv4_sign(&request, &params, cache, &authorization, NULL, NULL);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = add_line(headers, offsets, signed_list[i].name,
                      signed_list[i].value);
    if (rc == 0)
        rc = fce_buf_append(&authorization, "", 1);
    if (rc == 0)
        rc = add_line(headers, offsets, "Authorization", authorization.data);
    for (size_t i = 0; i < headers->count && rc == 0; i++)
        headers->lines[i] = headers->storage.data + offsets[i];
    fce_buf_free(&authorization);
    return rc;
}

/* ---- errors ---- */

static void copy_text(char *dst, size_t size, const struct fce_buf *src)
{
    snprintf(dst, size, "%.*s", (int)src->len, src->data ? src->data : "");
}

void fce_aws_error_from_xml(const struct fce_http_response *response,
                            struct fce_aws_error *error)
{
    struct fce_slice doc = {response->body.data, response->body.len};
    struct fce_slice inner;
    struct fce_buf text = FCE_BUF_INIT;
    memset(error, 0, sizeof(*error));
    if (!doc.data || fce_aws_xml_element(doc, "Error", &inner) < 0)
        inner = doc;

    if (inner.data && fce_aws_xml_get_text(inner, "Code", &text) == 0)
        copy_text(error->code, sizeof(error->code), &text);
    if (inner.data && fce_aws_xml_get_text(inner, "Message", &text) == 0)
        copy_text(error->message, sizeof(error->message), &text);
    if (inner.data && fce_aws_xml_get_text(inner, "Type", &text) == 0)
        error->sender_fault =
            text.len == 6 && memcmp(text.data, "Sender", 6) == 0;
    else
        error->sender_fault = response->status >= 400 && response->status < 500;
    fce_buf_free(&text);
}

/* "com.amazonaws.sqs#QueueDoesNotExist:http://..." -> "QueueDoesNotExist" */
static void short_type(char *code)
{
    char *hash = strrchr(code, '#');
    if (hash)
        memmove(code, hash + 1, strlen(hash + 1) + 1);
    char *colon = strchr(code, ':');
    if (colon)
        *colon = '\0';
}

void fce_aws_error_from_json(const struct fce_http_response *response,
                             struct fce_aws_error *error)
{
    struct fce_slice doc = {response->body.data, response->body.len};
    struct fce_buf text = FCE_BUF_INIT;
    memset(error, 0, sizeof(*error));
    error->sender_fault = response->status >= 400 && response->status < 500;

    if (doc.data && fce_aws_json_get_string(doc, "__type", &text) == 0) {
        copy_text(error->code, sizeof(error->code), &text);
        short_type(error->code);
    }
    if (doc.data && (fce_aws_json_get_string(doc, "message", &text) == 0 ||
                     fce_aws_json_get_string(doc, "Message", &text) == 0))
        copy_text(error->message, sizeof(error->message), &text);

    size_t len = 0;
    const char *query = fce_http_header(response, "x-amzn-query-error", &len);
    const char *semi = query ? memchr(query, ';', len) : NULL;
    if (query && semi) {
        snprintf(error->code, sizeof(error->code), "%.*s", (int)(semi - query),
                 query);
        error->sender_fault = (size_t)(query + len - semi - 1) == 6 &&
                              memcmp(semi + 1, "Sender", 6) == 0;
    }
    fce_buf_free(&text);
}

/* ---- retry classification ---- */

static bool in_list(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return true;
    return false;
}

/* The standard mode's throttling codes plus SNS, SQS and KMS ones. */
static const char *const throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "Throttled",
    "KMSThrottling",
    "KmsThrottled",
    "KMS.ThrottlingException",
    "AWS.SimpleQueueService.RequestThrottled",
    NULL,
};

static const char *const transient_codes[] = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "InternalError",  "InternalFailure",         "ServiceUnavailable",
    "KMSInternal",    "IDPCommunicationError",   NULL,
};

static const char *const expired_codes[] = {
    "ExpiredToken",
    "ExpiredTokenException",
    "TokenRefreshRequired",
    NULL,
};

static const char *const skew_codes[] = {
    "RequestExpired",
    "RequestTimeTooSkewed",
    "RequestInTheFuture",
    NULL,
};

enum fce_aws_retry_class fce_aws_classify(long status, int transport_error,
                                          const char *code)
{
    if (status == 0)
        return transport_error ? FCE_AWS_TRANSIENT : FCE_AWS_OK;
    if (status >= 200 && status < 300)
        return FCE_AWS_OK;

    if (code && *code) {
        if (in_list(code, throttling_codes))
            return FCE_AWS_THROTTLING;
        if (in_list(code, expired_codes))
            return FCE_AWS_EXPIRED_TOKEN;
        if (in_list(code, transient_codes))
            return FCE_AWS_TRANSIENT;
        if (in_list(code, skew_codes))
            return FCE_AWS_CLOCK_SKEW;
    }
    if (status == 429)
        return FCE_AWS_THROTTLING;
    if (status == 500 || status == 502 || status == 503 || status == 504)
        return FCE_AWS_TRANSIENT;
    if (status >= 500)
        return FCE_AWS_TRANSIENT;
    return FCE_AWS_PERMANENT;
}

enum fce_aws_retry_class fce_aws_classify_entry(const char *code,
                                                bool sender_fault)
{
    if (code && in_list(code, throttling_codes))
        return FCE_AWS_THROTTLING;
    if (code && in_list(code, transient_codes))
        return FCE_AWS_TRANSIENT;
    return sender_fault ? FCE_AWS_PERMANENT : FCE_AWS_TRANSIENT;
}

const char *fce_aws_retry_class_name(enum fce_aws_retry_class retry_class)
{
    switch (retry_class) {
    case FCE_AWS_OK:
        return "ok";
    case FCE_AWS_THROTTLING:
        return "throttling";
    case FCE_AWS_TRANSIENT:
        return "transient";
    case FCE_AWS_EXPIRED_TOKEN:
        return "expired-token";
    case FCE_AWS_CLOCK_SKEW:
        return "clock-skew";
    case FCE_AWS_PERMANENT:
        return "permanent";
    }
    return "unknown";
}
