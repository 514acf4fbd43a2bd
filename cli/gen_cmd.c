/*
 * fce gen: writes realistic Flyte event streams for demos and benchmarks.
 * Each run is one workflow execution: the workflow's phases, every node's
 * phases, and for task nodes one or more task attempts (retries after a
 * retryable failure), with phase versions for log updates, inputs, outputs
 * and errors. The same --seed always gives the same bytes.
 *
 * Output is either a folder of NNNNNN-<kind>.pb files (one request each,
 * in order) or the stream protocol's delimited framing (common/fce_stream.h)
 * in one file, which `fce replay` reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fce_buf.h"
#include "fce_cli.h"
#include "fce_event.h"
#include "fce_stream.h"
#include "flyteidl/admin/event.pb-c.h"

static const char usage_text[] =
    "usage: fce gen [OPTIONS] (--out DIR | --stream FILE)\n"
    "\n"
    "Generates whole workflow runs as Flyte event requests.\n"
    "  --out DIR        write NNNNNN-<kind>.pb files (workflow, node, task)\n"
    "  --stream FILE    write one delimited stream file ('-' for stdout)\n"
    "  --runs N         workflow runs (default 1)\n"
    "  --nodes N        task nodes per run (default 4)\n"
    "  --retries N      attempts a task may retry (default 2)\n"
    "  --fail-percent P chance that one task attempt fails, percent "
    "(default 20)\n"
    "  --seed N         random seed (default 1); the same seed gives the "
    "same output\n"
    "  --project NAME   execution project (default flytesnacks)\n"
    "  --domain NAME    execution domain (default development)\n"
    "  --start SECONDS  Unix time of the first event (default 1767225600, "
    "2026-01-01)\n";

struct gen_args {
    const char *out_dir;
    const char *stream_path;
    long runs, nodes, retries, fail_percent;
    uint64_t seed;
    const char *project, *domain;
    int64_t start;
};

/* splitmix64: small, fast and the same on every platform. */
struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
    return n ? rng_next(r) % n : 0;
}

/* Where the generated requests go. */
struct sink {
    const struct gen_args *args;
    FILE *stream;
    uint64_t count;
    uint64_t bytes;
    struct fce_buf frame;
};

struct clock {
    int64_t ms; /* Unix milliseconds of the next event */
};

static void advance(struct rng *r, struct clock *c, uint64_t min_ms,
                    uint64_t spread_ms)
{
    c->ms += (int64_t)(min_ms + rng_below(r, spread_ms));
}

static Google__Protobuf__Timestamp stamp(const struct clock *c)
{
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = c->ms / 1000;
    t.nanos = (int32_t)(c->ms % 1000) * 1000000;
    return t;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;

    int rc = 0;
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0) {
            rc = -errno;
            break;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* Writes one packed request as a file or a frame. */
static int emit(struct sink *sink, enum fce_kind kind, const uint8_t *data,
                size_t len)
{
    sink->count++;
    sink->bytes += len;

    if (sink->stream) {
        fce_buf_reset(&sink->frame);
        int rc =
            fce_stream_frame_encode(&sink->frame, sink->count, kind, data, len);
        if (rc != 0)
            return rc;
        if (fwrite(sink->frame.data, 1, sink->frame.len, sink->stream) !=
            sink->frame.len)
            return -EIO;
        return 0;
    }

    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%06" PRIu64 "-%s.pb", sink->args->out_dir,
             sink->count, fce_kind_name(kind));
    return write_file(path, data, len);
}

static int emit_message(struct sink *sink, enum fce_kind kind,
                        const ProtobufCMessage *message)
{
    size_t len = protobuf_c_message_get_packed_size(message);
    uint8_t *data = malloc(len ? len : 1);
    if (!data)
        return -ENOMEM;
    protobuf_c_message_pack(message, data);
    int rc = emit(sink, kind, data, len);
    free(data);
    return rc;
}

