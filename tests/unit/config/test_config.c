/* Unit tests of fce_config_load: FlyteAdmin's examples, every error path,
 * secrets, unknown keys, defaults, value parsers and the dump. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fce_config.h"
#include "fce_config_internal.h"

static int load_text(const char *text, struct fce_config **config,
                     struct fce_diag *diag)
{
    memset(diag, 0, sizeof(*diag));
    return fce_config_load_string(text, strlen(text), "test.yaml", config,
                                  diag);
}

static bool has_message(const struct fce_diag *diag, const char *part)
{
    for (size_t i = 0; i < diag->count; i++)
        if (strstr(diag->messages[i], part))
            return true;
    return false;
}

static void print_diag(const struct fce_diag *diag)
{
    for (size_t i = 0; i < diag->count; i++)
        print_message("# %s\n", diag->messages[i]);
}

static const char *data_path(const char *name, char *buf, size_t size)
{
    const char *top = getenv("FCE_TOP");
    snprintf(buf, size, "%s/tests/data/config/%s", top ? top : ".", name);
    return buf;
}

static void skip_without(const char *type)
{
    if (!fce_backend_type_find(type)) {
        print_message("# backend %s is not linked\n", type);
        skip();
    }
}

static void flyteadmin_aws_example(void **state)
{
    char path[512];
    struct fce_config *config;
    struct fce_diag diag = {0};
    skip_without("sns");

    int rc = fce_config_load(
        data_path("flyteadmin-aws.yaml", path, sizeof(path)), &config, &diag);
    print_diag(&diag);
    assert_int_equal(rc, 0);
    assert_int_equal(diag.warning_count, 0);
    assert_int_equal(config->publisher_count, 1);
    const struct fce_publisher_config *p = &config->publishers[0];
    assert_string_equal(p->name, "sns");
    assert_string_equal(p->type, "sns");
    assert_string_equal(p->topic, "arn:aws:sns:us-east-2:123456:123-my-topic");
    assert_int_equal(p->event_types, FCE_EVENT_TYPES_ALL);
    assert_int_equal(p->content_mode, FCE_CONTENT_STRUCTURED);
    assert_string_equal(p->origin, "cloudEvents");
    assert_string_equal(p->ring_path, "/dev/shm/fce/sns.ring");
    assert_non_null(p->settings);
    assert_ptr_equal(fce_config_publisher(config, "sns"), p);
    fce_config_free(config);
    fce_diag_free(&diag);
}

static void flyteadmin_kafka_example(void **state)
{
    char path[512];
    struct fce_config *config;
    struct fce_diag diag = {0};
    skip_without("kafka");

    int rc = fce_config_load(
        data_path("flyteadmin-kafka.yaml", path, sizeof(path)), &config, &diag);
    print_diag(&diag);
    assert_int_equal(rc, 0);
    const struct fce_publisher_config *p =
        fce_config_publisher(config, "kafka");
    assert_non_null(p);
    assert_string_equal(p->topic, "myTopic");
    /* FlyteAdmin's Kafka sender writes binary mode. */
    assert_int_equal(p->content_mode, FCE_CONTENT_BINARY);

    struct fce_buf dump = FCE_BUF_INIT;
    assert_int_equal(fce_config_dump(config, &dump), 0);
    assert_int_equal(fce_buf_append(&dump, "", 1), 0);
    assert_non_null(strstr(dump.data, "brokers: [\"127.0.0.1:9092\"]"));
    fce_buf_free(&dump);
    fce_config_free(config);
    fce_diag_free(&diag);
}

/* The documented GCP example uses gcp.region, which FlyteAdmin never
 * reads: it fails there ("project id is required") and here. */
static void flyteadmin_gcp_example(void **state)
{
    char path[512];
    struct fce_config *config;
    struct fce_diag diag = {0};
    skip_without("pubsub");

    int rc = fce_config_load(
        data_path("flyteadmin-gcp.yaml", path, sizeof(path)), &config, &diag);
    print_diag(&diag);
    assert_int_equal(rc, -EINVAL);
    assert_null(config);
    assert_int_equal(diag.error_count, 1);
    assert_int_equal(diag.warning_count, 1);
    assert_true(has_message(&diag, "flyteadmin-gcp.yaml:4:5: "
                                   "cloudEvents.gcp.projectId: missing"));
    assert_true(has_message(&diag, "required when type is gcp"));
    assert_true(has_message(&diag, "warning: "));
    assert_true(has_message(&diag, "cloudEvents.gcp.region: not a key of type "
                                   "gcp; the project is gcp.projectId"));
    fce_diag_free(&diag);

    rc = fce_config_load(
        data_path("flyteadmin-gcp-project.yaml", path, sizeof(path)), &config,
        &diag);
    print_diag(&diag);
    assert_int_equal(rc, 0);
    assert_non_null(fce_config_publisher(config, "pubsub"));
    assert_string_equal(fce_config_publisher(config, "pubsub")->topic,
                        "my-topic");
    fce_config_free(config);
    fce_diag_free(&diag);
}

