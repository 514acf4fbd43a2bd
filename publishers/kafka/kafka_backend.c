/*
 * The kafka backend. publish() hands each record to rd_kafka_producev()
 * with the record as the message opaque; the delivery report, served by
 * rd_kafka_poll() on the driver's thread, completes it. Binary mode sends
 * the request bytes straight from the ring (no copy: the ring keeps them
 * until the record completes); structured mode renders the JSON into a
 * value block (kafka_values.h), which keeps it until the delivery report.
 *
 * Nothing is dropped silently: a full local queue makes publish() take
 * fewer records (they stay in the ring), a message timeout or a broker
 * error is retried by the driver, and a fatal producer error (idempotence
 * state lost) makes poll() fail, so the driver destroys the producer and
 * publishes what was in flight to a new one.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fce_kafka.h"
#include "fce_log.h"
#include "kafka_values.h"

#define COMPONENT           "kafka"
#define LOG_INTERVAL_MS     5000
#define METADATA_TIMEOUT_MS 2000

/*
 * Test hook: with FCE_KAFKA_TEST_FATAL_AFTER=N in the environment, the
 * producer raises a fatal error (rd_kafka_test_fatal_error()) after its
 * Nth delivery report, once per process, so end-to-end tests can prove
 * that a fatal error recreates the producer and loses nothing.
 */
#define TEST_FATAL_ENV "FCE_KAFKA_TEST_FATAL_AFTER"

static struct {
    bool parsed;
    uint64_t after; /* 0: the hook is off */
    uint64_t reports;
    bool raised;
} test_fatal;

struct kafka_state {
    const struct fce_backend_ctx *ctx;
    const struct fce_kafka_settings *settings;
    rd_kafka_t *producer;
    rd_kafka_topic_t *topic;
    struct fce_kafka_values values; /* structured-mode message values */
    bool fatal;   /* the producer cannot continue: recreate it */
    bool closing; /* delivery reports no longer complete records */
};

static const char *publisher_name(const struct kafka_state *state)
{
    return state->ctx->publisher->name;
}

/* Reads the test hook's setting once. Returns 0 or -EINVAL (logged). */
static int parse_test_fatal(const char *publisher)
{
    const char *text = getenv(TEST_FATAL_ENV);
    char *end;

    if (test_fatal.parsed)
        return 0;
    test_fatal.parsed = true;
    if (!text || !text[0])
        return 0;
    errno = 0;
    test_fatal.after = strtoull(text, &end, 10);
    if (errno || *end || text[0] == '-' || test_fatal.after == 0) {
        fce_error(COMPONENT,
                  "invalid " TEST_FATAL_ENV "; use a whole number of "
                  "deliveries of at least 1, or unset it",
                  "publisher=%s value=%s", publisher, fce_log_quote(text));
        return -EINVAL;
    }
    fce_warn(COMPONENT,
             "test hook set: a fatal producer error will be raised once, "
             "after the given number of delivery reports",
             "publisher=%s deliveries=%llu", publisher,
             (unsigned long long)test_fatal.after);
    return 0;
}

static void count_for_test_fatal(rd_kafka_t *rk)
{
    if (test_fatal.after == 0 || test_fatal.raised)
        return;
    if (++test_fatal.reports < test_fatal.after)
        return;
    test_fatal.raised = true;
    rd_kafka_test_fatal_error(rk,
                              RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                              "raised by " TEST_FATAL_ENV);
}

/* Delivery report: completes the record it carries. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message,
                        void *opaque)
{
    struct kafka_state *state = opaque;
    struct fce_pub_record *record = message->_private;
    enum fce_outcome outcome = fce_kafka_outcome(message->err);

    if (!record)
        return;
    if (record->backend_data) {
        fce_kafka_values_release(&state->values, record->backend_data);
        record->backend_data = NULL;
    }
    if (state->closing)
        return;
    state->ctx->complete(state->ctx->driver, record, outcome,
                         message->err ? rd_kafka_err2str(message->err) : NULL);
    count_for_test_fatal(rk);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    static struct fce_log_limit limit;
    struct kafka_state *state = opaque;
    char fatal_reason[512];

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_resp_err_t cause =
            rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));

        state->fatal = true;
        fce_error(COMPONENT, "fatal producer error; recreating the producer",
                  "publisher=%s error=%s reason=%s", publisher_name(state),
                  rd_kafka_err2name(cause), fce_log_quote(fatal_reason));
        return;
    }
    fce_log_limited(&limit, LOG_INTERVAL_MS, FCE_LOG_WARN, COMPONENT,
                    err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
                        ? "all brokers are down; events stay in the ring"
                        : "kafka client error",
                    "publisher=%s error=%s reason=%s", publisher_name(state),
                    rd_kafka_err2name((rd_kafka_resp_err_t)err),
                    fce_log_quote(reason));
}

/* librdkafka's own log lines, forwarded to the main queue (log.queue) so
 * they are written from the driver's thread. */
