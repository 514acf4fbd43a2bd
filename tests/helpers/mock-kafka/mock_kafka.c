/*
 * mock-kafka: runs librdkafka's mock cluster in its own process, so the
 * broker's CPU and faults are separate from the producer under test.
 *
 *   mock-kafka [--brokers N] [--topic NAME:PARTITIONS]...
 *
 * Prints "bootstrap=HOST:PORT,..." on stdout once the cluster listens, then
 * reads one command per line on stdin and answers "ok" or "error: ...":
 *
 *   down ID|all          disconnect broker ID (1..N) and refuse connections
 *   up ID|all            accept connections again
 *   rtt ID|all MS        add MS milliseconds of latency to each response
 *   topic NAME PARTS     create a topic with PARTS partitions
 *   leader NAME PART ID  make broker ID the leader of partition PART
 *   errors API ERR...    fail the next requests of API (produce, metadata,
 *                        initproducerid or a number) with the errors given
 *                        by name (MSG_SIZE_TOO_LARGE) or number, in order
 *   clear API            drop the errors still pushed for API
 *   quit                 stop (end of input does the same)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_ERRORS 64

static int broker_count = 3;

static int parse_int(const char *text, long min, long max, long *value)
{
    char *end;

    if (!text)
        return -1;
    errno = 0;
    *value = strtol(text, &end, 10);
    if (errno || end == text || *end || *value < min || *value > max)
        return -1;
    return 0;
}

static int parse_api(const char *text, int16_t *api)
{
    static const struct {
        const char *name;
        int16_t key;
    } apis[] = {{"produce", 0},
                {"fetch", 1},
                {"metadata", 3},
                {"apiversions", 18},
                {"initproducerid", 22}};
    long value;

    for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++) {
        if (strcasecmp(text, apis[i].name) == 0) {
            *api = apis[i].key;
            return 0;
        }
    }
    if (parse_int(text, 0, 100, &value))
        return -1;
    *api = (int16_t)value;
    return 0;
}

/* An error by its name without the RD_KAFKA_RESP_ERR_ prefix, or number. */
static int parse_error(const char *text, rd_kafka_resp_err_t *err)
{
    const struct rd_kafka_err_desc *descs;
    size_t count;
    long value;

    if (parse_int(text, -200, 200, &value) == 0) {
        *err = (rd_kafka_resp_err_t)value;
        return 0;
    }
    rd_kafka_get_err_descs(&descs, &count);
    for (size_t i = 0; i < count; i++) {
        if (descs[i].name && strcasecmp(descs[i].name, text) == 0) {
            *err = descs[i].code;
            return 0;
        }
    }
    return -1;
}

/* Applies fn to broker ID, or to every broker for "all". */
static int each_broker(rd_kafka_mock_cluster_t *cluster, const char *which,
                       rd_kafka_resp_err_t (*fn)(rd_kafka_mock_cluster_t *,
                                                 int32_t))
{
    long id;

    if (which && strcmp(which, "all") == 0) {
        for (int32_t i = 1; i <= broker_count; i++)
            fn(cluster, i);
        return 0;
    }
    if (parse_int(which, 1, broker_count, &id))
        return -1;
    return fn(cluster, (int32_t)id) ? -1 : 0;
}

static int set_rtt(rd_kafka_mock_cluster_t *cluster, const char *which,
                   const char *ms_text)
{
    long id, ms;

    if (parse_int(ms_text, 0, 60000, &ms))
        return -1;
    if (which && strcmp(which, "all") == 0) {
        for (int32_t i = 1; i <= broker_count; i++)
            rd_kafka_mock_broker_set_rtt(cluster, i, (int)ms);
        return 0;
    }
    if (parse_int(which, 1, broker_count, &id))
        return -1;
    return rd_kafka_mock_broker_set_rtt(cluster, (int32_t)id, (int)ms) ? -1 : 0;
}

static int push_errors(rd_kafka_mock_cluster_t *cluster, char **words,
                       size_t count)
{
    rd_kafka_resp_err_t errors[MAX_ERRORS];
    int16_t api;

    if (count < 2 || count - 1 > MAX_ERRORS || parse_api(words[0], &api))
        return -1;
    for (size_t i = 1; i < count; i++)
        if (parse_error(words[i], &errors[i - 1]))
            return -1;
    rd_kafka_mock_push_request_errors_array(cluster, api, count - 1, errors);
    return 0;
}

