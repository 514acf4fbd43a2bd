/*
 * The sns backend: AWS Query protocol, form-encoded POST to "/".
 * PublishBatch for two or more messages, Publish for one. Every key and
 * value is encoded with the strict SigV4 encoder, so '+' travels as %2B
 * and the signed body is exactly the bytes sent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aws/fce_aws_backend.h"
#include "aws/fce_aws_parse.h"
#include "fce_ce.h"
#include "fce_sns.h"

static const char *const form_type =
    "application/x-www-form-urlencoded; charset=utf-8";

/* arn:PARTITION:sns:REGION:ACCOUNT:NAME */
static void arn_region(const char *arn, char *out, size_t size)
{
    out[0] = '\0';
    const char *p = arn;
    for (int field = 0; field < 3 && p; field++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    const char *end = p ? strchr(p, ':') : NULL;
    if (end && end > p)
        snprintf(out, size, "%.*s", (int)(end - p), p);
}

static bool arn_fifo(const char *arn)
{
    size_t len = strlen(arn);
    return len > 5 && strcmp(arn + len - 5, ".fifo") == 0;
}

static int param(struct fce_buf *body, const char *prefix, const char *name,
                 const char *value, size_t len)
{
    int rc = fce_buf_printf(body, "&%s%s=", prefix, name);
    if (rc == 0)
        rc = fce_sigv4_uri_encode(body, value, len, false);
    return rc;
}

static int param_str(struct fce_buf *body, const char *prefix, const char *name,
                     const char *value)
{
    return param(body, prefix, name, value, strlen(value));
}

static int attributes(struct fce_aws_pub *pub, struct fce_buf *body,
                      const char *prefix, const struct fce_pub_record *record)
{
    struct fce_aws_attribute attrs[FCE_AWS_MAX_ATTRIBUTES];
    size_t n = fce_aws_attributes(pub, record, attrs);
    char key[160];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        snprintf(key, sizeof(key), "%sMessageAttributes.entry.%zu.", prefix,
                 i + 1);
        rc = param_str(body, key, "Name", attrs[i].name);
        if (rc == 0)
            rc = param_str(body, key, "Value.DataType", "String");
        if (rc == 0)
            rc = param(body, key, "Value.StringValue", attrs[i].value,
                       attrs[i].value_len);
    }
    return rc;
}

/* The fields of one message, under prefix ("" for Publish). */
static int message_fields(struct fce_aws_pub *pub, struct fce_buf *body,
                          const char *prefix,
                          const struct fce_pub_record *record,
                          const char *message, size_t len)
{
    int rc = param(body, prefix, "Message", message, len);
    if (rc == 0 && pub->settings->subject) {
        size_t subject_len = 0;
        const char *subject = fce_ce_attr(&record->ce, "subject", &subject_len);
        if (!subject) {
            subject = fce_kind_request_name(record->ce.kind);
            subject_len = subject ? strlen(subject) : 0;
        }
        if (subject && subject_len)
            rc = param(body, prefix, "Subject", subject, subject_len);
    }
    if (rc == 0)
        rc = attributes(pub, body, prefix, record);
    if (rc == 0 && pub->fifo) {
        char group[129], dedup[65];
        fce_aws_group_id(record, group);
        rc = param_str(body, prefix, "MessageGroupId", group);
        if (rc == 0 && !pub->settings->content_based_deduplication) {
            fce_aws_dedup_id(record, dedup);
            rc = param_str(body, prefix, "MessageDeduplicationId", dedup);
        }
    }
    return rc;
}

static int action_header(struct fce_aws_pub *pub, struct fce_buf *body,
                         const char *action)
{
    fce_buf_reset(body);
    int rc = fce_buf_printf(body, "Action=%s&Version=2010-03-31", action);
    if (rc == 0)
        rc = param_str(body, "", "TopicArn", pub->destination);
    return rc;
}

static int sns_begin(struct fce_aws_pub *pub, struct fce_aws_call *call)
{
    return action_header(pub, &call->body, "PublishBatch");
}