static void on_log(const rd_kafka_t *rk, int level, const char *facility,
                   const char *message)
{
    /* One rate limit per level: error, warn, and info with debug. */
    static struct fce_log_limit limits[3];
    enum fce_log_level ours = FCE_LOG_DEBUG;
    size_t slot = 2;

    /* librdkafka passes syslog levels: 3 error, 4 warning, 5 notice. */
    if (level <= 3) {
        ours = FCE_LOG_ERROR;
        slot = 0;
    } else if (level == 4) {
        ours = FCE_LOG_WARN;
        slot = 1;
    } else if (level == 5) {
        ours = FCE_LOG_INFO;
    }

    fce_log_limited(&limits[slot], 1000, ours, COMPONENT, "librdkafka",
                    "client=%s facility=%s text=%s", rd_kafka_name(rk),
                    fce_log_quote(facility), fce_log_quote(message));
}

static int create_producer(struct kafka_state *state)
{
    const struct fce_publisher_config *publisher = state->ctx->publisher;
    const char *origin = publisher->origin ? publisher->origin : "publisher";
    rd_kafka_conf_t *conf = NULL;
    char err[512] = "", client_id[128];
    int rc;

    snprintf(client_id, sizeof(client_id), "fce-publisher-%s", publisher->name);
    rc = fce_kafka_conf_build(state->settings, origin, client_id, &conf, err,
                              sizeof(err));
    if (rc == 0 && rd_kafka_conf_set(conf, "log.queue", "true", err,
                                     sizeof(err)) != RD_KAFKA_CONF_OK)
        rc = -EINVAL;
    if (rc) {
        fce_error(COMPONENT, "invalid kafka settings", "publisher=%s error=%s",
                  publisher->name, fce_log_quote(err));
        if (conf)
            rd_kafka_conf_destroy(conf);
        return rc;
    }

    rd_kafka_conf_set_opaque(conf, state);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);

    state->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!state->producer) {
        /* rd_kafka_new() frees conf only when it succeeds. */
        rd_kafka_conf_destroy(conf);
        fce_error(COMPONENT, "cannot create the kafka producer",
                  "publisher=%s error=%s", publisher->name, fce_log_quote(err));
        return -EINVAL;
    }
    rd_kafka_set_log_queue(state->producer, NULL);
    return 0;
}

/* Logs once at open whether the brokers answer and know the topic; the
 * producer works either way and keeps retrying. */
static void check_metadata(struct kafka_state *state)
{
    const struct rd_kafka_metadata *metadata = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(
        state->producer, 0, state->topic, &metadata, METADATA_TIMEOUT_MS);

    if (err) {
        fce_warn(COMPONENT,
                 "brokers do not answer yet; events stay in the ring until "
                 "they do",
                 "publisher=%s topic=%s error=%s", publisher_name(state),
                 fce_log_quote(state->ctx->publisher->topic),
                 rd_kafka_err2name(err));
        return;
    }
    if (metadata->topic_cnt == 1 && metadata->topics[0].err)
        fce_warn(COMPONENT, "topic is not available; check its name and ACLs",
                 "publisher=%s topic=%s error=%s", publisher_name(state),
                 fce_log_quote(state->ctx->publisher->topic),
                 rd_kafka_err2name(metadata->topics[0].err));
    rd_kafka_metadata_destroy(metadata);
}

