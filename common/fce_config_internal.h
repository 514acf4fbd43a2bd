/*
 * Private to the configuration loader (common/fce_config*.c and
 * common/fce_option*.c): option tables applied to a libyaml node tree and
 * the diagnostics they report into. The value parsers are public, in
 * fce_value.h.
 */
#ifndef FCE_CONFIG_INTERNAL_H
#define FCE_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <yaml.h>

#include "fce_buf.h"
#include "fce_config.h"
#include "fce_option.h"
#include "fce_value.h"

/* Loader-only flag beside FCE_OPT_REQUIRED and FCE_OPT_FLYTE: the docs name
 * this section without listing its keys again (they are listed elsewhere). */
#define FCE_OPT_DOC_SAME_AS 0x100u

/* Messages kept in a struct fce_diag; later ones are only counted. */
#define FCE_DIAG_MAX_MESSAGES 200

/* Longest key path in messages, e.g. "publishers[3].kafka.tlsConfig.x". */
#define FCE_PATH_MAX 256

/* Writes "path.key" (or "key" for an empty path) into out, FCE_PATH_MAX
 * bytes, cutting a longer path short. */
void fce_path_join(char *out, const char *path, const char *key);

/* One loaded document and where its problems go. */
struct fce_yaml {
    yaml_document_t *doc;
    const char *name; /* file name for messages */
    struct fce_diag *diag;
    const char *required_note; /* "required when type is gcp", or NULL */
};

enum fce_severity {
    FCE_SEV_WARNING,
    FCE_SEV_ERROR,
};

/*
 * Adds "error: NAME:LINE:COL: PATH: MESSAGE" (or "warning: ...") to diag.
 * mark may be NULL when no position applies; path may be NULL or empty.
 */
void fce_diag_add(struct fce_diag *diag, enum fce_severity severity,
                  const char *name, const yaml_mark_t *mark, const char *path,
                  const char *format, ...)
    __attribute__((format(printf, 6, 7)));

void fce_diag_vadd(struct fce_diag *diag, enum fce_severity severity,
                   const char *name, const yaml_mark_t *mark, const char *path,
                   const char *format, va_list args);

/* Whether diag already has an error on path, such as a value that did not
 * parse. Later checks of the same key skip then, so only the root cause is
 * reported. */
bool fce_diag_has_error(const struct fce_diag *diag, const char *path);

/* True for a plain scalar that YAML reads as null: empty, ~, null. */
bool fce_yaml_is_null(const yaml_node_t *node);

/* "a string", "a list", "a mapping" for messages. */
const char *fce_yaml_kind(const yaml_node_t *node);

/*
 * Finds key in a mapping node, compared without case as viper does.
 * Returns the value node or NULL; *key_node gets the key node when not NULL.
 */
yaml_node_t *fce_yaml_lookup(const struct fce_yaml *yaml, yaml_node_t *mapping,
                             const char *key, yaml_node_t **key_node);

/* The scalar text of a node as a NUL-terminated copy, or NULL (ENOMEM, or
 * a NUL byte inside, or not a scalar). */
char *fce_yaml_strdup(const yaml_node_t *node);

/* How fce_option_apply() treats keys that no option names. */
enum fce_unknown_policy {
    FCE_UNKNOWN_ERROR,
    FCE_UNKNOWN_WARN, /* FlyteAdmin's block: viper ignores them too */
};

/*
 * Applies table to target from mapping: every key is checked against the
 * table (keys listed in skip are left to the caller), values are parsed
 * into target, absent keys get their default (an option with no default
 * keeps what target holds, zero for a fresh struct) and absent required
 * keys are reported. mapping may be NULL or a null node: then only the
 * defaults and the required checks apply. where is the position used for
 * keys that are missing. Problems go to yaml->diag; the function itself
 * cannot fail, and a value that does not parse leaves the field as it was.
 */
void fce_option_apply(const struct fce_yaml *yaml,
                      const struct fce_option *table, void *target,
                      yaml_node_t *mapping, const yaml_mark_t *where,
                      const char *path, const char *const *skip,
                      enum fce_unknown_policy unknown);

/* Finds an option by key, without case, or NULL. */
const struct fce_option *fce_option_find(const struct fce_option *table,
                                         const char *key);

/*
 * Appends target as YAML block lines, indent spaces deep, secrets masked
 * as "***". Returns 0 or -ENOMEM.
 */
int fce_option_dump(const struct fce_option *table, const void *target,
                    int indent, struct fce_buf *out);