static int sns_append(struct fce_aws_pub *pub, struct fce_aws_call *call,
                      size_t index, const char *message, size_t len)
{
    char prefix[64];
    struct fce_aws_entry *entry = &call->entries[index];
    snprintf(prefix, sizeof(prefix), "PublishBatchRequestEntries.member.%zu.",
             index + 1);

    int rc = param_str(&call->body, prefix, "Id", entry->id);
    if (rc == 0)
        rc = message_fields(pub, &call->body, prefix, entry->record, message,
                            len);
    if (rc == 0 && index == 0) {
        fce_buf_reset(&call->first);
        rc = fce_buf_append(&call->first, message, len);
    }
    return rc;
}

/* A request of one message goes out as Publish, which is smaller and returns
 * one MessageId instead of a result list. */
static int sns_end(struct fce_aws_pub *pub, struct fce_aws_call *call)
{
    if (call->count != 1)
        return 0;
    call->single = true;
    int rc = action_header(pub, &call->body, "Publish");
    if (rc == 0)
        rc = message_fields(pub, &call->body, "", call->entries[0].record,
                            call->first.data, call->first.len);
    return rc;
}

static void parse_failed(struct fce_aws_pub *pub, struct fce_aws_call *call,
                         struct fce_slice failed)
{
    struct fce_slice cursor = failed, member;
    struct fce_buf id = FCE_BUF_INIT, code = FCE_BUF_INIT,
                   message = FCE_BUF_INIT, fault = FCE_BUF_INIT;
    while (fce_aws_xml_next(&cursor, "member", &member) == 1) {
        if (fce_aws_xml_get_text(member, "Id", &id) < 0)
            continue;
        struct fce_aws_entry *entry = fce_aws_find_entry(call, id.data, id.len);
        if (!entry)
            continue;
        fce_aws_xml_get_text(member, "Code", &code);
        fce_aws_xml_get_text(member, "Message", &message);
        fce_aws_xml_get_text(member, "SenderFault", &fault);
        fce_aws_fail_entry(pub, entry, code.data, message.data,
                           fault.len == 4 &&
                               memcmp(fault.data, "true", 4) == 0);
    }
    fce_buf_free(&id);
    fce_buf_free(&code);
    fce_buf_free(&message);
    fce_buf_free(&fault);
}

static void sns_parse_success(struct fce_aws_pub *pub,
                              struct fce_aws_call *call,
                              const struct fce_http_response *response)
{
    struct fce_slice doc = {response->body.data, response->body.len};
    struct fce_slice section, cursor, member;
    struct fce_buf id = FCE_BUF_INIT;

    if (call->single) {
        if (doc.data && fce_aws_xml_element(doc, "MessageId", &section) == 0)
            fce_aws_complete(pub, &call->entries[0], FCE_OUTCOME_DELIVERED,
                             NULL);
        return;
    }
    if (doc.data && fce_aws_xml_element(doc, "Successful", &section) == 0) {
        cursor = section;
        while (fce_aws_xml_next(&cursor, "member", &member) == 1) {
            if (fce_aws_xml_get_text(member, "Id", &id) < 0)
                continue;
            struct fce_aws_entry *entry =
                fce_aws_find_entry(call, id.data, id.len);
            if (entry)
                fce_aws_complete(pub, entry, FCE_OUTCOME_DELIVERED, NULL);
        }
    }
    if (doc.data && fce_aws_xml_element(doc, "Failed", &section) == 0)
        parse_failed(pub, call, section);
    fce_buf_free(&id);
}

static const struct fce_aws_protocol sns_protocol = {
    .component = "sns",
    .service = "sns",
    .content_type = form_type,
    .destination_kind = "topic",
    .destination_region = arn_region,
    .destination_endpoint = NULL,
    .destination_fifo = arn_fifo,
    .begin = sns_begin,
    .append = sns_append,
    .end = sns_end,
    .parse_success = sns_parse_success,
    .parse_error = fce_aws_error_from_xml,
};

static int sns_open(const struct fce_backend_ctx *ctx, void **state)
{
    return fce_aws_pub_open(&sns_protocol, ctx, state);
}

const struct fce_backend fce_sns_backend = {
    .type = &fce_sns_type,
    .open = sns_open,
    .publish = fce_aws_pub_publish,
    .poll = fce_aws_pub_poll,
    .close = fce_aws_pub_close,
};
