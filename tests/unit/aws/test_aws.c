/*
 * The AWS credential chain and the sns and sqs backends against fake AWS
 * endpoints (tests/helpers/fake-aws/fake_aws.py, a real HTTP server on
 * 127.0.0.1 started by this program). The backends are driven through
 * their vtables as the publisher driver does: publish(), then poll() until
 * every record is completed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/fce_aws.h"
#include "aws/fce_aws_creds.h"
#include "aws/fce_aws_parse.h"
#include "fce_backend.h"
#include "http/fce_http.h"
#include "sns/fce_sns.h"
#include "sqs/fce_sqs.h"

extern const struct fce_backend fce_sns_backend;
extern const struct fce_backend fce_sqs_backend;

static char tmp_dir[256];
static char log_path[512];
static char base_url[64];
static pid_t fake_pid;

/* ---- the fake server ---- */

static void start_fake(void)
{
    char port_path[512], script[1024];
    const char *top = getenv("FCE_TOP");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/fce-aws-test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(tmp_dir));
    snprintf(port_path, sizeof(port_path), "%s/port", tmp_dir);
    snprintf(log_path, sizeof(log_path), "%s/requests.jsonl", tmp_dir);
    snprintf(script, sizeof(script), "%s/tests/helpers/fake-aws/fake_aws.py",
             top ? top : ".");

    fake_pid = fork();
    assert_true(fake_pid >= 0);
    if (fake_pid == 0) {
        execlp("python3", "python3", script, port_path, log_path, (char *)0);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        FILE *f = fopen(port_path, "r");
        int port = 0;
        if (f && fscanf(f, "%d", &port) == 1 && port > 0) {
            fclose(f);
            snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", port);
            return;
        }
        if (f)
            fclose(f);
        usleep(100 * 1000);
    }
    fail_msg("fake_aws.py did not start");
}

static void stop_fake(void)
{
    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        waitpid(fake_pid, NULL, 0);
    }
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    if (tmp_dir[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_dir);
}

static void control(const char *json)
{
    char url[128];
    snprintf(url, sizeof(url), "%s/_control", base_url);
    struct fce_http_request request = {
        .method = "POST", .url = url, .body = json, .body_len = strlen(json)};
    struct fce_http_response response;
    fce_http_response_init(&response);
    assert_int_equal(fce_http_fetch(&request, &response), 0);
    assert_int_equal(response.status, 200);
    fce_http_response_free(&response);
}

/* Truncates the request log. */
static void clear_log(void)
{
    FILE *f = fopen(log_path, "w");
    assert_non_null(f);
    fclose(f);
}