static int create_topic(rd_kafka_mock_cluster_t *cluster, const char *name,
                        const char *partitions_text)
{
    long partitions;
    int replicas = broker_count < 3 ? broker_count : 3;

    if (!name || parse_int(partitions_text, 1, 1000, &partitions))
        return -1;
    return rd_kafka_mock_topic_create(cluster, name, (int)partitions, replicas)
               ? -1
               : 0;
}

static int set_leader(rd_kafka_mock_cluster_t *cluster, const char *topic,
                      const char *partition_text, const char *id_text)
{
    long partition, id;

    if (parse_int(partition_text, 0, 999, &partition) ||
        parse_int(id_text, 1, broker_count, &id))
        return -1;
    return rd_kafka_mock_partition_set_leader(cluster, topic,
                                              (int32_t)partition, (int32_t)id)
               ? -1
               : 0;
}

/* Runs one command line. Returns 0, -1 for a bad command, 1 for quit. */
static int run_command(rd_kafka_mock_cluster_t *cluster, char *line)
{
    char *words[MAX_ERRORS + 2];
    size_t count = 0;

    for (char *word = strtok(line, " \t\r\n"); word && count < MAX_ERRORS + 2;
         word = strtok(NULL, " \t\r\n"))
        words[count++] = word;
    if (count == 0)
        return 0;
    if (strcmp(words[0], "quit") == 0)
        return 1;
    if (strcmp(words[0], "down") == 0 && count == 2)
        return each_broker(cluster, words[1], rd_kafka_mock_broker_set_down);
    if (strcmp(words[0], "up") == 0 && count == 2)
        return each_broker(cluster, words[1], rd_kafka_mock_broker_set_up);
    if (strcmp(words[0], "rtt") == 0 && count == 3)
        return set_rtt(cluster, words[1], words[2]);
    if (strcmp(words[0], "topic") == 0 && count == 3)
        return create_topic(cluster, words[1], words[2]);
    if (strcmp(words[0], "leader") == 0 && count == 4)
        return set_leader(cluster, words[1], words[2], words[3]);
    if (strcmp(words[0], "errors") == 0)
        return push_errors(cluster, words + 1, count - 1);
    if (strcmp(words[0], "clear") == 0 && count == 2) {
        int16_t api;

        if (parse_api(words[1], &api))
            return -1;
        rd_kafka_mock_clear_request_errors(cluster, api);
        return 0;
    }
    return -1;
}

static int create_topics(rd_kafka_mock_cluster_t *cluster, int argc,
                         char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *colon;

        if (strcmp(argv[i], "--topic") != 0 || i + 1 >= argc)
            continue;
        colon = strchr(argv[++i], ':');
        if (colon)
            *colon = '\0';
        if (create_topic(cluster, argv[i], colon ? colon + 1 : "1")) {
            fprintf(stderr,
                    "mock-kafka: invalid --topic '%s'; use "
                    "NAME:PARTITIONS\n",
                    argv[i]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    char err[256], line[4096];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_mock_cluster_t *cluster;
    rd_kafka_t *handle;
    long value;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], 1, 16, &value)) {
                fprintf(stderr,
                        "mock-kafka: invalid --brokers '%s'; use "
                        "1..16\n",
                        argv[i]);
                return 2;
            }
            broker_count = (int)value;
        } else if (strcmp(argv[i], "--topic") == 0) {
            i++;
        } else {
            fprintf(stderr, "usage: mock-kafka [--brokers N] "
                            "[--topic NAME:PARTITIONS]...\n");
            return 2;
        }
    }

    /* The cluster needs a client handle for its bookkeeping only. */
    handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!handle) {
        fprintf(stderr, "mock-kafka: %s\n", err);
        return 1;
    }
    cluster = rd_kafka_mock_cluster_new(handle, broker_count);
    if (!cluster || create_topics(cluster, argc, argv)) {
        fprintf(stderr, "mock-kafka: cannot create the mock cluster\n");
        return 1;
    }

    printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin)) {
        int rc = run_command(cluster, line);

        if (rc == 1)
            break;
        printf(rc == 0 ? "ok\n"
                       : "error: invalid command; see the usage at "
                         "the top of mock_kafka.c\n");
        fflush(stdout);
    }

    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(handle);
    return 0;
}