static void destroy_producer(struct kafka_state *state)
{
    state->closing = true;
    if (state->producer) {
        /* Never wait in rd_kafka_flush(): the driver has drained what it
         * could, and purged records stay in the ring for the next run. */
        rd_kafka_purge(state->producer,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(state->producer, 0);
    }
    if (state->topic)
        rd_kafka_topic_destroy(state->topic);
    if (state->producer)
        rd_kafka_destroy(state->producer);
    state->topic = NULL;
    state->producer = NULL;
    /* librdkafka uses no value now, reported or not. */
    fce_kafka_values_free(&state->values);
}

/*
 * Tunes glibc's malloc for this process, which runs one publisher.
 * - Fast bins off: in glibc, a request of 1 KB or more first consolidates
 *   every free fast-bin chunk, such as the headers of the messages just
 *   delivered.
 * - Freed memory is kept (up to 64 MiB at the top of a heap) and buffers
 *   up to 4 MiB come from the heap, not from mmap(). librdkafka allocates
 *   and frees a buffer of about 1 MB per produce request. When each one
 *   went back to the kernel, the next one faulted in every page again,
 *   which took about a sixth of the broker thread's time in bench-kafka.
 */
static void tune_malloc(void)
{
#ifdef M_MXFAST
    mallopt(M_MXFAST, 0);
#endif
#ifdef M_TRIM_THRESHOLD
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
#endif
}

static int kafka_open(const struct fce_backend_ctx *ctx, void **opaque)
{
    const struct fce_publisher_config *publisher = ctx->publisher;
    struct kafka_state *state;
    int rc;

    if (!ctx->settings || !publisher->topic || !publisher->topic[0]) {
        fce_error(COMPONENT, "topicName is missing; set the Kafka topic",
                  "publisher=%s", publisher->name);
        return -EINVAL;
    }
    if (parse_test_fatal(publisher->name))
        return -EINVAL;
    tune_malloc();
    state = calloc(1, sizeof(*state));
    if (!state)
        return -ENOMEM;
    state->ctx = ctx;
    state->settings = ctx->settings;

    rc = create_producer(state);
    if (rc)
        goto fail;
    state->topic = rd_kafka_topic_new(state->producer, publisher->topic, NULL);
    if (!state->topic) {
        rc = -EINVAL;
        fce_error(COMPONENT, "invalid topic", "publisher=%s topic=%s error=%s",
                  publisher->name, fce_log_quote(publisher->topic),
                  rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    if (state->settings->tls.enabled &&
        state->settings->tls.insecure_skip_verify)
        fce_warn(COMPONENT,
                 "TLS certificate verification is off "
                 "(tlsConfig.insecureSkipVerify)",
                 "publisher=%s", publisher->name);
    check_metadata(state);
    *opaque = state;
    return 0;

fail:
    destroy_producer(state);
    free(state);
    return rc;
}

static int64_t unix_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static rd_kafka_headers_t *make_headers(const struct kafka_state *state,
                                        const struct fce_ce *ce)
{
    rd_kafka_headers_t *headers;
    struct fce_ce_headers binary;

    if (state->ctx->publisher->content_mode == FCE_CONTENT_STRUCTURED) {
        headers = rd_kafka_headers_new(1);
        rd_kafka_header_add(headers, "content-type", -1,
                            "application/cloudevents+json", -1);
        return headers;
    }
    fce_ce_binary_headers(ce, FCE_CE_BINDING_KAFKA, &binary);
    headers = rd_kafka_headers_new(binary.count);
    for (size_t i = 0; i < binary.count; i++)
        rd_kafka_header_add(headers, binary.items[i].name, -1,
                            binary.items[i].value,
                            (ssize_t)binary.items[i].value_len);
    return headers;
}

static const char *record_key(const struct kafka_state *state,
                              const struct fce_ce *ce, size_t *len)
{
    *len = 0;
    switch (state->settings->key) {
    case FCE_KAFKA_KEY_ID:
        return fce_ce_attr(ce, "id", len);
    case FCE_KAFKA_KEY_NONE:
        return NULL;
    default:
        *len = ce->partition_key_len;
        return ce->partition_key;
    }
}

static rd_kafka_resp_err_t produce(struct kafka_state *state,
                                   struct fce_pub_record *record,
                                   int64_t timestamp_ms)
{
    const struct fce_ce *ce = &record->ce;
    struct fce_kafka_value_block *block = NULL;
    const void *value = ce->data;
    size_t value_len = ce->data_len, key_len;
    const char *key = record_key(state, ce, &key_len);
    rd_kafka_headers_t *headers;
    rd_kafka_resp_err_t err;

    if (state->ctx->publisher->content_mode == FCE_CONTENT_STRUCTURED) {
        char *room = fce_kafka_values_reserve(&state->values,
                                              fce_ce_json_size_max(ce), &block);

        /* Out of memory: like a full queue, try again after a poll. */
        if (!room)
            return RD_KAFKA_RESP_ERR__QUEUE_FULL;
        value = room;
        value_len = fce_ce_write_json(ce, room);
        fce_kafka_values_commit(&state->values, block, value_len);
    }

    /* No RD_KAFKA_MSG_F_COPY: the ring or the value block outlives the
     * message, until its delivery report. */
    headers = make_headers(state, ce);
    record->backend_data = block;
    err = rd_kafka_producev(
        state->producer, RD_KAFKA_V_RKT(state->topic), RD_KAFKA_V_MSGFLAGS(0),
        RD_KAFKA_V_VALUE((void *)value, value_len),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_OPAQUE(record),
        RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(headers); /* owned by us on failure */
        record->backend_data = NULL;
        if (block)
            fce_kafka_values_release(&state->values, block);
    }
    return err;
}

static int kafka_publish(void *opaque, struct fce_pub_record **records,
                         size_t count)
{
    struct kafka_state *state = opaque;
    int64_t now_ms = unix_ms();

    if (state->fatal)
        return -ENOTRECOVERABLE;
    /* One creation time for the batch, read once: librdkafka would read
     * the clock for every message. */
    for (size_t i = 0; i < count; i++) {
        rd_kafka_resp_err_t err = produce(state, records[i], now_ms);

        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return (int)i; /* the rest waits in the ring */
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
            state->fatal = true;
            return i > 0 ? (int)i : -ENOTRECOVERABLE;
        }
        state->ctx->complete(state->ctx->driver, records[i],
                             fce_kafka_outcome(err), rd_kafka_err2str(err));
    }
    return (int)count;
}

static int kafka_poll(void *opaque, int timeout_ms)
{
    struct kafka_state *state = opaque;

    if (!state->fatal)
        rd_kafka_poll(state->producer, timeout_ms);
    return state->fatal ? -ENOTRECOVERABLE : 0;
}

static void kafka_close(void *opaque)
{
    struct kafka_state *state = opaque;

    destroy_producer(state);
    free(state);
}

const struct fce_backend fce_kafka_backend = {
    .type = &fce_kafka_type,
    .open = kafka_open,
    .publish = kafka_publish,
    .poll = kafka_poll,
    .close = kafka_close,
};