/* Everything one run shares. */
struct run {
    struct rng *rng;
    struct clock clock;
    struct sink *sink;
    Flyteidl__Core__WorkflowExecutionIdentifier execution;
    char name[32];
    char uri_prefix[160];
    uint64_t request_seq;
};

static void request_id(struct run *run, char *out, size_t size)
{
    snprintf(out, size, "%s-%04" PRIu64, run->name, ++run->request_seq);
}

static int workflow_event(struct run *run,
                          Flyteidl__Core__WorkflowExecution__Phase phase,
                          const char *error_message)
{
    Flyteidl__Admin__WorkflowExecutionEventRequest req =
        FLYTEIDL__ADMIN__WORKFLOW_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__WorkflowExecutionEvent ev =
        FLYTEIDL__EVENT__WORKFLOW_EXECUTION_EVENT__INIT;
    Flyteidl__Core__ExecutionError err = FLYTEIDL__CORE__EXECUTION_ERROR__INIT;
    Google__Protobuf__Timestamp at = stamp(&run->clock);
    char id[64], uri[256];

    request_id(run, id, sizeof(id));
    req.request_id = id;
    req.event = &ev;
    ev.execution_id = &run->execution;
    ev.producer_id = "propeller";
    ev.phase = phase;
    ev.occurred_at = &at;
    if (phase == FLYTEIDL__CORE__WORKFLOW_EXECUTION__PHASE__SUCCEEDED) {
        snprintf(uri, sizeof(uri), "%s/outputs.pb", run->uri_prefix);
        ev.output_result_case =
            FLYTEIDL__EVENT__WORKFLOW_EXECUTION_EVENT__OUTPUT_RESULT_OUTPUT_URI;
        ev.output_uri = uri;
    } else if (error_message) {
        err.code = "USER:RuntimeError";
        err.message = (char *)error_message;
        err.kind = FLYTEIDL__CORE__EXECUTION_ERROR__ERROR_KIND__USER;
        ev.output_result_case =
            FLYTEIDL__EVENT__WORKFLOW_EXECUTION_EVENT__OUTPUT_RESULT_ERROR;
        ev.error = &err;
    }
    advance(run->rng, &run->clock, 5, 40);
    return emit_message(run->sink, FCE_KIND_WORKFLOW, &req.base);
}

struct node {
    Flyteidl__Core__NodeExecutionIdentifier id;
    char node_id[32];
    char node_name[64];
    bool task_node;
};

static int node_event(struct run *run, struct node *node,
                      Flyteidl__Core__NodeExecution__Phase phase,
                      const char *error_message)
{
    Flyteidl__Admin__NodeExecutionEventRequest req =
        FLYTEIDL__ADMIN__NODE_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__NodeExecutionEvent ev =
        FLYTEIDL__EVENT__NODE_EXECUTION_EVENT__INIT;
    Flyteidl__Core__ExecutionError err = FLYTEIDL__CORE__EXECUTION_ERROR__INIT;
    Google__Protobuf__Timestamp at = stamp(&run->clock);
    Google__Protobuf__Timestamp reported = at;
    char id[64], in_uri[256], out_uri[256];

    request_id(run, id, sizeof(id));
    req.request_id = id;
    req.event = &ev;
    ev.id = &node->id;
    ev.producer_id = "propeller";
    ev.phase = phase;
    ev.occurred_at = &at;
    reported.nanos = (reported.nanos + 2000000) % 1000000000;
    ev.reported_at = &reported;
    ev.spec_node_id = node->node_id;
    ev.node_name = node->node_name;
    ev.event_version = 1;

    snprintf(in_uri, sizeof(in_uri), "%s/%s/inputs.pb", run->uri_prefix,
             node->node_id);
    ev.input_value_case =
        FLYTEIDL__EVENT__NODE_EXECUTION_EVENT__INPUT_VALUE_INPUT_URI;
    ev.input_uri = in_uri;
    if (phase == FLYTEIDL__CORE__NODE_EXECUTION__PHASE__SUCCEEDED &&
        node->task_node) {
        snprintf(out_uri, sizeof(out_uri), "%s/%s/0/outputs.pb",
                 run->uri_prefix, node->node_id);
        ev.output_result_case =
            FLYTEIDL__EVENT__NODE_EXECUTION_EVENT__OUTPUT_RESULT_OUTPUT_URI;
        ev.output_uri = out_uri;
    } else if (error_message) {
        err.code = "USER:RuntimeError";
        err.message = (char *)error_message;
        err.kind = FLYTEIDL__CORE__EXECUTION_ERROR__ERROR_KIND__USER;
        ev.output_result_case =
            FLYTEIDL__EVENT__NODE_EXECUTION_EVENT__OUTPUT_RESULT_ERROR;
        ev.error = &err;
    }
    advance(run->rng, &run->clock, 2, 20);
    return emit_message(run->sink, FCE_KIND_NODE, &req.base);
}