/* Counts logged requests whose line contains every needle. */
static int count_requests(const char *needle, const char *needle2)
{
    FILE *f = fopen(log_path, "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    assert_non_null(f);
    while (getline(&line, &cap, f) > 0)
        if (strstr(line, needle) && (!needle2 || strstr(line, needle2)))
            n++;
    free(line);
    fclose(f);
    return n;
}

static void write_file(const char *name, const char *text, char *path,
                       size_t size)
{
    snprintf(path, size, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Clears every variable the chain reads, and points IMDS at nothing. */
static void clean_env(void)
{
    static const char *const names[] = {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_ENDPOINT_URL_STS",
        "AWS_CREDENTIAL_EXPIRATION",
    };
    char path[600];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unsetenv(names[i]);
    snprintf(path, sizeof(path), "%s/no-credentials", tmp_dir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf(path, sizeof(path), "%s/no-config", tmp_dir);
    setenv("AWS_CONFIG_FILE", path, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    control("{\"clock_ms\": null, \"expiry_s\": 300, \"script\": []}");
}

static int setup(void **state)
{
    clean_env();
    clear_log();
    (void)state;
    return 0;
}

/* ---- credentials ---- */

static void creds_environment(void **state)
{
    struct fce_aws_creds *creds;
    const struct fce_aws_credentials *c;
    char err[512];
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), 0);
    assert_string_equal(c->source, "environment");
    assert_string_equal(c->access_key_id, "AKIDENV");
    assert_null(c->session_token);
    assert_int_equal(c->expires_unix_ms, 0);
    fce_aws_creds_close(creds);

    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));
    fce_aws_creds_close(creds);
    (void)state;
}

static void creds_shared_files(void **state)
{
    char cred_path[600], config_path[600], err[512];
    struct fce_aws_creds *creds;
    const struct fce_aws_credentials *c;
    write_file("credentials",
               "[default]\naws_access_key_id = AKIDDEFAULT\n"
               "aws_secret_access_key = default-secret\n\n"
               "# a comment\n[dev]\n aws_access_key_id=AKIDDEV \n"
               "aws_secret_access_key=dev-secret\naws_session_token=dev-tok\n",
               cred_path, sizeof(cred_path));
    write_file("config",
               "[default]\nregion = us-east-1\n[profile ops]\n"
               "aws_access_key_id = AKIDOPS\naws_secret_access_key = ops\n"
               "[profile sso]\nsso_start_url = https://example.invalid\n",
               config_path, sizeof(config_path));
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
    setenv("AWS_CONFIG_FILE", config_path, 1);

    const char *cases[][2] = {
        {NULL, "AKIDDEFAULT"}, {"dev", "AKIDDEV"}, {"ops", "AKIDOPS"}};
    for (size_t i = 0; i < 3; i++) {
        if (cases[i][0])
            setenv("AWS_PROFILE", cases[i][0], 1);
        assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
        assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), 0);
        assert_string_equal(c->source, "shared-file");
        assert_string_equal(c->access_key_id, cases[i][1]);
        fce_aws_creds_close(creds);
    }

    setenv("AWS_PROFILE", "missing", 1);
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "profile missing not found"));
    fce_aws_creds_close(creds);

    setenv("AWS_PROFILE", "sso", 1);
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not support"));
    fce_aws_creds_close(creds);
    (void)state;
}

struct fake_clock {
    int64_t now_ms;
};

static int64_t read_clock(void *arg)
{
    return ((struct fake_clock *)arg)->now_ms;
}

static void set_fake_clock(int64_t ms)
{
    char json[64];
    snprintf(json, sizeof(json), "{\"clock_ms\": %lld}", (long long)ms);
    control(json);
}

static void setup_web_identity(void)
{
    char token_path[600], sts[128];
    write_file("token", "web-identity-token\n", token_path, sizeof(token_path));
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/flyte", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_path, 1);
    snprintf(sts, sizeof(sts), "%s/", base_url);
    setenv("AWS_ENDPOINT_URL_STS", sts, 1);
}

/*
 * Credentials live five minutes and the clock advances by 10 s steps over
 * 30 minutes. The cache refreshes at four fifths of each lifetime, so it
 * never returns expired credentials and calls STS seven to nine times.
 */
static void creds_web_identity_refresh(void **state)
{
    struct fake_clock clock = {.now_ms = 1796000000000LL};
    struct fce_aws_creds_options options = {.now_ms = read_clock,
                                            .clock_arg = &clock};
    struct fce_aws_creds *creds;
    const struct fce_aws_credentials *c;
    char err[512];
    setup_web_identity();
    set_fake_clock(clock.now_ms);
    assert_int_equal(fce_aws_creds_open(&options, &creds), 0);

    for (int step = 0; step <= 180; step++) {
        assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), 0);
        assert_string_equal(c->source, "web-identity");
        assert_non_null(c->session_token);
        assert_true(c->expires_unix_ms > clock.now_ms);
        clock.now_ms += 10000;
        set_fake_clock(clock.now_ms);
    }
    uint64_t fetches = fce_aws_creds_fetch_count(creds);
    assert_true(fetches >= 7);
    assert_true(fetches <= 9);
    assert_int_equal(count_requests("AssumeRoleWithWebIdentity",
                                    "RoleSessionName=flyte-cloudevents-"),
                     (int)fetches);
    fce_aws_creds_close(creds);
    (void)state;
}

static void creds_web_identity_errors(void **state)
{
    struct fce_aws_creds *creds;
    const struct fce_aws_credentials *c;
    char err[512], token_path[600];
    setup_web_identity();
    write_file("bad-token", "wrong", token_path, sizeof(token_path));
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_path, 1);
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "InvalidIdentityToken"));
    fce_aws_creds_close(creds);

    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "AWS_WEB_IDENTITY_TOKEN_FILE"));
    fce_aws_creds_close(creds);
    (void)state;
}

