/*
 * The Pub/Sub backend through its vtable, with a small driver stand-in,
 * against the fake Pub/Sub server of tests/helpers/fake-gcp (which checks
 * tokens, limits and one ordering key per request): over REST, and over
 * gRPC (plain and TLS) through fake-grpc-front.js, a grpc-js server in
 * front of the fake. Plus the message renderers, the gRPC wire format,
 * the topic id check and the error classes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../gcp/fake_gcp.h"
#include "fce_backend.h"
#include "gcp/fce_gcp_json.h"
#include "google/pubsub/v1/pubsub.pb-c.h"
#include "grpc_front.h"
#include "pubsub/fce_pubsub.h"
#include "pubsub/fce_pubsub_grpc.h"

#define MAX_RECORDS 64

static struct fake_gcp fake;
static struct grpc_front front, tls_front;

/* One way to reach the fake: a transport and its endpoint. */
struct variant {
    const char *name;
    int transport;
    const struct grpc_front *front; /* NULL: REST straight to the fake */
};

static const struct variant rest_variant = {"rest", FCE_PUBSUB_TRANSPORT_REST,
                                            NULL};
static const struct variant grpc_variant = {"grpc", FCE_PUBSUB_TRANSPORT_GRPC,
                                            &front};
static const struct variant tls_variant = {
    "grpc-tls", FCE_PUBSUB_TRANSPORT_GRPC, &tls_front};
static const struct variant *current = &rest_variant;

static bool is_grpc(void)
{
    return current->transport == FCE_PUBSUB_TRANSPORT_GRPC;
}

struct harness {
    struct fce_publisher_config publisher;
    struct fce_pubsub_settings settings;
    struct fce_backend_ctx ctx;
    void *state;
    struct fce_pub_record records[MAX_RECORDS];
    char ids[MAX_RECORDS][2100];
    char keys[MAX_RECORDS][1100];
    uint8_t data[MAX_RECORDS][32];
    int outcome[MAX_RECORDS]; /* -1: not completed */
    char reason[MAX_RECORDS][300];
    size_t count;
    size_t completed;
};

static void on_complete(void *driver, struct fce_pub_record *record,
                        enum fce_outcome outcome, const char *reason)
{
    struct harness *h = driver;
    size_t i = (size_t)(record - h->records);
    assert_true(i < h->count);
    if (h->outcome[i] != -1)
        fail_msg("record %zu completed twice", i);
    h->outcome[i] = (int)outcome;
    snprintf(h->reason[i], sizeof(h->reason[i]), "%s", reason ? reason : "");
    h->completed++;
}

static void harness_init(struct harness *h, bool ordering,
                         enum fce_content_mode mode)
{
    memset(h, 0, sizeof(*h));
    h->publisher.name = "pubsub-test";
    h->publisher.topic = "fce-topic";
    h->publisher.content_mode = mode;
    struct fce_pubsub_settings *s = &h->settings;
    s->project_id = "fce-test";
    s->transport = current->transport;
    s->endpoint =
        current->front ? (char *)current->front->base_url : fake.base_url;
    if (current->front == &tls_front)
        s->ca_file = tls_front.cert;
    s->ordering = ordering;
    s->auth = FCE_PUBSUB_AUTH_JWT_GRANT;
    s->credentials_file = fake.key_file;
    s->scope = "https://www.googleapis.com/auth/pubsub";
    s->jwt_lifetime_ms = 3600000;
    s->max_messages = 1000;
    s->max_request_bytes = FCE_PUBSUB_MAX_REQUEST_BYTES;
    s->max_message_bytes = FCE_PUBSUB_MAX_REQUEST_BYTES;
    s->max_attributes = 100;
    s->max_attribute_key_bytes = 256;
    s->max_attribute_value_bytes = 1024;
    s->max_ordering_key_bytes = 1024;
    s->max_in_flight = 4;
    s->max_pending = 10000;
    s->request_timeout_ms = 10000;
    s->connect_timeout_ms = 2000;
    s->token_timeout_ms = 5000;
    s->ordering_resume_ms = 600000;
    h->ctx.publisher = &h->publisher;
    h->ctx.settings = s;
    h->ctx.driver = h;
    h->ctx.complete = on_complete;
    for (size_t i = 0; i < MAX_RECORDS; i++)
        h->outcome[i] = -1;
}

static void set_attr(struct fce_ce *ce, const char *name, const char *value)
{
    struct fce_ce_attr *a = &ce->attrs[ce->attr_count++];
    a->name = name;
    a->name_len = strlen(name);
    a->value = value;
    a->value_len = strlen(value);
}

/* Adds record i with id "<key>-<i>" under partition key "p/d/<key>". */
static struct fce_pub_record *add_record(struct harness *h, const char *key)
{
    size_t i = h->count++;
    struct fce_pub_record *r = &h->records[i];
    r->seq = i + 1;
    r->attempts = 1;
    snprintf(h->ids[i], sizeof(h->ids[i]), "%s-%zu", key, i);
    snprintf(h->keys[i], sizeof(h->keys[i]), "p/d/%s", key);
    snprintf((char *)h->data[i], sizeof(h->data[i]), "bytes-%zu", i);