struct bad_case {
    const char *yaml;
    const char *message; /* part of one error or warning */
    int rc;              /* expected return */
};

#define FILE_PUB                                                               \
    "publishers:\n  - name: out\n    type: file\n    file: {path: /tmp/x}\n"

#define KAFKA_PUB                                                              \
    "publishers:\n  - name: k\n    type: kafka\n    topicName: t\n"

static const struct bad_case bad_cases[] = {
    {"cloudEvents: {enable: true, type: nats}\n",
     "cloudEvents.type: 'nats' is not supported by this service", -EINVAL},
    {"cloudEvents: {enable: true, type: local}\n", "use aws (SNS), gcp",
     -EINVAL},
    {"cloudEvents: {enable: true, type: sandbox}\n" FILE_PUB,
     "'sandbox' is not supported", -EINVAL},
    {"cloudEvents: {enable: true, type: rabbit}\n",
     "'rabbit' is not a type; use aws, gcp or kafka", -EINVAL},
    {"cloudEvents:\n  enable: true\n  type: kafka\n  cloudEventVersion: v2\n"
     "  kafka: {brokers: [b:9092]}\n  eventsPublisher: {topicName: t}\n",
     "test.yaml:4:22: cloudEvents.cloudEventVersion: v2 is not supported",
     -EINVAL},
    {"cloudEvents:\n  enable: true\n  type: kafka\n  cloudEventVersion: v3\n",
     "'v3' is not a valid value; use one of: v1, v2", -EINVAL},
    {"cloudEvents:\n  enable: true\n  type: kafka\n"
     "  kafka: {brokers: [b:9092]}\n"
     "  eventsPublisher: {topicName: t, eventTypes: [workflow, Task]}\n",
     "'Task' is not an event type", -EINVAL},
    {"cloudEvents:\n  enable: true\n  type: kafka\n"
     "  kafka: {brokers: [b:9092]}\n"
     "  eventsPublisher: {topicName: t, eventTypes: []}\n",
     "eventTypes: empty list", -EINVAL},
    {"cloudEvents:\n  enable: true\n  type: kafka\n"
     "  kafka: {brokers: [b:9092]}\n",
     "cloudEvents.eventsPublisher.topicName: missing; set the Kafka topic",
     -EINVAL},
    {"cloudEvents:\n  enable: true\n  type: aws\n  aws: {region: us-east-1}\n"
     "  eventsPublisher: {topicName: my-topic}\n",
     "'my-topic' is not an SNS topic ARN", -EINVAL},
    {"cloudEvents:\n  enable: true\n  type: gcp\n  gcp: {projectId: p}\n"
     "  eventsPublisher: {topicName: projects/p/topics/t}\n",
     "is a topic path; give the topic id", -EINVAL},
    {"cloudEvents:\n  enable: true\n  type: gcp\n  gcp: {projectId: p}\n"
     "  eventsPublisher: {topicName: goog-topic}\n",
     "is not a Pub/Sub topic id", -EINVAL},
    {"cloudEvents:\n  enable: maybe\n",
     "'maybe' is not valid; expected true "
     "or false",
     -EINVAL},
    {"cloudEvents: {enable: false, type: kafka}\n" FILE_PUB,
     "warning: test.yaml:1:23: cloudEvents.enable: false, so the type kafka "
     "block adds no publisher",
     0},
    {"cloudEvents: {enable: true, type: kafka, kafka: {brokers: b:1},"
     " eventsPublisher: {topicName: t}, extra: 1}\n",
     "warning: test.yaml:1:98: cloudEvents.extra: unknown key, ignored", 0},
    {"cloudEvents: {enable: true, type: kafka, kafka: {brokers: b:1,"
     " tlsConfig: {enabled: true, caFile: x}},"
     " eventsPublisher: {topicName: t}}\n",
     "warning: test.yaml:1:91: cloudEvents.kafka.tlsConfig.caFile: unknown "
     "key, ignored",
     0},
    {"publishers:\n  - name: a\n    type: kafka\n    topicName: t\n"
     "    kafka: {brokers: b:1, tlsConfig: {caFile: x}}\n",
     "error: test.yaml:5:39: publishers[0].kafka.tlsConfig.caFile: unknown key",
     -EINVAL},
    {"cloudEvents: {type: kafka}\ncloudevents: {type: aws}\n" FILE_PUB,
     "cloudEvents: given twice", -EINVAL},
    {"cloudEvents: {enable: true, type: kafka, kafka: b:1,"
     " eventsPublisher: {topicName: t}}\n",
     "cloudEvents.kafka: expected a mapping, found a scalar", -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: [x]\n",
     "publishers[0].file: expected a mapping, found a list", -EINVAL},
    {"cloudEvents: [a]\n" FILE_PUB, "cloudEvents: expected a mapping", -EINVAL},
    {"publisher:\n  - name: x\n",
     "publisher: unknown key; did you mean "
     "publishers?",
     -EINVAL},
    {"wat: 1\n" FILE_PUB, "wat: unknown key; the keys here are: rings, ingest",
     -EINVAL},
    {"rings: {capacity: 1MiB, Capacity: 2MiB}\n" FILE_PUB,
     "rings.Capacity: given twice", -EINVAL},
    {"rings: {capacity: 12XB}\n" FILE_PUB,
     "rings.capacity: '12XB' is not valid; expected a size", -EINVAL},
    {"rings: {capacity: 1MiB}\n" FILE_PUB,
     "rings.capacity: 1048576 bytes is less than twice rings.maxRecord",
     -EINVAL},
    {"rings: {capacity: 16777217}\n" FILE_PUB,
     "rings.capacity: 16777217 bytes is not a multiple of 8", -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: x}\n"
     "    ringCapacity: 16777217\n",
     "publishers[0].ringCapacity: 16777217 bytes is not a multiple of 8",
     -EINVAL},
    {"rings: {maxRecord: 128MiB, capacity: 1GiB}\n" FILE_PUB,
     "rings.maxRecord: 134217728 bytes is out of range", -EINVAL},
    {"rings: {directory: ''}\n" FILE_PUB, "rings.directory: empty", -EINVAL},
    {"ingest: {maxBodyBytes: 8MiB}\n" FILE_PUB,
     "ingest.maxBodyBytes: 8388608 bytes does not fit rings.maxRecord",
     -EINVAL},
    {"ingest: {listen: 'flyte.internal:80'}\n" FILE_PUB,
     "'flyte.internal:80': the host must be localhost or a numeric IPv4 "
     "address",
     -EINVAL},
    {"ingest: {listen: '127.0.0.1:0'}\n" FILE_PUB,
     "the port must be a number 1..65535", -EINVAL},
    {"ingest: {listen: ['unix:']}\n" FILE_PUB,
     "the socket path after unix: "
     "is empty",
     -EINVAL},
    {"ingest: {listen: ['[::1:8089']}\n" FILE_PUB, "numeric", -EINVAL},
    {"ingest: {listen: ['127.0.0.1:9', '127.0.0.1:9']}\n" FILE_PUB,
     "'127.0.0.1:9' is listed twice", -EINVAL},
    {"ingest: {listen: []}\n" FILE_PUB, "ingest.listen: 0 addresses", -EINVAL},
    {"ingest: {listen: {a: b}}\n" FILE_PUB,
     "ingest.listen: expected a list of strings, found a mapping", -EINVAL},
    {"ingest: {maxConnections: 0}\n" FILE_PUB,
     "ingest.maxConnections: 0 is out of range; use 1..1000000", -EINVAL},
    {"ingest: {maxConnections: lots}\n" FILE_PUB,
     "'lots' is not valid; expected an integer", -EINVAL},
    {"ingest: {io: kqueue}\n" FILE_PUB,
     "ingest.io: 'kqueue' is not a valid value; use one of: auto, uring, "
     "epoll",
     -EINVAL},
    {"ingest: {idleTimeout: 10 parsecs}\n" FILE_PUB, "expected a duration",
     -EINVAL},
    {"ingest: {requestTimeout: 0}\n" FILE_PUB,
     "ingest.requestTimeout: 0 is not allowed", -EINVAL},
    {"ingest: [1]\n" FILE_PUB, "ingest: expected a mapping, found a list",
     -EINVAL},
    {"supervisor: {restartBackoff: 1m, restartBackoffMax: 1s}\n" FILE_PUB,
     "supervisor.restartBackoff: 1m must be above 0 and at most "
     "restartBackoffMax (1s)",
     -EINVAL},
    {"retry: {initialBackoff: 10s, maxBackoff: 1s}\n" FILE_PUB,
     "retry: initialBackoff (10s) must be above 0 and at most maxBackoff (1s)",
     -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: x}\n"
     "    retry: {initialBackoff: 0}\n",
     "publishers[0].retry: initialBackoff (0ms) must be above 0", -EINVAL},
    {"publishers:\n  - name: a\n    type: FILE\n    file: {path: x}\n",
     "publishers[0].type: 'FILE' is not a backend type of this build", -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: x}\n"
     "    contentMode: binary\n",
     "warning: test.yaml:5:18: publishers[0].contentMode: binary has no "
     "effect on type file",
     0},
    {FILE_PUB "  - name: b\n    type: file\n    file: {path: /tmp/x}\n",
     "publishers[1].file.path: '/tmp/x' is also the file.path of the "
     "publisher from publishers[0]",
     -EINVAL},
    {FILE_PUB "  - name: b\n    type: file\n    file: {path: /tmp/y}\n"
              "    deadLetter: /tmp/x\n",
     "publishers[1].deadLetter: '/tmp/x' is the file.path of the publisher "
     "from publishers[0]",
     -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: /tmp/x}\n"
     "    deadLetter: /tmp/x\n",
     "publishers[0].deadLetter: '/tmp/x' is also this publisher's file.path",
     -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: /tmp/y}\n"
     "    deadLetter: /tmp/x\n"
     "  - name: b\n    type: file\n    file: {path: /tmp/x}\n",
     "publishers[1].file.path: '/tmp/x' is the deadLetter of the publisher "
     "from publishers[0]",
     -EINVAL},
    {"retry: {initialBackoff: 0}\n" FILE_PUB,
     "retry: initialBackoff (0ms) must be", -EINVAL},
    {"cloudevent: {source: ''}\n" FILE_PUB, "cloudevent.source: empty",
     -EINVAL},
    {"rings: {}\n", "no publisher is configured", -EINVAL},
    {"publishers: {name: x}\n", "publishers: expected a list of publishers",
     -EINVAL},
    {"publishers:\n  - type: file\n    file: {path: /tmp/x}\n",
     "test.yaml:2:5: publishers[0].name: missing", -EINVAL},
    {"publishers:\n  - name: Bad_Name\n    type: file\n",
     "publishers[0].name: 'Bad_Name' is not a valid name", -EINVAL},
    {"publishers:\n  - name: ingest\n    type: file\n    file: {path: x}\n",
     "'ingest' is reserved", -EINVAL},
    {FILE_PUB "  - name: out\n    type: file\n    file: {path: /tmp/y}\n",
     "publishers[1].name: 'out' is already the name of the publisher from "
     "publishers[0]",
     -EINVAL},
    {"cloudEvents: {enable: true, type: kafka, kafka: {brokers: b:1},"
     " eventsPublisher: {topicName: t}}\n"
     "publishers:\n  - name: kafka\n    type: file\n    file: {path: x}\n",
     "'kafka' is already the name of the publisher from cloudEvents", -EINVAL},
    {"publishers:\n  - name: a\n    type: aws\n",
     "publishers[0].type: 'aws' is a FlyteAdmin type; under publishers use "
     "sns or sqs",
     -EINVAL},
    {"publishers:\n  - name: a\n    type: carrier-pigeon\n",
     "'carrier-pigeon' is not a backend type of this build", -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: x}\n"
     "    kafka: {brokers: b:1}\n",
     "publishers[0].kafka: the block of type kafka, but this publisher has "
     "type file",
     -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n",
     "publishers[0].file.path: missing; set it, required when type is file",
     -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: x}\n"
     "    contentMode: xml\n",
     "'xml' is not a valid value; use one of: structured, binary", -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: x}\n"
     "    batch: {maxRecords: 0}\n",
     "publishers[0].batch.maxRecords: 0 is out of range", -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: x}\n"
     "    eventTypes: [[workflow]]\n",
     "item 0: expected a string, found a list", -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: \"x\\0y\"}\n",
     "publishers[0].file.path: contains a NUL byte", -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: x}\n"
     "    ringCapacity: 4MiB\n",
     "publishers[0].ringCapacity: 4194304 bytes is less than twice", -EINVAL},
    {"publishers:\n  - name: a\n    type: file\n    file: {path: x}\n"
     "    topicName: t\n",
     "warning: test.yaml:5:16: publishers[0].topicName: not used by type file",
     0},
    {KAFKA_PUB "    kafka: {brokers: []}\n",
     "error: test.yaml: publishers[0].kafka.brokers: missing; list the "
     "bootstrap brokers",
     -EINVAL},
    {KAFKA_PUB, "publishers[0].kafka.brokers: missing", -EINVAL},
    {KAFKA_PUB "    kafka: {brokers: ':'}\n",
     "publishers[0].kafka.brokers: ':' has no host", -EINVAL},
    {KAFKA_PUB "    kafka: {brokers: 'a b:1'}\n",
     "'a b:1' contains a space or a control character", -EINVAL},
    {KAFKA_PUB "    kafka: {brokers: '127.0.0.1:99999'}\n",
     "'127.0.0.1:99999' has no port 1..65535", -EINVAL},
    {KAFKA_PUB "    kafka: {brokers: 'b:1,kafka-1'}\n", "'kafka-1' has no port",
     -EINVAL},
    {KAFKA_PUB "    kafka: {brokers: 'b:1', version: banana}\n",
     "publishers[0].kafka.version: invalid value 'banana'", -EINVAL},
    {KAFKA_PUB "    kafka: {brokers: 'b:1', version: 0.10.2.1}\n",
     "'0.10.2.1' is older than 0.11.0.0", -EINVAL},
    {KAFKA_PUB "    kafka:\n      brokers: 'b:1'\n"
               "      properties: {no.such.property: '1'}\n",
     "publishers[0].kafka.properties.no.such.property: No such configuration "
     "property",
     -EINVAL},
    {KAFKA_PUB "    kafka:\n      brokers: 'b:1'\n"
               "      properties: {linger.ms: soon}\n",
     "publishers[0].kafka.properties.linger.ms: ", -EINVAL},
    {KAFKA_PUB "    kafka:\n      brokers: 'b:1'\n"
               "      tlsConfig: {enabled: true, certPath: c.pem}\n",
     "publishers[0].kafka.tlsConfig: certPath and keyPath go together",
     -EINVAL},
    {"cloudEvents: {enable: true, type: kafka, kafka: {brokers: ['b:0']},"
     " eventsPublisher: {topicName: t}}\n",
     "cloudEvents.kafka.brokers: 'b:0' has no port 1..65535", -EINVAL},
    {"publishers:\n  - [1]\n", "publishers[0]: expected a mapping", -EINVAL},
    {"rings:\n  capacity: [1\n", "YAML syntax error", -EINVAL},
    {"a: b\n  c: d\n",
     "test.yaml:2:4: YAML syntax error: mapping values are "
     "not allowed",
     -EINVAL},
    {"- a\n- b\n", "expected a mapping of keys at the top, found a list",
     -EINVAL},
    {"", "expected a mapping of keys at the top, found nothing", -EINVAL},
    {FILE_PUB "---\nrings: {}\n", "more than one YAML document", -EINVAL},
    {"? [a, b]\n: c\n" FILE_PUB, "a key must be a string", -EINVAL},
    {"rings: &r {capacity: 64MiB}\ningest: *r\n" FILE_PUB,
     "ingest.capacity: unknown key", -EINVAL},
};

