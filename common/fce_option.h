/*
 * fce_option: declarative option tables. A table describes the YAML keys of
 * one block (a backend's settings, the ingest limits...) and where each
 * parsed value goes in a C struct. The config loader validates input
 * against the table, `fce config check` reports against it, dumps mask the
 * secrets it marks, and docs/configuration.md is generated from it.
 */
#ifndef FCE_OPTION_H
#define FCE_OPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fce_option_type {
    FCE_OPT_STRING,      /* char *, malloc'd */
    FCE_OPT_SECRET,      /* char *, masked in every dump and log */
    FCE_OPT_BOOL,        /* bool; true/false (YAML 1.1 yes/no accepted) */
    FCE_OPT_INT,         /* int64_t within [min, max] */
    FCE_OPT_SIZE,        /* uint64_t bytes: 1048576, 1MiB, 64KiB, 1GB */
    FCE_OPT_DURATION,    /* uint64_t milliseconds: 250, 250ms, 10s, 5m */
    FCE_OPT_ENUM,        /* int: index into choices */
    FCE_OPT_STRING_LIST, /* struct fce_strlist; a scalar is a one-item list */
    FCE_OPT_PROPERTIES,  /* struct fce_props: any string keys and values */
    FCE_OPT_SECTION,     /* nested block described by section */
};

#define FCE_OPT_REQUIRED 0x1u /* missing key is an error */
#define FCE_OPT_FLYTE    0x2u /* key comes from FlyteAdmin's schema */

struct fce_strlist {
    char **items;
    size_t count;
};

struct fce_props {
    char **keys;
    char **values;
    size_t count;
};

struct fce_option {
    const char *key; /* YAML key as FlyteAdmin spells it */
    enum fce_option_type type;
    size_t offset;                    /* offsetof() in the target struct */
    const char *default_value;        /* parsed like input; NULL: zero value */
    const char *help;                 /* one sentence, with the unit */
    const char *const *choices;       /* FCE_OPT_ENUM, NULL-terminated */
    const struct fce_option *section; /* FCE_OPT_SECTION, ends with {0} */
    int64_t min, max;                 /* FCE_OPT_INT bounds (both 0: none) */
    unsigned flags;
};

struct fce_diag;
struct fce_publisher_config;

/*
 * One backend type as configuration sees it: the value of `type:`, the key
 * of its settings block, its option table and the checks the table cannot
 * express. The backend code itself (publishers/) refers to the same table.
 */
struct fce_backend_type {
    const char *name;       /* "kafka", "sns", "sqs", "pubsub", "file" */
    const char *config_key; /* block key: "kafka", "aws", "gcp", "file" */
    const char *summary;
    const struct fce_option *options;
    size_t options_size; /* sizeof the backend's settings struct */
    /*
     * Optional. Checks settings (the filled options_size struct) of the
     * publisher as the backend's open would, so that `fce config check`
     * rejects what the publisher process would reject. Reports each
     * problem with fce_diag_error() (common/fce_config.h) under the key
     * path "<publisher->origin>.<config_key>.<key>". The config loader
     * calls it once per publisher of this type; it must not log, connect
     * or read files.
     */
    void (*validate)(const void *settings,
                     const struct fce_publisher_config *publisher,
                     struct fce_diag *diag);
};

/* Returns the i-th backend type linked into this program, or NULL past
 * the last. Defined in publishers/backend_types.c. */
const struct fce_backend_type *fce_backend_type_at(size_t i);

/* Looks a backend type up by name, or NULL. */
const struct fce_backend_type *fce_backend_type_find(const char *name);

#endif