    struct fce_ce *ce = &r->ce;
    ce->kind = FCE_KIND_WORKFLOW;
    set_attr(ce, "specversion", "1.0");
    set_attr(ce, "id", h->ids[i]);
    set_attr(ce, "source", "https://github.com/flyteorg/flyteadmin");
    set_attr(ce, "type", "com.flyte.resource.workflow");
    set_attr(ce, "subject", "flyteidl.admin.WorkflowExecutionEventRequest");
    set_attr(ce, "datacontenttype", "application/protobuf");
    ce->partition_key = h->keys[i];
    ce->partition_key_len = strlen(h->keys[i]);
    ce->data = h->data[i];
    ce->data_len = strlen((char *)h->data[i]);
    r->size = ce->data_len + 200;
    return r;
}

static void open_backend(struct harness *h)
{
    assert_int_equal(fce_pubsub_backend.open(&h->ctx, &h->state), 0);
}

/* Hands records [first, first + n) to publish(), as the driver does. */
static void publish(struct harness *h, size_t first, size_t n)
{
    struct fce_pub_record *batch[MAX_RECORDS];
    for (size_t i = 0; i < n; i++)
        batch[i] = &h->records[first + i];
    int accepted = fce_pubsub_backend.publish(h->state, batch, n);
    assert_int_equal(accepted, (int)n);
}

/* Polls until want records are completed or 10 s pass. */
static void poll_until(struct harness *h, size_t want)
{
    for (int i = 0; i < 1000 && h->completed < want; i++)
        assert_int_equal(fce_pubsub_backend.poll(h->state, 10), 0);
    assert_int_equal(h->completed, want);
}

static void poll_for(struct harness *h, int ms)
{
    for (int i = 0; i < ms / 10; i++)
        assert_int_equal(fce_pubsub_backend.poll(h->state, 10), 0);
}

/* The fake's stored messages, from message first on. */
struct stored {
    char *text;
    size_t len;
    struct fce_gcp_json_value list;
};

static void stored_load(struct stored *s)
{
    s->text = fake_gcp_messages(&fake, &s->len);
    assert_non_null(s->text);
    assert_int_equal(fce_gcp_json_find(s->text, s->len, "messages", &s->list),
                     0);
}

/* Copies member path of stored message i into out. */
static void stored_get(struct stored *s, size_t i, const char *path, char *out,
                       size_t out_size)
{
    struct fce_gcp_json_value m, v;
    assert_int_equal(fce_gcp_json_array_at(&s->list, i, &m), 0);
    out[0] = '\0';
    if (fce_gcp_json_find(m.text, m.len, path, &v) == 0)
        assert_true(fce_gcp_json_string(&v, out, out_size) >= 0);
}

static void stored_data(struct stored *s, size_t i, char *out, size_t size)
{
    char b64[4096];
    stored_get(s, i, "data", b64, sizeof(b64));
    size_t len = strlen(b64);
    assert_true(len / 4 * 3 < size);
    int n =
        EVP_DecodeBlock((unsigned char *)out, (unsigned char *)b64, (int)len);
    assert_true(n >= 0);
    while (len && b64[--len] == '=')
        n--;
    out[n] = '\0';
}

static long stored_count(void)
{
    return fake_gcp_stat(&fake, "messages");
}

/* ---- end to end through the vtable ---- */

static void structured_messages_delivered(void **state)
{
    struct harness h;
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    open_backend(&h);
    long first = stored_count();
    for (int i = 0; i < 25; i++)
        add_record(&h, i % 2 ? "a" : "b");
    publish(&h, 0, 25);
    poll_until(&h, 25);
    for (int i = 0; i < 25; i++)
        assert_int_equal(h.outcome[i], FCE_OUTCOME_DELIVERED);
    assert_int_equal(stored_count(), first + 25);

    struct stored s;
    stored_load(&s);
    char text[4096];
    stored_get(&s, (size_t)first, "attributes.content-type", text,
               sizeof(text));
    assert_string_equal(text, "application/cloudevents+json");
    stored_get(&s, (size_t)first, "orderingKey", text, sizeof(text));
    assert_string_equal(text, ""); /* ordering is off */
    stored_data(&s, (size_t)first, text, sizeof(text));
    assert_int_equal(fce_gcp_json_validate(text, strlen(text)), 0);
    assert_non_null(strstr(text, "\"specversion\":\"1.0\""));
    assert_non_null(strstr(text, "\"id\":\"b-0\""));
    free(s.text);
    fce_pubsub_backend.close(h.state);
}

static void binary_mode_sets_ce_attributes(void **state)
{
    struct harness h;
    harness_init(&h, true, FCE_CONTENT_BINARY);
    open_backend(&h);
    long first = stored_count();
    add_record(&h, "wf1");
    publish(&h, 0, 1);
    poll_until(&h, 1);
    assert_int_equal(h.outcome[0], FCE_OUTCOME_DELIVERED);

    struct stored s;
    stored_load(&s);
    char text[256];
    stored_get(&s, (size_t)first, "attributes.ce-id", text, sizeof(text));
    assert_string_equal(text, "wf1-0");
    stored_get(&s, (size_t)first, "attributes.ce-specversion", text,
               sizeof(text));
    assert_string_equal(text, "1.0");
    stored_get(&s, (size_t)first, "attributes.content-type", text,
               sizeof(text));
    assert_string_equal(text, "application/protobuf");
    stored_get(&s, (size_t)first, "orderingKey", text, sizeof(text));
    assert_string_equal(text, "p/d/wf1");
    stored_data(&s, (size_t)first, text, sizeof(text));
    assert_string_equal(text, "bytes-0");
    free(s.text);
    fce_pubsub_backend.close(h.state);
}