static void config_error_paths(void **state)
{
    bool sns = fce_backend_type_find("kafka") && fce_backend_type_find("sns") &&
               fce_backend_type_find("pubsub") && fce_backend_type_find("file");
    if (!sns)
        skip();

    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct fce_config *config = NULL;
        struct fce_diag diag;
        int rc = load_text(c->yaml, &config, &diag);
        if (rc != c->rc || !has_message(&diag, c->message)) {
            print_message("# case %zu: rc %d, expected %d and '%s'\n", i, rc,
                          c->rc, c->message);
            print_diag(&diag);
        }
        assert_int_equal(rc, c->rc);
        assert_true(has_message(&diag, c->message));
        if (rc == 0)
            assert_non_null(config);
        else
            assert_null(config);
        fce_config_free(config);
        fce_diag_free(&diag);
    }
}

static void kafka_broker_lists_accepted(void **state)
{
    if (!fce_backend_type_find("kafka"))
        skip();
    struct fce_config *config = NULL;
    struct fce_diag diag;
    int rc = load_text(KAFKA_PUB "    kafka:\n"
                                 "      brokers: ['127.0.0.1:9092,b:9093', "
                                 "'[::1]:9092', kafka-0.internal:65535]\n"
                                 "      version: 3.7.0\n"
                                 "      properties: {linger.ms: '20'}\n",
                       &config, &diag);
    print_diag(&diag);
    assert_int_equal(rc, 0);
    assert_int_equal(diag.count, 0);
    fce_config_free(config);
    fce_diag_free(&diag);

    /* No brokers, but bootstrap.servers among the properties. */
    rc = load_text(KAFKA_PUB "    kafka:\n"
                             "      properties: {bootstrap.servers: 'b:1'}\n",
                   &config, &diag);
    print_diag(&diag);
    assert_int_equal(rc, 0);
    fce_config_free(config);
    fce_diag_free(&diag);
}

