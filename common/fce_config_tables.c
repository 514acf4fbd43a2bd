/*
 * The option tables of the project's own keys and of FlyteAdmin's
 * cloudEvents block. docs/configuration.md is generated from them, so each
 * help text is the documentation of its key.
 */
#include <stddef.h>

#include "fce_config_internal.h"

#define OFF(type, field) offsetof(type, field)

const struct fce_option fce_rings_options[] = {
    {.key = "directory",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_rings, directory),
     .default_value = "/dev/shm/fce",
     .help = "Folder of the ring files and the processes' .stats files; a "
             "relative path is taken from the working directory. Use a folder "
             "on disk to keep events across a reboot."},
    {.key = "capacity",
     .type = FCE_OPT_SIZE,
     .offset = OFF(struct fce_raw_rings, capacity),
     .default_value = "64MiB",
     .help = "Bytes of records each ring holds, a multiple of 8 and at "
             "least twice maxRecord. A "
             "publisher whose broker is down buffers this much before the "
             "encoder waits."},
    {.key = "maxRecord",
     .type = FCE_OPT_SIZE,
     .offset = OFF(struct fce_raw_rings, max_record),
     .default_value = "8MiB",
     .help = "Largest record in any ring, in bytes (at most 64MiB); must "
             "exceed ingest.maxBodyBytes by 64KiB for the attributes."},
    {0},
};

static const char *const io_choices[] = {"auto", "uring", "epoll", NULL};

const struct fce_option fce_ingest_options[] = {
    {.key = "listen",
     .type = FCE_OPT_STRING_LIST,
     .offset = OFF(struct fce_raw_ingest, listen),
     .default_value = "127.0.0.1:8089",
     .help = "Addresses to accept HTTP and stream connections on: HOST:PORT "
             "with localhost or a numeric IPv4 address, [IPv6]:PORT, or "
             "unix:/path/to/socket."},
    {.key = "maxConnections",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_raw_ingest, max_connections),
     .default_value = "1024",
     .help = "Connections open at once; more are closed on accept.",
     .min = 1,
     .max = 1000000},
    {.key = "maxHeaderBytes",
     .type = FCE_OPT_SIZE,
     .offset = OFF(struct fce_raw_ingest, max_header_bytes),
     .default_value = "16KiB",
     .help = "Largest HTTP request head (request line and headers), in bytes; "
             "a larger one gets 431."},
    {.key = "maxBodyBytes",
     .type = FCE_OPT_SIZE,
     .offset = OFF(struct fce_raw_ingest, max_body_bytes),
     .default_value = "4MiB",
     .help = "Largest request body or stream frame, in bytes; a larger one "
             "gets 413."},
    {.key = "idleTimeout",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_raw_ingest, idle_timeout_ms),
     .default_value = "60s",
     .help = "How long a connection may stay idle between requests before "
             "ingest closes it."},
    {.key = "requestTimeout",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_raw_ingest, request_timeout_ms),
     .default_value = "30s",
     .help = "How long one request may take to arrive in full; a slower one "
             "gets 408."},
    {.key = "io",
     .type = FCE_OPT_ENUM,
     .offset = OFF(struct fce_raw_ingest, io),
     .default_value = "auto",
     .help = "I/O engine: auto uses io_uring and falls back to epoll when the "
             "kernel or a seccomp profile forbids io_uring.",
     .choices = io_choices},
    {0},
};

const struct fce_option fce_cloudevent_options[] = {
    {.key = "source",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_cloudevent, source),
     .default_value = "https://github.com/flyteorg/flyteadmin",
     .help = "The CloudEvent source attribute of every event."},
    {.key = "jsonschemaurl",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_cloudevent, jsonschemaurl),
     .default_value = "https://github.com/flyteorg/flyteidl/blob/master/"
                      "jsonschema/workflow_execution.json",
     .help = "The jsonschemaurl extension attribute of every event."},
    {0},
};