static void creds_container(void **state)
{
    struct fce_aws_creds *creds;
    const struct fce_aws_credentials *c;
    char err[512], url[128], token_path[600];
    snprintf(url, sizeof(url), "%s/v1/credentials", base_url);
    write_file("pod-token", "pod-identity-token\n", token_path,
               sizeof(token_path));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_path, 1);
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), 0);
    assert_string_equal(c->source, "container");
    assert_non_null(c->session_token);
    assert_true(c->expires_unix_ms > 0);
    fce_aws_creds_close(creds);
    assert_int_equal(
        count_requests("/v1/credentials", "\"authorization\": \"pod-identity"),
        1);

    /* The relative form (ECS) on a base the test chooses. */
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v1/credentials", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "pod-identity-token", 1);
    struct fce_aws_creds_options options = {.container_host = base_url};
    assert_int_equal(fce_aws_creds_open(&options, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), 0);
    assert_string_equal(c->source, "container");
    fce_aws_creds_close(creds);

    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
    assert_int_equal(fce_aws_creds_open(&options, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "HTTP 403"));
    fce_aws_creds_close(creds);
    (void)state;
}

/* A full URI to a host that is neither loopback nor an AWS agent is
 * rejected before any request goes out. */
static void creds_container_host_rule(void **state)
{
    struct fce_aws_creds *creds;
    const struct fce_aws_credentials *c;
    char err[512];
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
           "http://198.51.100.7/v1/credentials", 1);
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not allowed"));
    fce_aws_creds_close(creds);
    assert_int_equal(count_requests("\"GET\"", NULL), 0);
    (void)state;
}

static void creds_imds(void **state)
{
    struct fce_aws_creds *creds;
    const struct fce_aws_credentials *c;
    char err[512];
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", base_url, 1);
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), 0);
    assert_string_equal(c->source, "imds");
    assert_non_null(c->session_token);
    fce_aws_creds_close(creds);
    assert_int_equal(count_requests("\"PUT\"", "/latest/api/token"), 1);
    assert_int_equal(
        count_requests("security-credentials/node-role", "imds-session-token"),
        1);
    (void)state;
}

static void creds_none(void **state)
{
    struct fce_aws_creds *creds;
    const struct fce_aws_credentials *c;
    char err[512];
    assert_int_equal(fce_aws_creds_open(NULL, &creds), 0);
    assert_int_equal(fce_aws_creds_get(creds, &c, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "no AWS credentials found"));
    fce_aws_creds_close(creds);
    (void)state;
}

/* ---- the backends ---- */

#define MAX_RECORDS 32

struct harness {
    struct fce_publisher_config publisher;
    struct fce_aws_settings settings;
    struct fce_backend_ctx ctx;
    struct fce_pub_record records[MAX_RECORDS];
    struct fce_pub_record *pointers[MAX_RECORDS];
    char ids[MAX_RECORDS][32];
    enum fce_outcome outcomes[MAX_RECORDS];
    char reasons[MAX_RECORDS][256];
    int completions[MAX_RECORDS];
    size_t completed;
    const struct fce_backend *backend;
    void *state;
};

static void on_complete(void *driver, struct fce_pub_record *record,
                        enum fce_outcome outcome, const char *reason)
{
    struct harness *h = driver;
    size_t i = (size_t)(record - h->records);
    assert_true(i < MAX_RECORDS);
    h->outcomes[i] = outcome;
    snprintf(h->reasons[i], sizeof(h->reasons[i]), "%s", reason ? reason : "");
    h->completions[i]++;
    h->completed++;
}