/* A value that fails to parse is reported once, with no knock-on errors
 * from the checks that would read its zero. */
static void parse_errors_reported_once(void **state)
{
    static const char *const cases[] = {
        "rings: {capacity: lots}\n",
        "rings: {capacity: -5}\n",
        "rings: {capacity: 99999999999999999999999}\n",
        "rings: {maxRecord: lots}\n",
        "supervisor: {drainTimeout: 5 parsecs}\n",
        "supervisor: {restartBackoff: soon}\n",
        "retry: {initialBackoff: soon}\n",
        "ingest: {idleTimeout: 10 parsecs}\n",
        "ingest: {maxBodyBytes: big}\n",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), "%s%s", cases[i], FILE_PUB);
        struct fce_config *config = NULL;
        struct fce_diag diag;
        int rc = load_text(text, &config, &diag);
        if (diag.error_count != 1) {
            print_message("# case %zu: %s", i, cases[i]);
            print_diag(&diag);
        }
        assert_int_equal(rc, -EINVAL);
        assert_int_equal(diag.error_count, 1);
        assert_true(has_message(&diag, "is not valid"));
        fce_diag_free(&diag);
    }
}

static void secrets_masked(void **state)
{
    skip_without("kafka");
    const char *text = "cloudEvents:\n"
                       "  enable: true\n"
                       "  type: kafka\n"
                       "  kafka:\n"
                       "    brokers: [b:9092]\n"
                       "    saslConfig:\n"
                       "      enabled: true\n"
                       "      user: flyte\n"
                       "      password: hunter2-secret\n"
                       "    properties:\n"
                       "      ssl.key.password: pem-secret\n"
                       "      linger.ms: 7\n"
                       "  nats:\n"
                       "    tokenAuthentication: {token: tok-secret}\n"
                       "  eventsPublisher: {topicName: events}\n";
    struct fce_config *config;
    struct fce_diag diag;
    assert_int_equal(load_text(text, &config, &diag), 0);

    struct fce_buf dump = FCE_BUF_INIT;
    assert_int_equal(fce_config_dump(config, &dump), 0);
    assert_int_equal(fce_buf_append(&dump, "", 1), 0);
    assert_null(strstr(dump.data, "hunter2"));
    assert_null(strstr(dump.data, "tok-secret"));
    assert_null(strstr(dump.data, "pem-secret"));
    assert_non_null(strstr(dump.data, "\"ssl.key.password\": \"***\""));
    assert_non_null(strstr(dump.data, "\"linger.ms\": \"7\""));
    assert_non_null(strstr(dump.data, "password: \"***\""));
    assert_non_null(strstr(dump.data, "user: \"flyte\""));
    fce_buf_free(&dump);
    fce_config_free(config);
    fce_diag_free(&diag);

    /* A secret of the wrong shape is reported without its value. */
    const char *bad = "cloudEvents:\n  enable: true\n  type: kafka\n"
                      "  kafka:\n    brokers: [b:9092]\n"
                      "    saslConfig: {password: [hunter2-secret]}\n"
                      "  eventsPublisher: {topicName: events}\n";
    assert_int_equal(load_text(bad, &config, &diag), -EINVAL);
    assert_true(has_message(&diag, "cloudEvents.kafka.saslConfig.password: "
                                   "expected a string, found a list"));
    for (size_t i = 0; i < diag.count; i++)
        assert_null(strstr(diag.messages[i], "hunter2"));
    fce_diag_free(&diag);
}