static void batches_respect_count_and_bytes(void **state)
{
    struct harness h;
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.settings.max_messages = 10;
    open_backend(&h);
    long requests = fake_gcp_stat(&fake, "publish_requests");
    for (int i = 0; i < 35; i++)
        add_record(&h, "k");
    publish(&h, 0, 35);
    poll_until(&h, 35);
    assert_int_equal(fake_gcp_stat(&fake, "publish_requests"), requests + 4);
    fce_pubsub_backend.close(h.state);

    /* With messages of M bytes, (2500 - 15 + 1) / (M + 1) fit in one
     * request of at most 2500 bytes of JSON, and (2500 - E) / (M + 1 +
     * varint(M)) in a PublishRequest whose topic field takes E bytes. */
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.settings.max_request_bytes = 2500;
    open_backend(&h);
    requests = fake_gcp_stat(&fake, "publish_requests");
    for (int i = 0; i < 12; i++)
        add_record(&h, "k");
    struct fce_pubsub_limits limits = {2500, 2500, 100, 256, 1024, 1024, 0};
    struct fce_buf scratch = FCE_BUF_INIT, message = FCE_BUF_INIT;
    char reason[200];
    size_t per_request;
    if (is_grpc()) {
        assert_int_equal(fce_pubsub_render_proto(&h.records[11].ce,
                                                 FCE_CONTENT_STRUCTURED, false,
                                                 &limits, &scratch, &message,
                                                 reason, sizeof(reason)),
                         0);
        size_t topic = strlen("projects/fce-test/topics/fce-topic");
        size_t envelope = 1 + fce_pubsub_grpc_varint_size(topic) + topic;
        per_request =
            (2500 - envelope) /
            (1 + fce_pubsub_grpc_varint_size(message.len) + message.len);
    } else {
        assert_int_equal(
            fce_pubsub_render_message(&h.records[11].ce, FCE_CONTENT_STRUCTURED,
                                      false, &limits, &scratch, &message,
                                      reason, sizeof(reason)),
            0);
        per_request =
            (2500 - FCE_PUBSUB_ENVELOPE_BYTES + 1) / (message.len + 1);
    }
    fce_buf_free(&scratch);
    fce_buf_free(&message);
    publish(&h, 0, 12);
    poll_until(&h, 12);
    long sent = fake_gcp_stat(&fake, "publish_requests") - requests;
    assert_true(per_request > 1);
    assert_int_equal(sent, (long)((12 + per_request - 1) / per_request));
    for (int i = 0; i < 12; i++)
        assert_int_equal(h.outcome[i], FCE_OUTCOME_DELIVERED);
    fce_pubsub_backend.close(h.state);
}

/* Seq order of the ids of key in the fake's messages from first on. */
static void check_key_order(size_t first, const char *key,
                            const char *const *want, size_t n)
{
    struct stored s;
    stored_load(&s);
    long total = fce_gcp_json_array_count(&s.list);
    size_t seen = 0;
    for (size_t i = first; i < (size_t)total; i++) {
        char k[64], id[64];
        stored_get(&s, i, "orderingKey", k, sizeof(k));
        if (strcmp(k, key) != 0)
            continue;
        stored_get(&s, i, "attributes.ce-id", id, sizeof(id));
        assert_true(seen < n);
        assert_string_equal(id, want[seen]);
        seen++;
    }
    assert_int_equal(seen, n);
    free(s.text);
}

static void failed_key_waits_others_flow(void **state)
{
    struct harness h;
    harness_init(&h, true, FCE_CONTENT_BINARY);
    open_backend(&h);
    size_t first = (size_t)stored_count();
    assert_int_equal(fake_gcp_fail(&fake, "{\"orderingKey\": \"p/d/A\", "
                                          "\"status\": 503, \"count\": 1}"),
                     0);
    add_record(&h, "A"); /* 0 */
    add_record(&h, "B"); /* 1 */
    add_record(&h, "A"); /* 2 */
    add_record(&h, "B"); /* 3 */
    publish(&h, 0, 2);   /* A-0 is in flight when A-2 arrives */
    publish(&h, 2, 2);
    poll_until(&h, 3);
    assert_int_equal(h.outcome[0], FCE_OUTCOME_RETRY);
    assert_non_null(strstr(h.reason[0], is_grpc() ? "gRPC UNAVAILABLE"
                                                  : "HTTP 503 UNAVAILABLE"));
    assert_int_equal(h.outcome[1], FCE_OUTCOME_DELIVERED);
    assert_int_equal(h.outcome[3], FCE_OUTCOME_DELIVERED);

    /* A-2 must not overtake A-0 while A-0 waits for its retry. */
    poll_for(&h, 300);
    assert_int_equal(h.outcome[2], -1);

    h.outcome[0] = -1;
    h.completed--;
    h.records[0].attempts = 2;
    publish(&h, 0, 1);
    poll_until(&h, 4);
    assert_int_equal(h.outcome[0], FCE_OUTCOME_DELIVERED);
    assert_int_equal(h.outcome[2], FCE_OUTCOME_DELIVERED);

    const char *const order_a[] = {"A-0", "A-2"};
    check_key_order(first, "p/d/A", order_a, 2);
    const char *const order_b[] = {"B-1", "B-3"};
    check_key_order(first, "p/d/B", order_b, 2);
    assert_int_equal(fake_gcp_stat(&fake, "mixed_ordering_keys"), 0);
    fce_pubsub_backend.close(h.state);
}

