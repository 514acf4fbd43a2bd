/*
 * Unit tests of the kafka backend's parts that need no broker: version
 * parsing, error classification, the librdkafka configuration and the
 * value blocks. The
 * backend itself is tested end to end (tests/e2e/kafka-*.sh).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fce_kafka.h"
#include "kafka_values.h"

static void version_forms(void **unused)
{
    static const struct {
        const char *text;
        int ok;
        unsigned parts[4];
    } cases[] = {
        {"3.7.0", 1, {3, 7, 0, 0}},
        {"4.0.0", 1, {4, 0, 0, 0}},
        {"2.1.0", 1, {2, 1, 0, 0}},
        {"0.11.0.0", 1, {0, 11, 0, 0}},
        {"0.10.2.1", 1, {0, 10, 2, 1}},
        {"10.0.0", 1, {10, 0, 0, 0}},
        {"4.0", 0, {0}},
        {"latest", 0, {0}},
        {"", 0, {0}},
        {"0.11.0", 0, {0}},
        {"3.7.0.1", 0, {0}},
        {"3.7.x", 0, {0}},
        {"v3.7.0", 0, {0}},
        {"3..7.0", 0, {0}},
        {"3.7.0 ", 0, {0}},
        {"1.2", 0, {0}},
    };

    (void)unused;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned parts[4];
        int rc = fce_kafka_version_parse(cases[i].text, parts);

        if (cases[i].ok) {
            assert_int_equal(rc, 0);
            assert_memory_equal(parts, cases[i].parts, sizeof(parts));
        } else {
            assert_int_equal(rc, -EINVAL);
        }
    }
    assert_int_equal(fce_kafka_version_parse(NULL, (unsigned[4]){0}), -EINVAL);
}

static void version_headers_need_0_11(void **unused)
{
    (void)unused;
    assert_false(fce_kafka_version_has_headers((unsigned[]){0, 10, 2, 1}));
    assert_true(fce_kafka_version_has_headers((unsigned[]){0, 11, 0, 0}));
    assert_true(fce_kafka_version_has_headers((unsigned[]){1, 0, 0, 0}));
}

static void outcome_classes(void **unused)
{
    (void)unused;
    assert_int_equal(fce_kafka_outcome(RD_KAFKA_RESP_ERR_NO_ERROR),
                     FCE_OUTCOME_DELIVERED);
    assert_int_equal(fce_kafka_outcome(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE),
                     FCE_OUTCOME_REJECTED);
    assert_int_equal(fce_kafka_outcome(RD_KAFKA_RESP_ERR_INVALID_MSG),
                     FCE_OUTCOME_REJECTED);
    assert_int_equal(
        fce_kafka_outcome(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED),
        FCE_OUTCOME_REJECTED);
    assert_int_equal(fce_kafka_outcome(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT),
                     FCE_OUTCOME_RETRY);
    assert_int_equal(fce_kafka_outcome(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS),
                     FCE_OUTCOME_RETRY);
    assert_int_equal(fce_kafka_outcome(RD_KAFKA_RESP_ERR__TRANSPORT),
                     FCE_OUTCOME_RETRY);
    assert_int_equal(fce_kafka_outcome(RD_KAFKA_RESP_ERR__FATAL),
                     FCE_OUTCOME_RETRY);
}

static char *conf_value(rd_kafka_conf_t *conf, const char *name)
{
    static char value[512];
    size_t size = sizeof(value);

    if (rd_kafka_conf_get(conf, name, value, &size) != RD_KAFKA_CONF_OK)
        return NULL;
    return value;
}

static struct fce_kafka_settings base_settings(void)
{
    static char *brokers[] = {"127.0.0.1:9092", "127.0.0.1:9093"};
    struct fce_kafka_settings s = {0};

    s.brokers.items = brokers;
    s.brokers.count = 2;
    return s;
}

static void conf_defaults(void **unused)
{
    struct fce_kafka_settings s = base_settings();
    rd_kafka_conf_t *conf = NULL;
    char err[512] = "";

    (void)unused;
    assert_int_equal(
        fce_kafka_conf_build(&s, "cloudEvents", "id", &conf, err, sizeof(err)),
        0);
    assert_string_equal(conf_value(conf, "bootstrap.servers"),
                        "127.0.0.1:9092,127.0.0.1:9093");
    assert_string_equal(conf_value(conf, "enable.idempotence"), "true");
    assert_string_equal(conf_value(conf, "acks"), "-1");
    assert_string_equal(conf_value(conf, "security.protocol"), "plaintext");
    rd_kafka_conf_destroy(conf);
}

static void conf_version_errors(void **unused)
{
    struct fce_kafka_settings s = base_settings();
    rd_kafka_conf_t *conf = NULL;
    char err[512] = "";

    (void)unused;
    s.version = "4.0";
    assert_int_equal(
        fce_kafka_conf_build(&s, "cloudEvents", "id", &conf, err, sizeof(err)),
        -EINVAL);
    assert_non_null(strstr(err, "cloudEvents.kafka.version"));
    assert_non_null(strstr(err, "'4.0'"));

    s.version = "0.10.2.0";
    assert_int_equal(
        fce_kafka_conf_build(&s, "cloudEvents", "id", &conf, err, sizeof(err)),
        -EINVAL);
    assert_non_null(strstr(err, "0.11.0.0"));

    s.version = "3.7.0";
    assert_int_equal(
        fce_kafka_conf_build(&s, "cloudEvents", "id", &conf, err, sizeof(err)),
        0);
    assert_string_equal(conf_value(conf, "broker.version.fallback"), "3.7.0");
    rd_kafka_conf_destroy(conf);
}

static void conf_sasl_and_tls(void **unused)
{
    struct fce_kafka_settings s = base_settings();
    rd_kafka_conf_t *conf = NULL;
    char err[512] = "", path[] = "/tmp/fce-kafka-password-XXXXXX";
    int fd = mkstemp(path);

    (void)unused;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "  s3cret\n", 9), 9);
    close(fd);

    s.sasl.enabled = true;
    s.sasl.user = "flyte";
    s.sasl.password = "unused";
    s.sasl.password_path = path;
    s.sasl.mechanism = FCE_KAFKA_SASL_SCRAM_SHA_512;
    s.tls.enabled = true;
    s.tls.ca_path = "/etc/ssl/certs/ca-certificates.crt";
    assert_int_equal(fce_kafka_conf_build(&s, "publishers[0]", "id", &conf, err,
                                          sizeof(err)),
                     0);
    assert_string_equal(conf_value(conf, "security.protocol"), "sasl_ssl");
    assert_string_equal(conf_value(conf, "sasl.mechanisms"), "SCRAM-SHA-512");
    assert_string_equal(conf_value(conf, "sasl.username"), "flyte");
    assert_string_equal(conf_value(conf, "sasl.password"), "s3cret");
    rd_kafka_conf_destroy(conf);

    /* A missing password file names the key, never a password. */
    unlink(path);
    assert_int_equal(fce_kafka_conf_build(&s, "publishers[0]", "id", &conf, err,
                                          sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "publishers[0].kafka.saslConfig.passwordPath"));
    assert_null(strstr(err, "unused"));

    /* A certificate without its key is an error. */
    s.sasl.enabled = false;
    s.tls.cert_path = "/tmp/cert.pem";
    assert_int_equal(fce_kafka_conf_build(&s, "publishers[0]", "id", &conf, err,
                                          sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "keyPath"));
}