static void defaults_and_paths(void **state)
{
    skip_without("file");
    struct fce_config *config;
    struct fce_diag diag;
    assert_int_equal(load_text(FILE_PUB, &config, &diag), 0);

    assert_string_equal(config->ring_directory, "/dev/shm/fce");
    assert_string_equal(config->stats_directory, "/dev/shm/fce");
    assert_int_equal(config->ring_capacity, 64u << 20);
    assert_int_equal(config->max_record, 8u << 20);
    assert_int_equal(config->ingest.listener_count, 1);
    assert_int_equal(config->ingest.listeners[0].type, FCE_LISTEN_TCP);
    assert_string_equal(config->ingest.listeners[0].host, "127.0.0.1");
    assert_int_equal(config->ingest.listeners[0].port, FCE_INGEST_DEFAULT_PORT);
    assert_int_equal(config->ingest.max_body_bytes, 4u << 20);
    assert_int_equal(config->ingest.idle_timeout_ms, 60000);
    assert_int_equal(config->ingest.io, FCE_IO_AUTO);
    assert_string_equal(config->ingest.ring_path, "/dev/shm/fce/ingest.ring");
    assert_string_equal(config->ingest.stats_path, "/dev/shm/fce/ingest.stats");
    assert_string_equal(config->encoder_stats_path,
                        "/dev/shm/fce/encoder.stats");
    assert_string_equal(config->profile.source,
                        "https://github.com/flyteorg/flyteadmin");
    assert_int_equal(config->supervisor.drain_timeout_ms, 30000);

    const struct fce_publisher_config *p = &config->publishers[0];
    assert_string_equal(p->ring_path, "/dev/shm/fce/out.ring");
    assert_string_equal(p->stats_path, "/dev/shm/fce/out.stats");
    assert_string_equal(p->dead_letter_path, "/dev/shm/fce/out.dead.jsonl");
    assert_int_equal(p->ring_capacity, 64u << 20);
    assert_int_equal(p->event_types, FCE_EVENT_TYPES_ALL);
    assert_int_equal(p->retry.initial_ms, 100);
    assert_int_equal(p->retry.multiplier_pct, 200);
    assert_int_equal(p->batch.max_records, 100);
    fce_config_free(config);
    fce_diag_free(&diag);
}