struct attempt {
    struct run *run;
    struct node *node;
    Flyteidl__Core__Identifier task;
    uint32_t retry_attempt;
};

static int task_event(struct attempt *a,
                      Flyteidl__Core__TaskExecution__Phase phase,
                      uint32_t phase_version, const char *error_message)
{
    Flyteidl__Admin__TaskExecutionEventRequest req =
        FLYTEIDL__ADMIN__TASK_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__TaskExecutionEvent ev =
        FLYTEIDL__EVENT__TASK_EXECUTION_EVENT__INIT;
    Flyteidl__Core__ExecutionError err = FLYTEIDL__CORE__EXECUTION_ERROR__INIT;
    Flyteidl__Core__TaskLog log = FLYTEIDL__CORE__TASK_LOG__INIT;
    Flyteidl__Core__TaskLog *logs[] = {&log};
    Google__Protobuf__Timestamp at = stamp(&a->run->clock);
    char id[64], log_uri[256], out_uri[256];

    request_id(a->run, id, sizeof(id));
    req.request_id = id;
    req.event = &ev;
    ev.task_id = &a->task;
    ev.parent_node_execution_id = &a->node->id;
    ev.retry_attempt = a->retry_attempt;
    ev.phase = phase;
    ev.phase_version = phase_version;
    ev.producer_id = "propeller";
    ev.occurred_at = &at;
    ev.reported_at = &at;
    ev.task_type = "python-task";
    ev.event_version = 1;
    if (phase == FLYTEIDL__CORE__TASK_EXECUTION__PHASE__RUNNING) {
        snprintf(log_uri, sizeof(log_uri),
                 "https://logs.example.com/%s-%s-%" PRIu32, a->run->name,
                 a->node->node_id, a->retry_attempt);
        log.uri = log_uri;
        log.name = "Kubernetes Logs (User)";
        ev.n_logs = 1;
        ev.logs = logs;
    }
    if (phase == FLYTEIDL__CORE__TASK_EXECUTION__PHASE__SUCCEEDED) {
        snprintf(out_uri, sizeof(out_uri), "%s/%s/%" PRIu32 "/outputs.pb",
                 a->run->uri_prefix, a->node->node_id, a->retry_attempt);
        ev.output_result_case =
            FLYTEIDL__EVENT__TASK_EXECUTION_EVENT__OUTPUT_RESULT_OUTPUT_URI;
        ev.output_uri = out_uri;
    } else if (error_message) {
        err.code = "USER:RuntimeError";
        err.message = (char *)error_message;
        err.kind = FLYTEIDL__CORE__EXECUTION_ERROR__ERROR_KIND__USER;
        ev.output_result_case =
            FLYTEIDL__EVENT__TASK_EXECUTION_EVENT__OUTPUT_RESULT_ERROR;
        ev.error = &err;
    }
    advance(a->run->rng, &a->run->clock, 50, 2000);
    return emit_message(a->run->sink, FCE_KIND_TASK, &req.base);
}