static void key_not_blocked_after_last_attempt(void **state)
{
    struct harness h;
    harness_init(&h, true, FCE_CONTENT_BINARY);
    h.publisher.retry.max_attempts = 1; /* the driver dead-letters it */
    open_backend(&h);
    assert_int_equal(fake_gcp_fail(&fake, "{\"orderingKey\": \"p/d/C\", "
                                          "\"status\": 500, \"grpcStatus\": "
                                          "\"INTERNAL\", \"count\": 1}"),
                     0);
    add_record(&h, "C");
    add_record(&h, "C");
    publish(&h, 0, 1);
    publish(&h, 1, 1);
    poll_until(&h, 2);
    assert_int_equal(h.outcome[0], FCE_OUTCOME_RETRY);
    assert_int_equal(h.outcome[1], FCE_OUTCOME_DELIVERED);
    fce_pubsub_backend.close(h.state);
}

static void unauthorized_refreshes_once(void **state)
{
    struct harness h;
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    open_backend(&h);
    long tokens = fake_gcp_stat(&fake, "tokens_issued");
    assert_int_equal(fake_gcp_fail(&fake, "{\"status\": 401, \"grpcStatus\": "
                                          "\"UNAUTHENTICATED\", \"count\": 1}"),
                     0);
    add_record(&h, "k");
    add_record(&h, "k");
    publish(&h, 0, 2);
    poll_until(&h, 2);
    assert_int_equal(h.outcome[0], FCE_OUTCOME_DELIVERED);
    assert_int_equal(h.outcome[1], FCE_OUTCOME_DELIVERED);
    assert_int_equal(fake_gcp_stat(&fake, "tokens_issued"), tokens + 2);

    /* A second 401 after the refresh is a RETRY, not a loop. */
    assert_int_equal(fake_gcp_fail(&fake, "{\"status\": 401, \"grpcStatus\": "
                                          "\"UNAUTHENTICATED\", \"count\": 2}"),
                     0);
    add_record(&h, "k");
    publish(&h, 2, 1);
    poll_until(&h, 3);
    assert_int_equal(h.outcome[2], FCE_OUTCOME_RETRY);
    assert_non_null(strstr(h.reason[2], "UNAUTHENTICATED"));
    fce_pubsub_backend.close(h.state);
}

static void client_errors_are_rejected(void **state)
{
    struct harness h;
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    open_backend(&h);
    assert_int_equal(fake_gcp_fail(&fake, "{\"status\": 404, \"grpcStatus\": "
                                          "\"NOT_FOUND\", \"count\": 1}"),
                     0);
    assert_int_equal(fake_gcp_fail(&fake, "{\"status\": 429, \"grpcStatus\": "
                                          "\"RESOURCE_EXHAUSTED\", "
                                          "\"count\": 1}"),
                     0);
    add_record(&h, "k");
    publish(&h, 0, 1);
    poll_until(&h, 1);
    assert_int_equal(h.outcome[0], FCE_OUTCOME_REJECTED);
    assert_non_null(strstr(h.reason[0], is_grpc() ? "gRPC NOT_FOUND"
                                                  : "HTTP 404 NOT_FOUND"));
    add_record(&h, "k");
    publish(&h, 1, 1);
    poll_until(&h, 2);
    assert_int_equal(h.outcome[1], FCE_OUTCOME_RETRY);
    fce_pubsub_backend.close(h.state);
}