static void listeners_and_overrides(void **state)
{
    skip_without("file");
    const char *text =
        "RINGS: {Directory: /tmp/fce-x/, CAPACITY: 1GiB}\n"
        "ingest:\n"
        "  listen: ['[::1]:9000', unix:/tmp/fce.sock, ':81', localhost:82]\n"
        "retry: {maxAttempts: 7}\n"
        "publishers:\n"
        "  - name: w-1\n"
        "    type: file\n"
        "    eventTypes: workflow\n"
        "    contentMode: binary\n"
        "    retry: {initialBackoff: 1s}\n"
        "    deadLetter: /var/tmp/dead.jsonl\n"
        "    file: {path: /tmp/x}\n";
    struct fce_config *config;
    struct fce_diag diag;
    int rc = load_text(text, &config, &diag);
    print_diag(&diag);
    assert_int_equal(rc, 0);

    assert_string_equal(config->ring_directory, "/tmp/fce-x");
    assert_int_equal(config->ring_capacity, 1ull << 30);
    assert_int_equal(config->ingest.listener_count, 4);
    assert_string_equal(config->ingest.listeners[0].host, "::1");
    assert_int_equal(config->ingest.listeners[0].port, 9000);
    assert_int_equal(config->ingest.listeners[1].type, FCE_LISTEN_UNIX);
    assert_string_equal(config->ingest.listeners[1].path, "/tmp/fce.sock");
    assert_string_equal(config->ingest.listeners[2].host, "0.0.0.0");
    assert_string_equal(config->ingest.listeners[3].host, "127.0.0.1");
    assert_int_equal(config->ingest.listeners[3].port, 82);

    const struct fce_publisher_config *p = fce_config_publisher(config, "w-1");
    assert_non_null(p);
    assert_int_equal(p->event_types, FCE_EVENT_TYPE_BIT(FCE_KIND_WORKFLOW));
    assert_int_equal(p->content_mode, FCE_CONTENT_BINARY);
    assert_int_equal(p->retry.initial_ms, 1000);
    assert_int_equal(p->retry.max_attempts, 7); /* from the top level */
    assert_int_equal(p->retry.max_ms, 30000);
    assert_string_equal(p->dead_letter_path, "/var/tmp/dead.jsonl");
    assert_null(fce_config_publisher(config, "nope"));
    fce_config_free(config);
    fce_diag_free(&diag);
}