const struct fce_option fce_retry_options[] = {
    {.key = "initialBackoff",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_retry_policy, initial_ms),
     .default_value = "100ms",
     .help =
         "Wait before the first retry of a record that failed transiently."},
    {.key = "maxBackoff",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_retry_policy, max_ms),
     .default_value = "30s",
     .help = "Longest wait between two retries."},
    {.key = "multiplierPercent",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_retry_policy, multiplier_pct),
     .default_value = "200",
     .help = "Growth of the wait per attempt, in percent (200 doubles it).",
     .min = 100,
     .max = 1000},
    {.key = "jitterPercent",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_retry_policy, jitter_pct),
     .default_value = "20",
     .help = "Random share added to or taken from each wait, in percent.",
     .max = 100},
    {.key = "maxAttempts",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_retry_policy, max_attempts),
     .default_value = "0",
     .help = "Attempts before a record goes to the dead-letter file; 0 retries "
             "until it succeeds.",
     .max = 1000000000},
    {0},
};

/* The same keys without defaults: a publisher's retry block starts from the
 * top-level retry values and overrides only the keys it names. */
const struct fce_option fce_retry_inherit_options[] = {
    {.key = "initialBackoff",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_retry_policy, initial_ms)},
    {.key = "maxBackoff",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_retry_policy, max_ms)},
    {.key = "multiplierPercent",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_retry_policy, multiplier_pct),
     .min = 100,
     .max = 1000},
    {.key = "jitterPercent",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_retry_policy, jitter_pct),
     .max = 100},
    {.key = "maxAttempts",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_retry_policy, max_attempts),
     .max = 1000000000},
    {0},
};

const struct fce_option fce_batch_options[] = {
    {.key = "maxRecords",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_batch_policy, max_records),
     .default_value = "100",
     .help = "Records per batch handed to the backend; the backend lowers it "
             "to its service's limit (10 for SNS and SQS).",
     .min = 1,
     .max = 100000},
    {.key = "maxBytes",
     .type = FCE_OPT_SIZE,
     .offset = OFF(struct fce_batch_policy, max_bytes),
     .default_value = "1MiB",
     .help = "Ring payload bytes per batch."},
    {.key = "linger",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_batch_policy, linger_ms),
     .default_value = "5ms",
     .help = "How long a batch may wait to fill before it is sent."},
    {0},
};

const struct fce_option fce_supervisor_options[] = {
    {.key = "drainTimeout",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_supervisor_config, drain_timeout_ms),
     .default_value = "30s",
     .help = "On SIGTERM, how long the supervisor waits for the rings to drain "
             "before it stops the remaining processes with SIGKILL."},
    {.key = "restartBackoff",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_supervisor_config, restart_initial_ms),
     .default_value = "500ms",
     .help =
         "Wait before restarting a process that exited; doubles per crash."},
    {.key = "restartBackoffMax",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_supervisor_config, restart_max_ms),
     .default_value = "30s",
     .help = "Longest wait between restarts."},
    {.key = "crashLoopRestarts",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_supervisor_config, crash_loop_restarts),
     .default_value = "5",
     .help =
         "Restarts within crashLoopWindow after which the process is reported "
         "as crash looping (it is still restarted, at restartBackoffMax).",
     .min = 1,
     .max = 1000},
    {.key = "crashLoopWindow",
     .type = FCE_OPT_DURATION,
     .offset = OFF(struct fce_supervisor_config, crash_loop_window_ms),
     .default_value = "60s",
     .help = "Window of crashLoopRestarts; a process that stays up this long "
             "has its backoff reset."},
    {0},
};

/* Every key of the top level except cloudEvents and publishers, which the
 * loader reads itself. */
const struct fce_option fce_root_options[] = {
    {.key = "rings",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_root, rings),
     .help = "Where the rings live and how large they are.",
     .section = fce_rings_options},
    {.key = "ingest",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_root, ingest),
     .help = "Listeners and limits of fce-ingest.",
     .section = fce_ingest_options},
    {.key = "cloudevent",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_root, cloudevent),
     .help = "Attribute values of the CloudEvents the encoder writes.",
     .section = fce_cloudevent_options},
    {.key = "retry",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_root, retry),
     .help = "Default retry policy of every publisher.",
     .section = fce_retry_options},
    {.key = "supervisor",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_root, supervisor),
     .help = "Restart and shutdown policy of scripts/supervise.",
     .section = fce_supervisor_options},
    {0},
};

static const char *const content_choices[] = {"structured", "binary", NULL};