#define TRY(expr)                                                              \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != 0)                                                          \
            return rc_;                                                        \
    } while (0)

/* One attempt: queued, running with log updates (phase versions), then
 * succeeded or failed. Returns 0, 1 when the attempt failed, or -errno. */
static int run_attempt(struct attempt *a, bool fail, bool last)
{
    typedef Flyteidl__Core__TaskExecution__Phase phase_t;
    const phase_t queued = FLYTEIDL__CORE__TASK_EXECUTION__PHASE__QUEUED;
    const phase_t running = FLYTEIDL__CORE__TASK_EXECUTION__PHASE__RUNNING;

    TRY(task_event(a, queued, 0, NULL));
    TRY(task_event(a, FLYTEIDL__CORE__TASK_EXECUTION__PHASE__INITIALIZING, 0,
                   NULL));
    uint32_t updates = 1 + (uint32_t)rng_below(a->run->rng, 3);
    for (uint32_t v = 0; v < updates; v++)
        TRY(task_event(a, running, v, NULL));

    if (!fail) {
        TRY(task_event(a, FLYTEIDL__CORE__TASK_EXECUTION__PHASE__SUCCEEDED, 0,
                       NULL));
        return 0;
    }
    TRY(task_event(
        a,
        last ? FLYTEIDL__CORE__TASK_EXECUTION__PHASE__FAILED
             : FLYTEIDL__CORE__TASK_EXECUTION__PHASE__RETRYABLE_FAILED,
        0, "task failed: ValueError: \"batch\" is empty\n"));
    return 1;
}

/* A task node: its attempts, then its final phase. Returns 0, 1 when the
 * node failed, or -errno. */
static int run_task_node(struct run *run, struct node *node, long index)
{
    const struct gen_args *args = run->sink->args;
    char task_name[64];
    struct attempt a = {.run = run, .node = node};

    snprintf(task_name, sizeof(task_name), "my.workflows.etl.t%ld", index);
    a.task = (Flyteidl__Core__Identifier)FLYTEIDL__CORE__IDENTIFIER__INIT;
    a.task.resource_type = FLYTEIDL__CORE__RESOURCE_TYPE__TASK;
    a.task.project = run->execution.project;
    a.task.domain = run->execution.domain;
    a.task.name = task_name;
    a.task.version = "v1";

    TRY(node_event(run, node, FLYTEIDL__CORE__NODE_EXECUTION__PHASE__QUEUED,
                   NULL));
    TRY(node_event(run, node, FLYTEIDL__CORE__NODE_EXECUTION__PHASE__RUNNING,
                   NULL));
    for (long attempt = 0; attempt <= args->retries; attempt++) {
        bool last = attempt == args->retries;
        bool fail = (long)rng_below(run->rng, 100) < args->fail_percent;
        a.retry_attempt = (uint32_t)attempt;
        int rc = run_attempt(&a, fail, last);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return node_event(run, node,
                              FLYTEIDL__CORE__NODE_EXECUTION__PHASE__SUCCEEDED,
                              NULL);
    }
    TRY(node_event(run, node, FLYTEIDL__CORE__NODE_EXECUTION__PHASE__FAILED,
                   "all attempts of the task failed"));
    return 1;
}

static void init_node(struct run *run, struct node *node, const char *id,
                      const char *name, bool task_node)
{
    node->id = (Flyteidl__Core__NodeExecutionIdentifier)
        FLYTEIDL__CORE__NODE_EXECUTION_IDENTIFIER__INIT;
    snprintf(node->node_id, sizeof(node->node_id), "%s", id);
    snprintf(node->node_name, sizeof(node->node_name), "%s", name);
    node->id.node_id = node->node_id;
    node->id.execution_id = &run->execution;
    node->task_node = task_node;
}