static void dump_loads_again(void **state)
{
    skip_without("kafka");
    skip_without("file");
    const char *text = "cloudevents:\n  ENABLE: yes\n  Type: KAFKA\n"
                       "  kafka: {brokers: b:1, properties: {linger.ms: 5}}\n"
                       "  eventsPublisher: {topicName: t, eventTypes: [node]}\n"
                       "ingest: {listen: \"127.0.0.1:18089\"}\n" FILE_PUB;
    struct fce_config *config, *again;
    struct fce_diag diag;
    assert_int_equal(load_text(text, &config, &diag), 0);
    assert_int_equal(config->publisher_count, 2);

    struct fce_buf first = FCE_BUF_INIT, second = FCE_BUF_INIT;
    assert_int_equal(fce_config_dump(config, &first), 0);
    assert_int_equal(fce_buf_append(&first, "", 1), 0);
    fce_diag_free(&diag);
    int rc = load_text(first.data, &again, &diag);
    print_diag(&diag);
    assert_int_equal(rc, 0);
    assert_int_equal(fce_config_dump(again, &second), 0);
    assert_int_equal(fce_buf_append(&second, "", 1), 0);
    /* The reloaded publisher no longer comes from cloudEvents, so drop
     * that comment, and skip the first line, which names the file. */
    const char *comment = "  # from FlyteAdmin's cloudEvents block\n";
    char *at = strstr(first.data, comment);
    assert_non_null(at);
    memmove(at, at + strlen(comment), strlen(at + strlen(comment)) + 1);
    assert_string_equal(strchr(first.data, '\n'), strchr(second.data, '\n'));
    assert_int_equal(again->publishers[0].event_types,
                     FCE_EVENT_TYPE_BIT(FCE_KIND_NODE));
    assert_non_null(strstr(first.data, "\"linger.ms\": \"5\""));

    fce_buf_free(&first);
    fce_buf_free(&second);
    fce_config_free(config);
    fce_config_free(again);
    fce_diag_free(&diag);
}