static void fill_record(struct harness *h, size_t i)
{
    static const char *const names[] = {
        "specversion", "id", "source", "type", "subject", "datacontenttype"};
    struct fce_pub_record *r = &h->records[i];
    snprintf(h->ids[i], sizeof(h->ids[i]), "event-%zu.RUNNING", i);
    const char *values[] = {"1.0",
                            h->ids[i],
                            "https://github.com/flyteorg/flyteadmin",
                            "com.flyte.resource.node",
                            "flyteidl.admin.NodeExecutionEventRequest",
                            "application/protobuf"};
    memset(r, 0, sizeof(*r));
    r->seq = 100 + i;
    r->ce.kind = FCE_KIND_NODE;
    for (size_t k = 0; k < 6; k++)
        r->ce.attrs[k] = (struct fce_ce_attr){names[k], strlen(names[k]),
                                              values[k], strlen(values[k])};
    r->ce.attr_count = 6;
    r->ce.partition_key = "flytesnacks/development/abc";
    r->ce.partition_key_len = strlen(r->ce.partition_key);
    r->ce.data = (const uint8_t *)"\x0a\x03\x61+b";
    r->ce.data_len = 5;
    h->pointers[i] = r;
}

static void harness_init(struct harness *h, const struct fce_backend *backend,
                         const char *destination)
{
    memset(h, 0, sizeof(*h));
    h->backend = backend;
    h->publisher.name = "unit";
    h->publisher.type = (char *)backend->type->name;
    h->publisher.topic = (char *)destination;
    h->settings = (struct fce_aws_settings){
        .region = "us-east-1",
        .endpoint = base_url,
        .max_batch_entries = 10,
        .max_request_bytes = 262144,
        .max_message_bytes = 262144,
        .max_in_flight = 4,
        .request_timeout_ms = 5000,
        .connect_timeout_ms = 2000,
        .subject = true,
    };
    h->ctx = (struct fce_backend_ctx){.publisher = &h->publisher,
                                      .settings = &h->settings,
                                      .driver = h,
                                      .complete = on_complete};
    for (size_t i = 0; i < MAX_RECORDS; i++)
        fill_record(h, i);
    setenv("AWS_ACCESS_KEY_ID", "AKIDUNIT", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "unit-secret", 1);
}

static void harness_open(struct harness *h)
{
    assert_int_equal(h->backend->open(&h->ctx, &h->state), 0);
}

/* Publishes records [first, first + count) and polls until all are done. */
static void publish_wait(struct harness *h, size_t first, size_t count)
{
    size_t want = h->completed + count;
    int accepted = h->backend->publish(h->state, &h->pointers[first], count);
    assert_int_equal(accepted, (int)count);
    for (int i = 0; i < 200 && h->completed < want; i++)
        assert_int_equal(h->backend->poll(h->state, 50), 0);
    assert_int_equal(h->completed, want);
}

static void sns_batch_and_single(void **state)
{
    struct harness h;
    harness_init(&h, &fce_sns_backend, "arn:aws:sns:us-east-1:1:topic");
    h.settings.message_attributes =
        (struct fce_strlist){(char *[]){"type", "partitionkey"}, 2};
    harness_open(&h);

    publish_wait(&h, 0, 12);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(h.outcomes[i], FCE_OUTCOME_DELIVERED);
    /* 12 records: one batch of 10, one of 2. */
    assert_int_equal(count_requests("Action=PublishBatch", NULL), 2);
    assert_int_equal(count_requests("member.10.Id=r109", NULL), 1);
    assert_int_equal(
        count_requests("Subject=flyteidl.admin.NodeExecutionEventRequest",
                       "MessageAttributes.entry.2.Name=ce-partitionkey"),
        2);
    assert_int_equal(count_requests("\"authorization\": \"AWS4-HMAC-SHA256 "
                                    "Credential=AKIDUNIT/",
                                    "/us-east-1/sns/aws4_request"),
                     2);
    /* A standard topic gets neither FIFO parameter. */
    assert_int_equal(count_requests("MessageGroupId", NULL), 0);
    assert_int_equal(count_requests("MessageDeduplicationId", NULL), 0);

    publish_wait(&h, 20, 1);
    assert_int_equal(h.outcomes[20], FCE_OUTCOME_DELIVERED);
    assert_int_equal(count_requests("Action=Publish&", "Message=%7B"), 1);
    h.backend->close(h.state);
    (void)state;
}

static void sns_fifo_ids(void **state)
{
    struct harness h;
    char dedup[65];
    harness_init(&h, &fce_sns_backend, "arn:aws:sns:us-east-1:1:flyte.fifo");
    harness_open(&h);
    publish_wait(&h, 0, 3);
    fce_sigv4_sha256_hex("event-1.RUNNING", 15, dedup);
    assert_int_equal(count_requests("member.2.MessageGroupId=flytesnacks%2F"
                                    "development%2Fabc",
                                    dedup),
                     1);
    h.backend->close(h.state);
    (void)state;
}