/*
 * Appends one Markdown table row per key of table (nested sections
 * included, with dotted paths under prefix). Returns 0 or -ENOMEM.
 */
int fce_option_docs_rows(const struct fce_option *table, const char *prefix,
                         struct fce_buf *out);

/* Appends text as a double-quoted YAML scalar. */
int fce_yaml_quote(struct fce_buf *out, const char *text);

/* ---- the project's tables (fce_config_tables.c) ---- */

/* Blocks of the top level, as parsed before they become struct fce_config. */
struct fce_raw_rings {
    char *directory;
    uint64_t capacity;
    uint64_t max_record;
};

struct fce_raw_ingest {
    struct fce_strlist listen;
    int64_t max_connections;
    uint64_t max_header_bytes;
    uint64_t max_body_bytes;
    uint64_t idle_timeout_ms;
    uint64_t request_timeout_ms;
    int io; /* enum fce_io_mode */
};

struct fce_raw_cloudevent {
    char *source;
    char *jsonschemaurl;
};

struct fce_raw_root {
    struct fce_raw_rings rings;
    struct fce_raw_ingest ingest;
    struct fce_raw_cloudevent cloudevent;
    struct fce_retry_policy retry;
    struct fce_supervisor_config supervisor;
};

/* One entry of publishers:, and the publisher FlyteAdmin's block becomes. */
struct fce_raw_publisher {
    char *name;
    char *type;
    char *topic;
    struct fce_strlist event_types;
    int content_mode; /* enum fce_content_mode */
    struct fce_batch_policy batch;
    struct fce_retry_policy retry;
    char *dead_letter;
    uint64_t ring_capacity; /* 0: rings.capacity */
};

struct fce_raw_events_publisher {
    char *topic;
    struct fce_strlist event_types;
    bool enrich_all;
};

struct fce_raw_nats_user {
    bool enabled;
    char *user;
    char *password;
};

struct fce_raw_nats_token {
    bool enabled;
    char *token;
};

struct fce_raw_nats {
    struct fce_strlist servers;
    struct fce_raw_nats_user user_authentication;
    struct fce_raw_nats_token token_authentication;
};

/* FlyteAdmin's cloudEvents block, with the project's few additions. */
struct fce_raw_flyte {
    bool enable;
    char *type;
    struct fce_raw_events_publisher events_publisher;
    int64_t reconnect_attempts;
    int64_t reconnect_delay_seconds;
    int version; /* index into "v1", "v2" */
    struct fce_raw_nats nats;
    int content_mode; /* index into "auto", "structured", "binary" */
    struct fce_batch_policy batch;
    struct fce_retry_policy retry;
    char *dead_letter;
    uint64_t ring_capacity;
};

#define FCE_FLYTE_CONTENT_AUTO 0

extern const struct fce_option fce_root_options[];
extern const struct fce_option fce_rings_options[];
extern const struct fce_option fce_ingest_options[];
extern const struct fce_option fce_cloudevent_options[];
extern const struct fce_option fce_retry_options[];
extern const struct fce_option fce_retry_inherit_options[];
extern const struct fce_option fce_batch_options[];
extern const struct fce_option fce_supervisor_options[];
extern const struct fce_option fce_publisher_options[];
extern const struct fce_option fce_flyte_options[];

/* A loaded configuration with the parsed blocks kept for dumps. */
struct fce_config_impl {
    struct fce_config pub;
    struct fce_raw_root root;
    struct fce_raw_publisher *raw_publishers; /* parallel to pub.publishers */
    size_t publisher_room;
};

/* Largest number of publishers and listeners one file may declare. */
#define FCE_PUBLISHERS_MAX 64
#define FCE_LISTENERS_MAX  32

/* Publisher names: [a-z0-9-], this long at most. */
#define FCE_PUBLISHER_NAME_MAX 40

/* Builds the publishers of cloudEvents: and publishers: into impl
 * (fce_config_publishers.c). */
void fce_config_load_flyte(const struct fce_yaml *yaml,
                           struct fce_config_impl *impl, yaml_node_t *block,
                           yaml_node_t *key_node);
void fce_config_load_publishers(const struct fce_yaml *yaml,
                                struct fce_config_impl *impl, yaml_node_t *list,
                                yaml_node_t *key_node);

/* Joins directory and a file name into a new string, or NULL. */
char *fce_config_join(const char *directory, const char *name,
                      const char *suffix);

#endif