static void value_parsers(void **state)
{
    uint64_t v;
    assert_int_equal(fce_parse_size("65536", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(fce_parse_size("64KiB", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(fce_parse_size("64k", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(fce_parse_size("1GB", &v), 0);
    assert_int_equal(v, 1000000000);
    assert_int_equal(fce_parse_size("1.5MiB", &v), 0);
    assert_int_equal(v, 1572864);
    assert_int_equal(fce_parse_size("16 MiB", &v), 0);
    assert_int_equal(v, 16u << 20);
    assert_int_equal(fce_parse_size("-1", &v), -EINVAL);
    assert_int_equal(fce_parse_size("1XB", &v), -EINVAL);
    assert_int_equal(fce_parse_size("", &v), -EINVAL);
    assert_int_equal(fce_parse_size("99999999999999999999", &v), -EINVAL);
    assert_int_equal(fce_parse_size("20000000TiB", &v), -EINVAL);

    assert_int_equal(fce_parse_duration("250", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(fce_parse_duration("250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(fce_parse_duration("10s", &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(fce_parse_duration("1m30s", &v), 0);
    assert_int_equal(v, 90000);
    assert_int_equal(fce_parse_duration("1.5h", &v), 0);
    assert_int_equal(v, 5400000);
    assert_int_equal(fce_parse_duration("2d", &v), 0);
    assert_int_equal(v, 172800000);
    assert_int_equal(fce_parse_duration("5 m", &v), -EINVAL);
    assert_int_equal(fce_parse_duration("10x", &v), -EINVAL);
    assert_int_equal(fce_parse_duration("s", &v), -EINVAL);
    assert_int_equal(fce_parse_duration("1s1", &v), -EINVAL);

    bool b;
    assert_int_equal(fce_parse_bool("Yes", &b), 0);
    assert_true(b);
    assert_int_equal(fce_parse_bool("off", &b), 0);
    assert_false(b);
    assert_int_equal(fce_parse_bool("maybe", &b), -EINVAL);

    int64_t i;
    assert_int_equal(fce_parse_int("-42", &i), 0);
    assert_int_equal(i, -42);
    assert_int_equal(fce_parse_int("4x", &i), -EINVAL);
    assert_int_equal(fce_parse_int(" 4", &i), -EINVAL);
    assert_int_equal(fce_parse_int("99999999999999999999", &i), -EINVAL);

    char text[32];
    fce_format_size(64u << 20, text, sizeof(text));
    assert_string_equal(text, "64MiB");
    fce_format_size(1500, text, sizeof(text));
    assert_string_equal(text, "1500");
    fce_format_duration(90000, text, sizeof(text));
    assert_string_equal(text, "90s");
    fce_format_duration(0, text, sizeof(text));
    assert_string_equal(text, "0ms");
}

static void docs_list_every_key(void **state)
{
    struct fce_buf docs = FCE_BUF_INIT;
    assert_int_equal(fce_config_docs(&docs), 0);
    assert_int_equal(fce_buf_append(&docs, "", 1), 0);

    assert_non_null(strstr(docs.data, "| `cloudEvents.eventsPublisher."
                                      "topicName` | string |"));
    assert_non_null(strstr(docs.data, "| `rings.capacity` | size | `64MiB` |"));
    assert_non_null(strstr(docs.data, "| `publishers[].name` | string | "
                                      "required |"));
    const struct fce_backend_type *type;
    for (size_t i = 0; (type = fce_backend_type_at(i)); i++) {
        char heading[128];
        snprintf(heading, sizeof(heading), "### type `%s` (block `%s`)",
                 type->name, type->config_key);
        assert_non_null(strstr(docs.data, heading));
        for (const struct fce_option *o = type->options; o->key; o++) {
            char row[256];
            snprintf(row, sizeof(row), "| `%s.%s` |", type->config_key, o->key);
            assert_non_null(strstr(docs.data, row));
        }
    }
    fce_buf_free(&docs);
}

static void missing_file_reported(void **state)
{
    struct fce_config *config;
    struct fce_diag diag = {0};
    int rc = fce_config_load("/nonexistent/fce.yaml", &config, &diag);
    assert_int_equal(rc, -ENOENT);
    assert_null(config);
    assert_true(has_message(&diag, "/nonexistent/fce.yaml: cannot open"));
    fce_diag_free(&diag);
}

static void large_file_reported(void **state)
{
    char path[] = "/tmp/fce-config-large-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 5 << 20), 0);
    close(fd);

    struct fce_config *config;
    struct fce_diag diag = {0};
    int rc = fce_config_load(path, &config, &diag);
    unlink(path);
    print_diag(&diag);
    assert_int_equal(rc, -EINVAL);
    assert_true(has_message(&diag, "too large: 5242880 bytes, more than the "
                                   "4MiB"));
    fce_diag_free(&diag);

    rc = fce_config_load("/tmp", &config, &diag);
    assert_int_equal(rc, -EINVAL);
    assert_true(has_message(&diag, "/tmp: not a regular file"));
    fce_diag_free(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flyteadmin_aws_example),
        cmocka_unit_test(flyteadmin_kafka_example),
        cmocka_unit_test(flyteadmin_gcp_example),
        cmocka_unit_test(config_error_paths),
        cmocka_unit_test(kafka_broker_lists_accepted),
        cmocka_unit_test(parse_errors_reported_once),
        cmocka_unit_test(secrets_masked),
        cmocka_unit_test(defaults_and_paths),
        cmocka_unit_test(listeners_and_overrides),
        cmocka_unit_test(dump_loads_again),
        cmocka_unit_test(value_parsers),
        cmocka_unit_test(docs_list_every_key),
        cmocka_unit_test(missing_file_reported),
        cmocka_unit_test(large_file_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