static void bad_message_isolated_from_batch(void **state)
{
    struct harness h;
    harness_init(&h, false, FCE_CONTENT_BINARY);
    /* Let a 2000-byte attribute past our check so the server rejects. */
    h.settings.max_attribute_value_bytes = 4096;
    open_backend(&h);
    for (int i = 0; i < 5; i++)
        add_record(&h, "k");
    memset(h.ids[2], 'x', 2000);
    h.ids[2][2000] = '\0';
    h.records[2].ce.attrs[1].value_len = 2000;
    publish(&h, 0, 5);
    poll_until(&h, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(h.outcome[i],
                         i == 2 ? FCE_OUTCOME_REJECTED : FCE_OUTCOME_DELIVERED);
    assert_non_null(strstr(h.reason[2], "INVALID_ARGUMENT"));
    fce_pubsub_backend.close(h.state);
}

static void limits_checked_before_sending(void **state)
{
    struct harness h;
    harness_init(&h, true, FCE_CONTENT_BINARY);
    h.settings.max_message_bytes = 300;
    open_backend(&h);
    long requests = fake_gcp_stat(&fake, "publish_requests");
    add_record(&h, "k");
    memset(h.ids[0], 'x', 1500); /* attribute value above 1024 bytes */
    h.records[0].ce.attrs[1].value_len = 1500;
    add_record(&h, "k");
    memset(h.keys[1], 'k', 1050); /* ordering key above 1024 bytes */
    h.records[1].ce.partition_key_len = 1050;
    add_record(&h, "k");
    memset(h.ids[2], 'y', 400); /* message above maxMessageBytes */
    h.records[2].ce.attrs[1].value_len = 400;
    add_record(&h, "k");
    h.records[3].ce.attrs[3].value = "\xc3\x28"; /* invalid UTF-8 */
    h.records[3].ce.attrs[3].value_len = 2;
    publish(&h, 0, 4);
    poll_until(&h, 4);
    assert_int_equal(fake_gcp_stat(&fake, "publish_requests"), requests);
    for (int i = 0; i < 4; i++)
        assert_int_equal(h.outcome[i], FCE_OUTCOME_REJECTED);
    assert_non_null(strstr(h.reason[0], "maxAttributeValueBytes 1024"));
    assert_non_null(strstr(h.reason[1], "maxOrderingKeyBytes 1024"));
    assert_non_null(strstr(h.reason[2], "maxMessageBytes 300"));
    assert_non_null(strstr(h.reason[3], "not valid UTF-8"));
    fce_pubsub_backend.close(h.state);

    harness_init(&h, false, FCE_CONTENT_BINARY);
    h.settings.max_attributes = 3;
    open_backend(&h);
    add_record(&h, "k");
    publish(&h, 0, 1);
    poll_until(&h, 1);
    assert_int_equal(h.outcome[0], FCE_OUTCOME_REJECTED);
    assert_non_null(strstr(h.reason[0], "6 attributes exceed maxAttributes 3"));
    fce_pubsub_backend.close(h.state);
}

static void connection_refused_is_retried(void **state)
{
    struct harness h;
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.settings.endpoint = "http://127.0.0.1:1";
    h.settings.auth = FCE_PUBSUB_AUTH_NONE;
    open_backend(&h);
    add_record(&h, "k");
    publish(&h, 0, 1);
    poll_until(&h, 1);
    assert_int_equal(h.outcome[0], FCE_OUTCOME_RETRY);
    fce_pubsub_backend.close(h.state);
}

static void open_rejects_bad_settings(void **state)
{
    struct harness h;
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.publisher.topic = "projects/p/topics/t";
    assert_int_equal(fce_pubsub_backend.open(&h.ctx, &h.state), -EINVAL);
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.settings.project_id = "";
    assert_int_equal(fce_pubsub_backend.open(&h.ctx, &h.state), -EINVAL);
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.settings.max_request_bytes = 20000000;
    assert_int_equal(fce_pubsub_backend.open(&h.ctx, &h.state), -EINVAL);
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.settings.credentials_file = "/nonexistent/key.json";
    assert_int_equal(fce_pubsub_backend.open(&h.ctx, &h.state), -EINVAL);
}

/* ---- pure functions ---- */

static void topic_ids_checked(void **state)
{
    static const char *const good[] = {"abc", "my-topic", "T.a_b~c+d%20",
                                       "flyte-events"};
    static const struct {
        const char *topic, *problem;
    } bad[] = {
        {"t1", "3 to 255"},
        {"1topic", "start with a letter"},
        {"google-topic", "\"goog\""},
        {"projects/p/topics/t", "only letters"},
        {"has space", "only letters"},
        {"", "3 to 255"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(fce_pubsub_topic_check(good[i], err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fce_pubsub_topic_check(bad[i].topic, err, sizeof(err)),
                         -EINVAL);
        if (!strstr(err, bad[i].problem))
            fail_msg("%s: \"%s\"", bad[i].topic, err);
    }
    char long_topic[300];
    memset(long_topic, 'a', 256);
    long_topic[256] = '\0';
    assert_int_equal(fce_pubsub_topic_check(long_topic, err, sizeof(err)),
                     -EINVAL);
    long_topic[255] = '\0';
    assert_int_equal(fce_pubsub_topic_check(long_topic, err, sizeof(err)), 0);
}

static void statuses_classified(void **state)
{
    static const struct {
        long http;
        const char *name;
        enum fce_pubsub_class want;
    } cases[] = {
        {429, NULL, FCE_PUBSUB_RETRY},
        {500, NULL, FCE_PUBSUB_RETRY},
        {502, NULL, FCE_PUBSUB_RETRY},
        {503, NULL, FCE_PUBSUB_RETRY},
        {504, NULL, FCE_PUBSUB_RETRY},
        {400, NULL, FCE_PUBSUB_REJECT},
        {403, NULL, FCE_PUBSUB_REJECT},
        {404, NULL, FCE_PUBSUB_REJECT},
        {413, NULL, FCE_PUBSUB_REJECT},
        {409, "ABORTED", FCE_PUBSUB_RETRY},
        {503, "UNAVAILABLE", FCE_PUBSUB_RETRY},
        {504, "DEADLINE_EXCEEDED", FCE_PUBSUB_RETRY},
        {429, "RESOURCE_EXHAUSTED", FCE_PUBSUB_RETRY},
        {500, "INTERNAL", FCE_PUBSUB_RETRY},
        {400, "INVALID_ARGUMENT", FCE_PUBSUB_REJECT},
        {403, "PERMISSION_DENIED", FCE_PUBSUB_REJECT},
        {404, "NOT_FOUND", FCE_PUBSUB_REJECT},
        {409, "ALREADY_EXISTS", FCE_PUBSUB_REJECT},
        {501, "UNIMPLEMENTED", FCE_PUBSUB_REJECT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (fce_pubsub_classify(cases[i].http, cases[i].name) != cases[i].want)
            fail_msg("%ld %s", cases[i].http,
                     cases[i].name ? cases[i].name : "-");
}

static void message_json_is_valid(void **state)
{
    struct harness h;
    harness_init(&h, true, FCE_CONTENT_BINARY);
    add_record(&h, "q\"uote");
    struct fce_pubsub_limits limits = {10000000, 10000000, 100, 256,
                                       1024,     1024,     0};
    struct fce_buf scratch = FCE_BUF_INIT, out = FCE_BUF_INIT;
    char reason[256];
    assert_int_equal(fce_pubsub_render_message(
                         &h.records[0].ce, FCE_CONTENT_BINARY, true, &limits,
                         &scratch, &out, reason, sizeof(reason)),
                     0);
    assert_int_equal(fce_gcp_json_validate(out.data, out.len), 0);
    struct fce_gcp_json_value v;
    char text[64];
    assert_int_equal(fce_gcp_json_find(out.data, out.len, "orderingKey", &v),
                     0);
    fce_gcp_json_string(&v, text, sizeof(text));
    assert_string_equal(text, "p/d/q\"uote");
    assert_int_equal(fce_gcp_json_find(out.data, out.len, "data", &v), 0);
    fce_gcp_json_string(&v, text, sizeof(text));
    assert_string_equal(text, "Ynl0ZXMtMA=="); /* "bytes-0" */

    /* Without ordering there is no orderingKey member. */
    fce_buf_reset(&out);
    assert_int_equal(fce_pubsub_render_message(
                         &h.records[0].ce, FCE_CONTENT_STRUCTURED, false,
                         &limits, &scratch, &out, reason, sizeof(reason)),
                     0);
    assert_int_equal(fce_gcp_json_find(out.data, out.len, "orderingKey", &v),
                     -ENOENT);
    fce_buf_free(&scratch);
    fce_buf_free(&out);
}

/* ---- gRPC only ---- */

static void grpc_calls_share_connection(void **state)
{
    struct harness h;
    harness_init(&h, true, FCE_CONTENT_BINARY);
    h.settings.max_in_flight = 8;
    open_backend(&h);
    long offset = grpc_front_log_size(current->front);
    assert_true(offset >= 0);

    /* The front delays calls of "slow" keys by 300 ms, so calls of six
     * keys overlap unless they wait for each other. */
    static const char *const keys[] = {"slow0", "slow1", "slow2",
                                       "slow3", "slow4", "slow5"};
    for (size_t round = 0; round < 2; round++) {
        for (size_t i = 0; i < 6; i++)
            add_record(&h, keys[i]);
        publish(&h, round * 6, 6);
        poll_until(&h, (round + 1) * 6);
    }
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(h.outcome[i], FCE_OUTCOME_DELIVERED);

    long peers, concurrent;
    assert_int_equal(
        grpc_front_calls(current->front, offset, &peers, &concurrent), 12);
    assert_int_equal(peers, 1); /* one connection for both rounds */
    assert_true(concurrent >= 4);
    fce_pubsub_backend.close(h.state);
}

static void grpc_http1_endpoint_retried(void **state)
{
    struct harness h;
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.settings.endpoint = fake.base_url; /* HTTP/1.1 only */
    open_backend(&h);
    add_record(&h, "k");
    publish(&h, 0, 1);
    poll_until(&h, 1);
    assert_int_equal(h.outcome[0], FCE_OUTCOME_RETRY);
    assert_non_null(strstr(h.reason[0], "gRPC call failed"));
    fce_pubsub_backend.close(h.state);
}

static void grpc_endpoint_path_rejected(void **state)
{
    struct harness h;
    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.settings.endpoint = "https://pubsub.googleapis.com/v1";
    h.settings.auth = FCE_PUBSUB_AUTH_NONE;
    assert_int_equal(fce_pubsub_backend.open(&h.ctx, &h.state), -EINVAL);

    harness_init(&h, false, FCE_CONTENT_STRUCTURED);
    h.settings.endpoint = "https://pubsub.googleapis.com/";
    h.settings.auth = FCE_PUBSUB_AUTH_NONE;
    open_backend(&h); /* a trailing slash is no path */
    fce_pubsub_backend.close(h.state);
}

/* Unpacks the framed request with protobuf-c and checks the framing. */
static Google__Pubsub__V1__PublishRequest *unpack_request(struct fce_buf *buf)
{
    const uint8_t *p = (const uint8_t *)buf->data;
    assert_true(buf->len > FCE_PUBSUB_GRPC_PREFIX);
    assert_int_equal(p[0], 0);
    size_t len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 |
                 (size_t)p[4];
    assert_int_equal(len, buf->len - FCE_PUBSUB_GRPC_PREFIX);
    Google__Pubsub__V1__PublishRequest *req =
        google__pubsub__v1__publish_request__unpack(NULL, len,
                                                    p + FCE_PUBSUB_GRPC_PREFIX);
    assert_non_null(req);
    return req;
}

static const char *attribute(const Google__Pubsub__V1__PubsubMessage *m,
                             const char *key)
{
    for (size_t i = 0; i < m->n_attributes; i++)
        if (strcmp(m->attributes[i]->key, key) == 0)
            return m->attributes[i]->value;
    return NULL;
}

static void grpc_request_round_trip(void **state)
{
    struct harness h;
    harness_init(&h, true, FCE_CONTENT_BINARY);
    add_record(&h, "\xc3\xa9tape");
    add_record(&h, "b");
    struct fce_pubsub_limits limits = {10000000, 10000000, 100, 256,
                                       1024,     1024,     40};
    struct fce_buf scratch = FCE_BUF_INIT, m1 = FCE_BUF_INIT, m2 = FCE_BUF_INIT,
                   body = FCE_BUF_INIT;
    char reason[256];
    assert_int_equal(
        fce_pubsub_render_proto(&h.records[0].ce, FCE_CONTENT_BINARY, true,
                                &limits, &scratch, &m1, reason, sizeof(reason)),
        0);
    assert_int_equal(
        fce_pubsub_render_proto(&h.records[1].ce, FCE_CONTENT_STRUCTURED, false,
                                &limits, &scratch, &m2, reason, sizeof(reason)),
        0);
    assert_int_equal(fce_pubsub_grpc_begin(&body, "projects/p/topics/t-1"), 0);
    assert_int_equal(fce_pubsub_grpc_add(&body, m1.data, m1.len), 0);
    assert_int_equal(fce_pubsub_grpc_add(&body, m2.data, m2.len), 0);
    assert_int_equal(fce_pubsub_grpc_finish(&body), 0);

    Google__Pubsub__V1__PublishRequest *req = unpack_request(&body);
    assert_string_equal(req->topic, "projects/p/topics/t-1");
    assert_int_equal(req->n_messages, 2);
    const Google__Pubsub__V1__PubsubMessage *a = req->messages[0];
    assert_int_equal(a->data.len, strlen("bytes-0"));
    assert_memory_equal(a->data.data, "bytes-0", a->data.len);
    assert_string_equal(a->ordering_key, "p/d/\xc3\xa9tape");
    assert_string_equal(attribute(a, "ce-id"), "\xc3\xa9tape-0");
    assert_string_equal(attribute(a, "ce-specversion"), "1.0");
    assert_string_equal(attribute(a, "content-type"), "application/protobuf");

    const Google__Pubsub__V1__PubsubMessage *b = req->messages[1];
    assert_string_equal(b->ordering_key, ""); /* ordering off */
    assert_int_equal(b->n_attributes, 1);
    assert_string_equal(attribute(b, "content-type"),
                        "application/cloudevents+json");
    assert_int_equal(
        fce_gcp_json_validate((const char *)b->data.data, b->data.len), 0);
    google__pubsub__v1__publish_request__free_unpacked(req, NULL);

    /* The request limit counts the topic field (40 bytes here). */
    limits.max_request_bytes = m1.len + 2 + 40 - 1;
    fce_buf_reset(&m1);
    assert_int_equal(
        fce_pubsub_render_proto(&h.records[0].ce, FCE_CONTENT_BINARY, true,
                                &limits, &scratch, &m1, reason, sizeof(reason)),
        -EMSGSIZE);
    assert_int_equal(m1.len, 0);
    assert_non_null(strstr(reason, "bytes of PublishRequest"));
    fce_buf_free(&scratch);
    fce_buf_free(&m1);
    fce_buf_free(&m2);
    fce_buf_free(&body);
}

static void frame(struct fce_buf *out, uint8_t flag, const void *data,
                  size_t len)
{
    uint8_t prefix[5] = {flag, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                         (uint8_t)(len >> 8), (uint8_t)len};
    fce_buf_reset(out);
    assert_int_equal(fce_buf_append(out, prefix, 5), 0);
    assert_int_equal(fce_buf_append(out, data, len), 0);
}

static void grpc_response_ids_read(void **state)
{
    char *ids[] = {"1", "22", "333"};
    Google__Pubsub__V1__PublishResponse response =
        GOOGLE__PUBSUB__V1__PUBLISH_RESPONSE__INIT;
    response.n_message_ids = 3;
    response.message_ids = ids;
    uint8_t packed[64];
    size_t len = google__pubsub__v1__publish_response__pack(&response, packed);
    struct fce_buf body = FCE_BUF_INIT;
    char err[160];

    frame(&body, 0, packed, len);
    assert_int_equal(
        fce_pubsub_grpc_response_ids(body.data, body.len, err, sizeof(err)), 3);
    frame(&body, 0, "", 0); /* an empty PublishResponse: no ids */
    assert_int_equal(
        fce_pubsub_grpc_response_ids(body.data, body.len, err, sizeof(err)), 0);

    frame(&body, 1, packed, len);
    assert_int_equal(
        fce_pubsub_grpc_response_ids(body.data, body.len, err, sizeof(err)),
        -EPROTO);
    assert_non_null(strstr(err, "compressed"));
    frame(&body, 0, packed, len);
    assert_int_equal(
        fce_pubsub_grpc_response_ids(body.data, body.len - 1, err, sizeof(err)),
        -EPROTO);
    assert_non_null(strstr(err, "frame says"));
    assert_int_equal(
        fce_pubsub_grpc_response_ids(body.data, 3, err, sizeof(err)), -EPROTO);
    frame(&body, 0,
          "\x0a\x05"
          "ab",
          4); /* a string past the end */
    assert_int_equal(
        fce_pubsub_grpc_response_ids(body.data, body.len, err, sizeof(err)),
        -EPROTO);
    assert_non_null(strstr(err, "not a valid PublishResponse"));
    fce_buf_free(&body);
}

static void grpc_trailers_parsed(void **state)
{
    char text[64];
    snprintf(text, sizeof(text), "a%%20b%%3A%%c3%%a9%%2");
    size_t len = fce_pubsub_grpc_decode_message(text, strlen(text));
    assert_string_equal(text, "a b:\xc3\xa9%2");
    assert_int_equal(len, strlen("a b:\xc3\xa9%2"));
    snprintf(text, sizeof(text), "%%zz%%");
    fce_pubsub_grpc_decode_message(text, strlen(text));
    assert_string_equal(text, "%zz%");

    assert_int_equal(fce_pubsub_grpc_parse_status("0", 1), 0);
    assert_int_equal(fce_pubsub_grpc_parse_status("14", 2), 14);
    assert_int_equal(fce_pubsub_grpc_parse_status("", 0), -EPROTO);
    assert_int_equal(fce_pubsub_grpc_parse_status("1x", 2), -EPROTO);
    assert_int_equal(fce_pubsub_grpc_parse_status("123", 3), -EPROTO);

    assert_string_equal(fce_pubsub_grpc_code_name(14), "UNAVAILABLE");
    assert_string_equal(fce_pubsub_grpc_code_name(16), "UNAUTHENTICATED");
    assert_string_equal(fce_pubsub_grpc_code_name(17), "UNKNOWN");
    assert_string_equal(fce_pubsub_grpc_code_name(-1), "UNKNOWN");
    assert_int_equal(fce_pubsub_grpc_code_from_http(401),
                     FCE_GRPC_UNAUTHENTICATED);
    assert_int_equal(fce_pubsub_grpc_code_from_http(503), FCE_GRPC_UNAVAILABLE);
    assert_int_equal(fce_pubsub_grpc_code_from_http(404),
                     FCE_GRPC_UNIMPLEMENTED);
    assert_int_equal(fce_pubsub_grpc_code_from_http(418), FCE_GRPC_UNKNOWN);

    /* The classes of the codes the transport reports by name. */
    static const struct {
        int code;
        enum fce_pubsub_class want;
    } classes[] = {
        {FCE_GRPC_UNAVAILABLE, FCE_PUBSUB_RETRY},
        {FCE_GRPC_DEADLINE_EXCEEDED, FCE_PUBSUB_RETRY},
        {FCE_GRPC_RESOURCE_EXHAUSTED, FCE_PUBSUB_RETRY},
        {FCE_GRPC_ABORTED, FCE_PUBSUB_RETRY},
        {FCE_GRPC_INVALID_ARGUMENT, FCE_PUBSUB_REJECT},
        {FCE_GRPC_NOT_FOUND, FCE_PUBSUB_REJECT},
        {FCE_GRPC_PERMISSION_DENIED, FCE_PUBSUB_REJECT},
        {FCE_GRPC_FAILED_PRECONDITION, FCE_PUBSUB_REJECT},
        {FCE_GRPC_UNIMPLEMENTED, FCE_PUBSUB_REJECT},
    };
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (fce_pubsub_classify(200, fce_pubsub_grpc_code_name(
                                         classes[i].code)) != classes[i].want)
            fail_msg("gRPC code %d", classes[i].code);
}

static int start_fake(void **state)
{
    if (fake_gcp_start(&fake, NULL) < 0)
        return -1;
    if (grpc_front_start(&front, fake.base_url, 0) < 0)
        return -1;
    return grpc_front_start(&tls_front, fake.base_url, 1);
}

static int stop_fake(void **state)
{
    grpc_front_stop(&tls_front);
    grpc_front_stop(&front);
    fake_gcp_stop(&fake);
    return 0;
}

/* Sets the variant a test runs with (its initial state). */
static int use_variant(void **state)
{
    current = *state;
    return 0;
}

#define VARIANT(test, variant, label)                                          \
    {                                                                          \
        label " " #test, test, use_variant, NULL, (void *)&variant             \
    }
#define ALL_VARIANTS(test)                                                     \
    VARIANT(test, rest_variant, "rest"), VARIANT(test, grpc_variant, "grpc"),  \
        VARIANT(test, tls_variant, "grpc-tls")

int main(void)
{
    unsetenv("PUBSUB_EMULATOR_HOST");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(topic_ids_checked),
        cmocka_unit_test(statuses_classified),
        cmocka_unit_test(message_json_is_valid),
        cmocka_unit_test(grpc_request_round_trip),
        cmocka_unit_test(grpc_response_ids_read),
        cmocka_unit_test(grpc_trailers_parsed),
        ALL_VARIANTS(structured_messages_delivered),
        ALL_VARIANTS(binary_mode_sets_ce_attributes),
        ALL_VARIANTS(batches_respect_count_and_bytes),
        ALL_VARIANTS(failed_key_waits_others_flow),
        ALL_VARIANTS(key_not_blocked_after_last_attempt),
        ALL_VARIANTS(unauthorized_refreshes_once),
        ALL_VARIANTS(client_errors_are_rejected),
        ALL_VARIANTS(bad_message_isolated_from_batch),
        ALL_VARIANTS(limits_checked_before_sending),
        ALL_VARIANTS(connection_refused_is_retried),
        ALL_VARIANTS(open_rejects_bad_settings),
        VARIANT(grpc_calls_share_connection, grpc_variant, "grpc"),
        VARIANT(grpc_calls_share_connection, tls_variant, "grpc-tls"),
        VARIANT(grpc_http1_endpoint_retried, grpc_variant, "grpc"),
        VARIANT(grpc_endpoint_path_rejected, grpc_variant, "grpc"),
    };
    return cmocka_run_group_tests(tests, start_fake, stop_fake);
}