static void conf_properties_last(void **unused)
{
    struct fce_kafka_settings s = base_settings();
    char *keys[] = {"linger.ms", "no.such.property"};
    char *values[] = {"50", "1"};
    rd_kafka_conf_t *conf = NULL;
    char err[512] = "";

    (void)unused;
    s.properties.keys = keys;
    s.properties.values = values;
    s.properties.count = 1;
    assert_int_equal(
        fce_kafka_conf_build(&s, "cloudEvents", "id", &conf, err, sizeof(err)),
        0);
    assert_string_equal(conf_value(conf, "linger.ms"), "50");
    rd_kafka_conf_destroy(conf);

    s.properties.count = 2;
    assert_int_equal(
        fce_kafka_conf_build(&s, "cloudEvents", "id", &conf, err, sizeof(err)),
        -EINVAL);
    assert_non_null(
        strstr(err, "cloudEvents.kafka.properties.no.such.property"));
}

static void conf_brokers_required(void **unused)
{
    struct fce_kafka_settings s = {0};
    rd_kafka_conf_t *conf = NULL;
    char err[512] = "";

    (void)unused;
    assert_int_equal(
        fce_kafka_conf_build(&s, "cloudEvents", "id", &conf, err, sizeof(err)),
        -EINVAL);
    assert_non_null(strstr(err, "cloudEvents.kafka.brokers: missing"));
}

