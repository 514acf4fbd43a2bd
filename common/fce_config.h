/*
 * fce_config: the one YAML file that configures every process.
 *
 * FlyteAdmin's `cloudEvents:` block loads unchanged and becomes one
 * publisher named after its backend (kafka, sns for type aws, pubsub for
 * type gcp). The project's own keys sit beside it:
 *
 *   cloudEvents: {...}          FlyteAdmin's block, its keys and meanings
 *   publishers: [...]           more publishers, each with its own name,
 *                               type, topicName, eventTypes, contentMode,
 *                               batch, retry, deadLetter, ringCapacity and
 *                               the backend block under its config_key
 *   rings: {directory, capacity, maxRecord}
 *   ingest: {listen, maxConnections, maxHeaderBytes, maxBodyBytes,
 *            idleTimeout, requestTimeout, io}
 *   cloudevent: {source, jsonschemaurl}
 *   retry: {...}                default retry policy of every publisher
 *   supervisor: {drainTimeout, restartBackoff, restartBackoffMax,
 *                crashLoopRestarts, crashLoopWindow}
 *
 * Keys are compared without case, as viper does. Unknown keys are errors,
 * except inside cloudEvents, where they are warnings (FlyteAdmin ignores
 * them). docs/configuration.md lists every key; `fce config docs`
 * generates it from the option tables. Loading never logs: problems go to
 * struct fce_diag with the file, line, column and key path.
 */
#ifndef FCE_CONFIG_H
#define FCE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fce_buf.h"
#include "fce_ce.h"
#include "fce_option.h"

/* Problems found while loading, each naming the key path and the fix:
 * "cloudEvents.gcp.projectId: missing; set the GCP project id (type is gcp)".
 */
struct fce_diag {
    size_t error_count;
    size_t warning_count;
    char **messages; /* "error: ..." or "warning: ..." lines */
    size_t count;
    const char *source; /* file being loaded, for fce_diag_error(); or NULL */
};

void fce_diag_free(struct fce_diag *diag);

/*
 * Adds "error: SOURCE: PATH: MESSAGE" to diag, where SOURCE is the file
 * being loaded (omitted when diag->source is NULL). For checks outside the
 * loader's own files, such as a backend's validate callback.
 */
void fce_diag_error(struct fce_diag *diag, const char *path, const char *format,
                    ...) __attribute__((format(printf, 3, 4)));

enum fce_content_mode {
    FCE_CONTENT_STRUCTURED,
    FCE_CONTENT_BINARY,
};

struct fce_retry_policy {
    uint64_t initial_ms;     /* first backoff */
    uint64_t max_ms;         /* cap of one backoff */
    uint64_t multiplier_pct; /* growth per attempt, in percent (200 = x2) */
    uint64_t jitter_pct;     /* +- random share of each backoff, percent */
    int64_t max_attempts;    /* 0: retry until it succeeds */
};

struct fce_batch_policy {
    int64_t max_records;
    uint64_t max_bytes;
    uint64_t linger_ms; /* wait this long for a batch to fill */
};

struct fce_publisher_config {
    char *name; /* [a-z0-9-]; ring and process name */
    char *type; /* backend type name */
    const struct fce_backend_type *backend_type;
    char *topic;          /* topicName: Kafka topic, SNS ARN, Pub/Sub
                           * topic id, SQS queue URL; file: unused */
    unsigned event_types; /* FCE_EVENT_TYPE_BIT mask */
    enum fce_content_mode content_mode;
    struct fce_retry_policy retry;
    struct fce_batch_policy batch;
    char *dead_letter_path; /* JSON lines of records that cannot succeed */
    char *ring_path;        /* <rings.directory>/<name>.ring */
    uint64_t ring_capacity;
    void *settings;   /* backend_type->options applied, owned */
    char *origin;     /* key path it came from, for messages */
    char *stats_path; /* <stats_directory>/<name>.stats */
};

enum fce_listener_type {
    FCE_LISTEN_TCP,
    FCE_LISTEN_UNIX,
};

struct fce_listener {
    enum fce_listener_type type;
    char *host;    /* TCP: address to bind */
    uint16_t port; /* TCP */
    char *path;    /* UNIX: socket path */
};

enum fce_io_mode {
    FCE_IO_AUTO, /* io_uring, epoll when io_uring is missing */
    FCE_IO_URING,
    FCE_IO_EPOLL,
};

#define FCE_INGEST_DEFAULT_PORT 8089

struct fce_ingest_config {
    struct fce_listener *listeners;
    size_t listener_count;
    int64_t max_connections;
    uint64_t max_header_bytes;
    uint64_t max_body_bytes;
    uint64_t idle_timeout_ms;
    uint64_t request_timeout_ms;
    enum fce_io_mode io;
    char *ring_path; /* <rings.directory>/ingest.ring */
    uint64_t ring_capacity;
    char *stats_path; /* <stats_directory>/ingest.stats */
};

struct fce_supervisor_config {
    uint64_t drain_timeout_ms;
    uint64_t restart_initial_ms;
    uint64_t restart_max_ms;
    int64_t crash_loop_restarts; /* restarts within crash_loop_window_ms */
    uint64_t crash_loop_window_ms;
};

struct fce_config {
    char *path;
    char *ring_directory;
    uint64_t ring_capacity;
    uint64_t max_record;
    char *stats_directory;         /* where processes write <name>.stats */
    char *encoder_stats_path;      /* <stats_directory>/encoder.stats */
    struct fce_ce_profile profile; /* strings owned by the config */
    struct fce_ingest_config ingest;
    struct fce_publisher_config *publishers;
    size_t publisher_count;
    struct fce_supervisor_config supervisor;
};

/*
 * Loads and validates the file at path. Returns 0 with *config set, or
 * -EINVAL when diag has errors (warnings alone do not fail), or -errno
 * when the file cannot be read. The caller frees *config with
 * fce_config_free() and diag with fce_diag_free() in every case.
 */
int fce_config_load(const char *path, struct fce_config **config,
                    struct fce_diag *diag);

/* Same, from YAML text in memory; name is used in messages. */
int fce_config_load_string(const char *text, size_t len, const char *name,
                           struct fce_config **config, struct fce_diag *diag);

void fce_config_free(struct fce_config *config);

/* Looks a publisher up by name, or NULL. */
const struct fce_publisher_config *
fce_config_publisher(const struct fce_config *config, const char *name);

/*
 * Appends the effective configuration as YAML that loads again: every key
 * with its value or default, the FlyteAdmin block as the publisher it
 * became, and every FCE_OPT_SECRET value written as "***". Returns 0 or
 * -ENOMEM.
 */
int fce_config_dump(const struct fce_config *config, struct fce_buf *out);

/*
 * Appends docs/configuration.md: every key of the project's tables and of
 * each backend type linked into this program, with type, default and
 * meaning. Returns 0 or -ENOMEM.
 */
int fce_config_docs(struct fce_buf *out);

/* Frees what loading an option table allocated inside target (strings,
 * lists, properties, nested sections); target itself stays. */
void fce_option_free(const struct fce_option *table, void *target);

#endif