const struct fce_option fce_publisher_options[] = {
    {.key = "name",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_publisher, name),
     .help = "Name of the publisher, its ring and its process: lowercase "
             "letters, digits and '-', at most 40 characters, unique.",
     .flags = FCE_OPT_REQUIRED},
    {.key = "type",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_publisher, type),
     .help = "Backend type: file, kafka, sns, sqs or pubsub (those linked into "
             "this build).",
     .flags = FCE_OPT_REQUIRED},
    {.key = "topicName",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_publisher, topic),
     .help = "Destination: the Kafka topic, the SNS topic ARN, the SQS queue "
             "URL or the Pub/Sub topic id; not used by type file."},
    {.key = "eventTypes",
     .type = FCE_OPT_STRING_LIST,
     .offset = OFF(struct fce_raw_publisher, event_types),
     .default_value = "all",
     .help = "Kinds to publish: all, *, workflow, node, task (as FlyteAdmin "
             "spells them); an empty list is an error."},
    {.key = "contentMode",
     .type = FCE_OPT_ENUM,
     .offset = OFF(struct fce_raw_publisher, content_mode),
     .default_value = "structured",
     .help = "structured: the CloudEvent as JSON; binary: attributes as "
             "headers or message attributes and the request bytes as the body.",
     .choices = content_choices},
    {.key = "batch",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_publisher, batch),
     .help = "How records are grouped into one backend call.",
     .section = fce_batch_options},
    {.key = "retry",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_publisher, retry),
     .help = "Retry policy of this publisher, with the keys of the top-level "
             "retry block; a key left out takes the top-level value.",
     .section = fce_retry_inherit_options,
     .flags = FCE_OPT_DOC_SAME_AS},
    {.key = "deadLetter",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_publisher, dead_letter),
     .help = "JSON-lines file for records that can never be delivered; default "
             "<rings.directory>/<name>.dead.jsonl."},
    {.key = "ringCapacity",
     .type = FCE_OPT_SIZE,
     .offset = OFF(struct fce_raw_publisher, ring_capacity),
     .help = "Bytes of this publisher's ring, a multiple of 8; default "
             "rings.capacity. A larger "
             "ring rides out a longer broker outage."},
    {0},
};

static const struct fce_option events_publisher_options[] = {
    {.key = "topicName",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_events_publisher, topic),
     .help = "The SNS topic ARN (type aws), the Pub/Sub topic id (type gcp) or "
             "the Kafka topic (type kafka).",
     .flags = FCE_OPT_FLYTE},
    {.key = "eventTypes",
     .type = FCE_OPT_STRING_LIST,
     .offset = OFF(struct fce_raw_events_publisher, event_types),
     .default_value = "all",
     .help =
         "Kinds to publish: all, *, workflow, node, task. An unknown value or "
         "an empty list is an error; without the key every kind is published.",
     .flags = FCE_OPT_FLYTE},
    {.key = "enrichAllWorkflowEventTypes",
     .type = FCE_OPT_BOOL,
     .offset = OFF(struct fce_raw_events_publisher, enrich_all),
     .default_value = "false",
     .help = "Read by FlyteAdmin's cloudEventVersion v2 only, which this "
             "service does not offer; accepted and ignored.",
     .flags = FCE_OPT_FLYTE},
    {0},
};

static const struct fce_option nats_user_options[] = {
    {.key = "enabled",
     .type = FCE_OPT_BOOL,
     .offset = OFF(struct fce_raw_nats_user, enabled),
     .default_value = "false",
     .help = "Ignored (type nats).",
     .flags = FCE_OPT_FLYTE},
    {.key = "user",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_nats_user, user),
     .help = "Ignored (type nats).",
     .flags = FCE_OPT_FLYTE},
    {.key = "password",
     .type = FCE_OPT_SECRET,
     .offset = OFF(struct fce_raw_nats_user, password),
     .help = "Ignored (type nats).",
     .flags = FCE_OPT_FLYTE},
    {0},
};

static const struct fce_option nats_token_options[] = {
    {.key = "enabled",
     .type = FCE_OPT_BOOL,
     .offset = OFF(struct fce_raw_nats_token, enabled),
     .default_value = "false",
     .help = "Ignored (type nats).",
     .flags = FCE_OPT_FLYTE},
    {.key = "token",
     .type = FCE_OPT_SECRET,
     .offset = OFF(struct fce_raw_nats_token, token),
     .help = "Ignored (type nats).",
     .flags = FCE_OPT_FLYTE},
    {0},
};