/* Reserves and commits one value of len bytes, filled with fill. */
static char *put_value(struct fce_kafka_values *values, size_t len, char fill,
                       struct fce_kafka_value_block **block)
{
    char *room = fce_kafka_values_reserve(values, len, block);

    assert_non_null(room);
    memset(room, fill, len);
    fce_kafka_values_commit(values, *block, len);
    return room;
}

static void values_share_a_block(void **unused)
{
    struct fce_kafka_values values = {0};
    struct fce_kafka_value_block *first, *second;
    char *a, *b;

    (void)unused;
    a = put_value(&values, 100, 'a', &first);
    b = put_value(&values, 200, 'b', &second);
    assert_ptr_equal(first, second);
    assert_ptr_equal(b, a + 100);
    assert_int_equal(values.block_count, 1);

    /* Once both are released, the block is reused from its start. */
    fce_kafka_values_release(&values, first);
    assert_int_equal(a[0], 'a');
    fce_kafka_values_release(&values, second);
    assert_ptr_equal(put_value(&values, 10, 'c', &first), a);
    assert_int_equal(values.block_count, 1);
    fce_kafka_values_free(&values);
    assert_int_equal(values.block_count, 0);
}

static void values_full_block_kept(void **unused)
{
    struct fce_kafka_values values = {0};
    struct fce_kafka_value_block *blocks[8];
    size_t quarter = FCE_KAFKA_VALUE_BLOCK / 4;
    char *first = NULL;

    (void)unused;
    /* Four quarters fill a block, so the fifth value starts a second one.
     * The first block keeps its values while they are referenced. */
    for (int i = 0; i < 5; i++) {
        char *room = put_value(&values, quarter, (char)('0' + i), &blocks[i]);

        if (i == 0)
            first = room;
    }
    assert_ptr_equal(blocks[0], blocks[3]);
    assert_ptr_not_equal(blocks[3], blocks[4]);
    assert_int_equal(values.block_count, 2);
    for (int i = 0; i < 3; i++)
        fce_kafka_values_release(&values, blocks[i]);
    assert_int_equal(first[3 * quarter], '3');
    assert_int_equal(values.spare_count, 0);

    /* The last reference makes the full block spare. When the second
     * block fills up, the spare one becomes current again. */
    struct fce_kafka_value_block *full = blocks[3], *second = blocks[4];

    fce_kafka_values_release(&values, full);
    assert_int_equal(values.spare_count, 1);
    for (int i = 0; i < 4; i++)
        put_value(&values, quarter, 'x', &blocks[i]);
    assert_ptr_equal(blocks[2], second);
    assert_ptr_equal(blocks[3], full);
    assert_int_equal(values.spare_count, 0);
    assert_int_equal(values.block_count, 2);
    fce_kafka_values_free(&values);
}