/* A receiver fault on one entry retries only that record; re-published, it
 * goes out alone with the same entry id. A sender fault is rejected. */
static void sns_partial_failure(void **state)
{
    struct harness h;
    harness_init(&h, &fce_sns_backend, "arn:aws:sns:us-east-1:1:topic");
    harness_open(&h);
    control("{\"script\": [{\"fail\": {\"r103\": \"receiver\", "
            "\"r105\": \"sender\"}}]}");
    publish_wait(&h, 0, 10);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(h.outcomes[i], i == 3   ? FCE_OUTCOME_RETRY
                                        : i == 5 ? FCE_OUTCOME_REJECTED
                                                 : FCE_OUTCOME_DELIVERED);
    assert_non_null(strstr(h.reasons[5], "InvalidParameter"));

    publish_wait(&h, 3, 1);
    assert_int_equal(h.outcomes[3], FCE_OUTCOME_DELIVERED);
    assert_int_equal(h.completions[3], 2);
    assert_int_equal(count_requests("Action=Publish&", NULL), 1);
    assert_int_equal(count_requests("r103", NULL), 1);
    h.backend->close(h.state);
    (void)state;
}

/* ExpiredToken: one credential refresh (one STS call), one re-sent
 * request with the new session token, then success. */
static void sns_expired_token(void **state)
{
    struct harness h;
    harness_init(&h, &fce_sns_backend, "arn:aws:sns:us-east-1:1:topic");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setup_web_identity();
    harness_open(&h);
    assert_int_equal(count_requests("AssumeRoleWithWebIdentity", NULL), 1);

    control("{\"script\": [\"expired\"]}");
    publish_wait(&h, 0, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(h.outcomes[i], FCE_OUTCOME_DELIVERED);
    assert_int_equal(count_requests("AssumeRoleWithWebIdentity", NULL), 2);
    assert_int_equal(count_requests("Action=PublishBatch", NULL), 2);
    assert_int_equal(count_requests("Action=PublishBatch",
                                    "\"x-amz-security-token\": \"token-STS"),
                     2);

    /* A second ExpiredToken in a row is not retried again at once. */
    control("{\"script\": [\"expired\", \"expired\"]}");
    publish_wait(&h, 10, 2);
    assert_int_equal(h.outcomes[10], FCE_OUTCOME_RETRY);
    assert_int_equal(h.outcomes[11], FCE_OUTCOME_RETRY);
    h.backend->close(h.state);
    (void)state;
}

static void sns_error_classes(void **state)
{
    static const struct {
        const char *step;
        enum fce_outcome outcome;
        const char *reason;
    } cases[] = {
        {"throttled", FCE_OUTCOME_RETRY, "HTTP 429 Throttled"},
        {"internal", FCE_OUTCOME_RETRY, "HTTP 500 InternalError"},
        {"skew", FCE_OUTCOME_REJECTED, "host clock"},
        {"invalid", FCE_OUTCOME_REJECTED, "HTTP 400 InvalidParameter"},
    };
    struct harness h;
    char script[128];
    harness_init(&h, &fce_sns_backend, "arn:aws:sns:us-east-1:1:topic");
    harness_open(&h);
    for (size_t i = 0; i < 4; i++) {
        snprintf(script, sizeof(script), "{\"script\": [\"%s\"]}",
                 cases[i].step);
        control(script);
        publish_wait(&h, i * 2, 2);
        assert_int_equal(h.outcomes[i * 2], cases[i].outcome);
        assert_int_equal(h.outcomes[i * 2 + 1], cases[i].outcome);
        if (!strstr(h.reasons[i * 2], cases[i].reason))
            fail_msg("%s: reason %s", cases[i].step, h.reasons[i * 2]);
    }
    h.backend->close(h.state);
    (void)state;
}

/* Nothing listens: every record comes back RETRY, nothing crashes. */
static void sns_connection_refused(void **state)
{
    struct harness h;
    harness_init(&h, &fce_sns_backend, "arn:aws:sns:us-east-1:1:topic");
    h.settings.endpoint = "http://127.0.0.1:1";
    harness_open(&h);
    publish_wait(&h, 0, 3);
    assert_int_equal(h.outcomes[0], FCE_OUTCOME_RETRY);
    assert_non_null(strstr(h.reasons[0], "request failed"));
    h.backend->close(h.state);
    (void)state;
}

static void sns_oversize_rejected(void **state)
{
    struct harness h;
    harness_init(&h, &fce_sns_backend, "arn:aws:sns:us-east-1:1:topic");
    h.settings.max_message_bytes = 200;
    harness_open(&h);
    publish_wait(&h, 0, 2);
    assert_int_equal(h.outcomes[0], FCE_OUTCOME_REJECTED);
    assert_non_null(strstr(h.reasons[0], "exceeds aws.maxMessageBytes 200"));
    assert_int_equal(count_requests("\"POST\"", NULL), 0);
    h.backend->close(h.state);
    (void)state;
}

static void sns_bad_settings(void **state)
{
    struct harness h;
    harness_init(&h, &fce_sns_backend, "arn:aws:sns:us-east-1:1:topic");
    h.settings.message_attributes =
        (struct fce_strlist){(char *[]){"colour"}, 1};
    assert_int_equal(h.backend->open(&h.ctx, &h.state), -EINVAL);

    harness_init(&h, &fce_sns_backend, "arn:aws:sns:us-east-1:1:topic");
    h.settings.endpoint = "ftp://127.0.0.1:21";
    assert_int_equal(h.backend->open(&h.ctx, &h.state), -EINVAL);
    (void)state;
}

static void sqs_batch_outcomes(void **state)
{
    struct harness h;
    char url[128];
    snprintf(url, sizeof(url), "%s/000000000000/queue", base_url);
    harness_init(&h, &fce_sqs_backend, url);
    h.settings.endpoint = NULL; /* derived from the queue URL */
    h.settings.max_request_bytes = 1048576;
    h.settings.max_message_bytes = 1048576;
    harness_open(&h);

    control("{\"script\": [{\"fail\": {\"r101\": \"sender\", "
            "\"r102\": \"receiver\"}}, \"throttled\"]}");
    publish_wait(&h, 0, 5);
    assert_int_equal(h.outcomes[0], FCE_OUTCOME_DELIVERED);
    assert_int_equal(h.outcomes[1], FCE_OUTCOME_REJECTED);
    assert_int_equal(h.outcomes[2], FCE_OUTCOME_RETRY);
    assert_int_equal(h.outcomes[3], FCE_OUTCOME_DELIVERED);
    assert_int_equal(count_requests("\"x-amz-target\": "
                                    "\"AmazonSQS.SendMessageBatch\"",
                                    "/us-east-1/sqs/aws4_request"),
                     1);
    publish_wait(&h, 10, 1);
    assert_int_equal(h.outcomes[10], FCE_OUTCOME_RETRY);
    assert_non_null(strstr(h.reasons[10], "RequestThrottled"));
    h.backend->close(h.state);
    (void)state;
}

/* ---- parsing and classification ---- */

static void classify_like_standard_mode(void **state)
{
    assert_int_equal(fce_aws_classify(429, 0, ""), FCE_AWS_THROTTLING);
    assert_int_equal(fce_aws_classify(400, 0, "Throttling"),
                     FCE_AWS_THROTTLING);
    assert_int_equal(fce_aws_classify(400, 0, "KMSThrottling"),
                     FCE_AWS_THROTTLING);
    assert_int_equal(fce_aws_classify(503, 0, NULL), FCE_AWS_TRANSIENT);
    assert_int_equal(fce_aws_classify(0, -ECONNRESET, NULL), FCE_AWS_TRANSIENT);
    assert_int_equal(fce_aws_classify(400, 0, "RequestTimeout"),
                     FCE_AWS_TRANSIENT);
    assert_int_equal(fce_aws_classify(403, 0, "ExpiredTokenException"),
                     FCE_AWS_EXPIRED_TOKEN);
    assert_int_equal(fce_aws_classify(403, 0, "RequestTimeTooSkewed"),
                     FCE_AWS_CLOCK_SKEW);
    assert_int_equal(fce_aws_classify(404, 0, "NotFound"), FCE_AWS_PERMANENT);
    assert_int_equal(fce_aws_classify_entry("InternalError", true),
                     FCE_AWS_TRANSIENT);
    assert_int_equal(fce_aws_classify_entry("Throttled", true),
                     FCE_AWS_THROTTLING);
    assert_int_equal(fce_aws_classify_entry("Whatever", false),
                     FCE_AWS_TRANSIENT);
    assert_int_equal(fce_aws_classify_entry("InvalidParameter", true),
                     FCE_AWS_PERMANENT);
    (void)state;
}

static void parse_hostile_input(void **state)
{
    static const char *const inputs[] = {
        "",           "{",   "{\"a\":",           "{\"a\":[1,2",
        "[",          "\"",  "{\"a\":\"\\u12\"}", "<",
        "<a",         "<a>", "<Code>x",           "&#xffffffff;",
        "<a>&#;</a>",
    };
    struct fce_buf out = FCE_BUF_INIT;
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct fce_slice s = {inputs[i], strlen(inputs[i])}, v;
        (void)fce_aws_json_member(s, "a", &v);
        (void)fce_aws_json_get_string(s, "a", &out);
        (void)fce_aws_xml_get_text(s, "a", &out);
        (void)fce_aws_xml_get_text(s, "Code", &out);
    }
    struct fce_slice doc = {"{\"x\":[{\"Id\":\"a\\u00e9\\n\"}],\"y\":true}",
                            36};
    struct fce_slice list, item;
    assert_int_equal(fce_aws_json_member(doc, "x", &list), 0);
    assert_int_equal(fce_aws_json_next(&list, &item), 1);
    assert_int_equal(fce_aws_json_get_string(item, "Id", &out), 0);
    assert_string_equal(out.data, "a\xc3\xa9\n");
    assert_int_equal(fce_aws_json_next(&list, &item), 0);
    assert_int_equal(fce_aws_json_member(doc, "y", &item), 0);
    assert_true(fce_aws_json_is_true(item));

    struct fce_slice xml = {"<R><ns:Code a=\"1\">A&amp;B&#x41;</ns:Code></R>",
                            43};
    assert_int_equal(fce_aws_xml_get_text(xml, "Code", &out), 0);
    assert_string_equal(out.data, "A&BA");

    int64_t ms = 0;
    assert_int_equal(fce_aws_parse_time("2026-12-04T08:11:02Z", 20, &ms), 0);
    assert_int_equal(ms, 1796371862000LL);
    assert_int_equal(fce_aws_parse_time("2026-12-04T09:11:02.5+01:00", 27, &ms),
                     0);
    assert_int_equal(ms, 1796371862500LL);
    assert_int_equal(fce_aws_parse_time("yesterday", 9, &ms), -EINVAL);
    fce_buf_free(&out);
    (void)state;
}