/* start-node and end-node pass through quickly, as in FlytePropeller. */
static int run_marker_node(struct run *run, const char *id)
{
    struct node node;
    init_node(run, &node, id, id, false);
    TRY(node_event(run, &node, FLYTEIDL__CORE__NODE_EXECUTION__PHASE__QUEUED,
                   NULL));
    return node_event(run, &node,
                      FLYTEIDL__CORE__NODE_EXECUTION__PHASE__SUCCEEDED, NULL);
}

static int run_workflow(struct run *run)
{
    const struct gen_args *args = run->sink->args;
    typedef Flyteidl__Core__WorkflowExecution__Phase wf_t;
    const wf_t failed = FLYTEIDL__CORE__WORKFLOW_EXECUTION__PHASE__FAILED;

    TRY(workflow_event(run, FLYTEIDL__CORE__WORKFLOW_EXECUTION__PHASE__QUEUED,
                       NULL));
    TRY(workflow_event(run, FLYTEIDL__CORE__WORKFLOW_EXECUTION__PHASE__RUNNING,
                       NULL));
    TRY(run_marker_node(run, "start-node"));

    for (long i = 0; i < args->nodes; i++) {
        struct node node;
        char id[32], name[64];
        snprintf(id, sizeof(id), "n%ld", i);
        snprintf(name, sizeof(name), "t%ld", i);
        init_node(run, &node, id, name, true);
        int rc = run_task_node(run, &node, i);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            TRY(workflow_event(
                run, FLYTEIDL__CORE__WORKFLOW_EXECUTION__PHASE__FAILING, NULL));
            char message[96];
            snprintf(message, sizeof(message),
                     "node %s failed: all attempts of its task failed", id);
            return workflow_event(run, failed, message);
        }
    }
    TRY(run_marker_node(run, "end-node"));
    TRY(workflow_event(
        run, FLYTEIDL__CORE__WORKFLOW_EXECUTION__PHASE__SUCCEEDING, NULL));
    return workflow_event(
        run, FLYTEIDL__CORE__WORKFLOW_EXECUTION__PHASE__SUCCEEDED, NULL);
}

static int parse_long(const char *name, const char *text, long min, long max,
                      long *out)
{
    char *end;
    errno = 0;
    long value = strtol(text ? text : "", &end, 10);
    if (!text || !*text || *end || errno || value < min || value > max) {
        fprintf(stderr, "fce gen: invalid %s '%s'; give a number %ld..%ld\n",
                name, text ? text : "", min, max);
        return -1;
    }
    *out = value;
    return 0;
}

/* Accepts a project or domain that ingest would accept: not empty, no
 * control characters. */
static int parse_name(const char *name, const char *text, const char **out)
{
    bool ok = text && *text;

    for (const char *c = text; ok && *c; c++)
        ok = (unsigned char)*c >= 0x20 && *c != 0x7F;
    if (!ok) {
        fprintf(stderr,
                "fce gen: invalid %s '%s'; give a non-empty name without "
                "control characters\n",
                name, text ? text : "");
        return -1;
    }
    *out = text;
    return 0;
}

static int parse(int argc, char **argv, struct gen_args *args)
{
    long value;
    *args = (struct gen_args){.runs = 1,
                              .nodes = 4,
                              .retries = 2,
                              .fail_percent = 20,
                              .seed = 1,
                              .project = "flytesnacks",
                              .domain = "development",
                              .start = 1767225600};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (strcmp(opt, "--out") == 0 && val)
            args->out_dir = val;
        else if (strcmp(opt, "--stream") == 0 && val)
            args->stream_path = val;
        else if (strcmp(opt, "--runs") == 0)
            rc = parse_long(opt, val, 1, 1000000, &args->runs);
        else if (strcmp(opt, "--nodes") == 0)
            rc = parse_long(opt, val, 0, 10000, &args->nodes);
        else if (strcmp(opt, "--retries") == 0)
            rc = parse_long(opt, val, 0, 100, &args->retries);
        else if (strcmp(opt, "--fail-percent") == 0)
            rc = parse_long(opt, val, 0, 100, &args->fail_percent);
        else if (strcmp(opt, "--seed") == 0) {
            rc = parse_long(opt, val, 0, LONG_MAX, &value);
            args->seed = (uint64_t)value;
        } else if (strcmp(opt, "--start") == 0) {
            rc = parse_long(opt, val, 0, 253402300799L / 2, &value);
            args->start = value;
        } else if (strcmp(opt, "--project") == 0 && val)
            rc = parse_name(opt, val, &args->project);
        else if (strcmp(opt, "--domain") == 0 && val)
            rc = parse_name(opt, val, &args->domain);
        else {
            fprintf(stderr, "fce gen: unexpected argument '%s'\n%s", opt,
                    usage_text);
            return -1;
        }
        if (rc != 0)
            return -1;
        i++;
    }
    if (!args->out_dir == !args->stream_path) {
        fprintf(stderr, "fce gen: give one of --out DIR or --stream FILE\n%s",
                usage_text);
        return -1;
    }
    return 0;
}