static void values_large_own_block(void **unused)
{
    struct fce_kafka_values values = {0};
    struct fce_kafka_value_block *small, *large;
    size_t len = FCE_KAFKA_VALUE_BLOCK * 2;

    (void)unused;
    put_value(&values, 10, 's', &small);
    put_value(&values, len, 'l', &large);
    assert_ptr_not_equal(small, large);
    assert_int_equal(values.block_count, 2);

    /* A value of its own is freed with its last reference. */
    fce_kafka_values_release(&values, large);
    assert_int_equal(values.block_count, 1);
    assert_int_equal(values.spare_count, 0);
    fce_kafka_values_release(&values, small);
    fce_kafka_values_free(&values);
}

static void values_spares_are_capped(void **unused)
{
    enum { BLOCKS = 2 * FCE_KAFKA_SPARE_BLOCKS + 4 };
    struct fce_kafka_values values = {0};
    struct fce_kafka_value_block *blocks[BLOCKS];
    size_t quarter = FCE_KAFKA_VALUE_BLOCK / 4;

    (void)unused;
    /* One referenced value per block, then one more block to be current. */
    for (int i = 0; i < BLOCKS; i++) {
        put_value(&values, quarter, 'v', &blocks[i]);
        for (int j = 0; j < 3; j++) {
            struct fce_kafka_value_block *filler;

            put_value(&values, quarter, 'f', &filler);
            fce_kafka_values_release(&values, filler);
        }
    }
    struct fce_kafka_value_block *current;

    put_value(&values, 10, 'c', &current);
    fce_kafka_values_release(&values, current);
    assert_int_equal(values.block_count, BLOCKS + 1);

    /* While as many blocks are in use, every empty one is kept. */
    for (int i = 0; i < BLOCKS / 2; i++)
        fce_kafka_values_release(&values, blocks[i]);
    assert_int_equal(values.spare_count, BLOCKS / 2);
    assert_int_equal(values.block_count, BLOCKS + 1);

    /* Past the half, a block is kept only while the spares are fewer than
     * the blocks in use: 21 blocks leave 11 spares and the current one. */
    for (int i = BLOCKS / 2; i < BLOCKS; i++)
        fce_kafka_values_release(&values, blocks[i]);
    assert_int_equal(values.spare_count, BLOCKS / 2 + 1);
    assert_int_equal(values.block_count, BLOCKS / 2 + 2);
    fce_kafka_values_free(&values);
    assert_int_equal(values.block_count, 0);
}

static void values_spares_have_a_ceiling(void **unused)
{
    enum { BLOCKS = FCE_KAFKA_SPARE_BLOCKS_MAX * 2 + 10 };
    struct fce_kafka_values values = {0};
    struct fce_kafka_value_block **blocks = calloc(BLOCKS, sizeof(*blocks));
    size_t quarter = FCE_KAFKA_VALUE_BLOCK / 4;

    (void)unused;
    assert_non_null(blocks);
    /* Each block gets four quarter-size values. The first one stays
     * referenced and the other three are released. */
    for (int i = 0; i < BLOCKS * 4; i++) {
        struct fce_kafka_value_block *block;

        put_value(&values, quarter, 'v', &block);
        if (i % 4 == 0)
            blocks[i / 4] = block;
        else
            fce_kafka_values_release(&values, block);
    }
    for (int i = 0; i < BLOCKS; i++)
        fce_kafka_values_release(&values, blocks[i]);
    assert_int_equal(values.spare_count, FCE_KAFKA_SPARE_BLOCKS_MAX);
    assert_int_equal(values.block_count, FCE_KAFKA_SPARE_BLOCKS_MAX + 1);
    fce_kafka_values_free(&values);
    free(blocks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_forms),
        cmocka_unit_test(version_headers_need_0_11),
        cmocka_unit_test(outcome_classes),
        cmocka_unit_test(conf_defaults),
        cmocka_unit_test(conf_version_errors),
        cmocka_unit_test(conf_sasl_and_tls),
        cmocka_unit_test(conf_properties_last),
        cmocka_unit_test(conf_brokers_required),
        cmocka_unit_test(values_share_a_block),
        cmocka_unit_test(values_full_block_kept),
        cmocka_unit_test(values_large_own_block),
        cmocka_unit_test(values_spares_are_capped),
        cmocka_unit_test(values_spares_have_a_ceiling),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