int main(void)
{
    start_fake();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(creds_environment, setup),
        cmocka_unit_test_setup(creds_shared_files, setup),
        cmocka_unit_test_setup(creds_web_identity_refresh, setup),
        cmocka_unit_test_setup(creds_web_identity_errors, setup),
        cmocka_unit_test_setup(creds_container, setup),
        cmocka_unit_test_setup(creds_container_host_rule, setup),
        cmocka_unit_test_setup(creds_imds, setup),
        cmocka_unit_test_setup(creds_none, setup),
        cmocka_unit_test_setup(sns_batch_and_single, setup),
        cmocka_unit_test_setup(sns_fifo_ids, setup),
        cmocka_unit_test_setup(sns_partial_failure, setup),
        cmocka_unit_test_setup(sns_expired_token, setup),
        cmocka_unit_test_setup(sns_error_classes, setup),
        cmocka_unit_test_setup(sns_connection_refused, setup),
        cmocka_unit_test_setup(sns_oversize_rejected, setup),
        cmocka_unit_test_setup(sns_bad_settings, setup),
        cmocka_unit_test_setup(sqs_batch_outcomes, setup),
        cmocka_unit_test(classify_like_standard_mode),
        cmocka_unit_test(parse_hostile_input),
    };
    int failed = cmocka_run_group_tests_name("aws", tests, NULL, NULL);
    stop_fake();
    return failed;
}