static const struct fce_option nats_options[] = {
    {.key = "servers",
     .type = FCE_OPT_STRING_LIST,
     .offset = OFF(struct fce_raw_nats, servers),
     .help = "NATS servers; type nats is not supported, so this is ignored.",
     .flags = FCE_OPT_FLYTE},
    {.key = "userAuthentication",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_nats, user_authentication),
     .help = "Ignored (type nats).",
     .section = nats_user_options,
     .flags = FCE_OPT_FLYTE},
    {.key = "tokenAuthentication",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_nats, token_authentication),
     .help = "Ignored (type nats).",
     .section = nats_token_options,
     .flags = FCE_OPT_FLYTE},
    {0},
};

static const char *const version_choices[] = {"v1", "v2", NULL};
static const char *const flyte_content_choices[] = {"auto", "structured",
                                                    "binary", NULL};

const struct fce_option fce_flyte_options[] = {
    {.key = "enable",
     .type = FCE_OPT_BOOL,
     .offset = OFF(struct fce_raw_flyte, enable),
     .default_value = "false",
     .help = "Publish through this block; when false it adds no publisher.",
     .flags = FCE_OPT_FLYTE},
    {.key = "type",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_flyte, type),
     .default_value = "local",
     .help =
         "aws (SNS), gcp (Pub/Sub) or kafka, without case. local, sandbox and "
         "nats are FlyteAdmin's and are rejected with what to use instead.",
     .flags = FCE_OPT_FLYTE},
    {.key = "eventsPublisher",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_flyte, events_publisher),
     .help = "Destination and filter of the publisher.",
     .section = events_publisher_options,
     .flags = FCE_OPT_FLYTE},
    {.key = "reconnectAttempts",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_raw_flyte, reconnect_attempts),
     .default_value = "0",
     .help = "Accepted for FlyteAdmin files; fce-publisher retries connecting "
             "with backoff for as long as it runs.",
     .max = 1000000,
     .flags = FCE_OPT_FLYTE},
    {.key = "reconnectDelaySeconds",
     .type = FCE_OPT_INT,
     .offset = OFF(struct fce_raw_flyte, reconnect_delay_seconds),
     .default_value = "0",
     .help = "Accepted for FlyteAdmin files; the retry block sets the backoff.",
     .max = 86400,
     .flags = FCE_OPT_FLYTE},
    {.key = "cloudEventVersion",
     .type = FCE_OPT_ENUM,
     .offset = OFF(struct fce_raw_flyte, version),
     .default_value = "v1",
     .help = "v1 only: v2 enriches events from FlyteAdmin's database, which "
             "this service cannot read.",
     .choices = version_choices,
     .flags = FCE_OPT_FLYTE},
    {.key = "nats",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_flyte, nats),
     .help = "FlyteAdmin's NATS block; accepted and ignored.",
     .section = nats_options,
     .flags = FCE_OPT_FLYTE},
    {.key = "contentMode",
     .type = FCE_OPT_ENUM,
     .offset = OFF(struct fce_raw_flyte, content_mode),
     .default_value = "auto",
     .help = "auto: binary for kafka (as FlyteAdmin's Kafka sender), "
             "structured for aws and gcp; or structured, binary.",
     .choices = flyte_content_choices},
    {.key = "batch",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_flyte, batch),
     .help = "Batching of this publisher, as publishers[].batch.",
     .section = fce_batch_options,
     .flags = FCE_OPT_DOC_SAME_AS},
    {.key = "retry",
     .type = FCE_OPT_SECTION,
     .offset = OFF(struct fce_raw_flyte, retry),
     .help = "Retry policy of this publisher, as publishers[].retry.",
     .section = fce_retry_inherit_options,
     .flags = FCE_OPT_DOC_SAME_AS},
    {.key = "deadLetter",
     .type = FCE_OPT_STRING,
     .offset = OFF(struct fce_raw_flyte, dead_letter),
     .help = "As publishers[].deadLetter."},
    {.key = "ringCapacity",
     .type = FCE_OPT_SIZE,
     .offset = OFF(struct fce_raw_flyte, ring_capacity),
     .help = "As publishers[].ringCapacity."},
    {0},
};