static int open_sink(const struct gen_args *args, struct sink *sink)
{
    sink->args = args;
    if (args->out_dir) {
        if (mkdir(args->out_dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "fce gen: cannot create %s: %s\n", args->out_dir,
                    strerror(errno));
            return -1;
        }
        return 0;
    }
    sink->stream = strcmp(args->stream_path, "-") == 0
                       ? stdout
                       : fopen(args->stream_path, "wb");
    if (!sink->stream) {
        fprintf(stderr, "fce gen: cannot create %s: %s\n", args->stream_path,
                strerror(errno));
        return -1;
    }
    if (fwrite(fce_stream_preamble, 1, FCE_STREAM_PREAMBLE_LEN, sink->stream) !=
        FCE_STREAM_PREAMBLE_LEN)
        return -1;
    return 0;
}

int fce_cmd_gen(int argc, char **argv)
{
    struct gen_args args;
    struct sink sink = {0};
    struct rng rng;
    int rc = 0;

    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (parse(argc, argv, &args) != 0)
        return 2;
    if (open_sink(&args, &sink) != 0)
        return 1;

    rng.state = args.seed;
    struct clock clock = {args.start * 1000};
    for (long i = 0; rc == 0 && i < args.runs; i++) {
        struct run run = {.rng = &rng, .clock = clock, .sink = &sink};
        run.execution = (Flyteidl__Core__WorkflowExecutionIdentifier)
            FLYTEIDL__CORE__WORKFLOW_EXECUTION_IDENTIFIER__INIT;
        /* A fixed-width random part, then the run index: unique names. */
        snprintf(run.name, sizeof(run.name), "f%06" PRIx64 "%04lx",
                 rng_next(&rng) & 0xffffffu, (unsigned long)i);
        run.execution.project = (char *)args.project;
        run.execution.domain = (char *)args.domain;
        run.execution.name = run.name;
        snprintf(run.uri_prefix, sizeof(run.uri_prefix),
                 "s3://flyte-data/metadata/propeller/%s-%s-%s", args.project,
                 args.domain, run.name);
        rc = run_workflow(&run);
        /* The next run starts 0.5..2 s after this one started, so runs
         * overlap in time; their events are still written run by run. */
        clock.ms += 500 + (int64_t)rng_below(&rng, 1500);
    }

    if (sink.stream && sink.stream != stdout && fclose(sink.stream) != 0 &&
        rc == 0)
        rc = -errno;
    else if (sink.stream == stdout && fflush(stdout) != 0 && rc == 0)
        rc = -errno;
    fce_buf_free(&sink.frame);
    if (rc != 0) {
        fprintf(stderr, "fce gen: writing failed: %s\n", strerror(-rc));
        return 1;
    }
    fprintf(stderr,
            "fce gen: %" PRIu64 " requests, %" PRIu64 " bytes, %ld "
            "run(s) to %s\n",
            sink.count, sink.bytes, args.runs,
            args.out_dir ? args.out_dir : args.stream_path);
    return 0;
}
