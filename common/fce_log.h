/*
 * fce_log: one line per event worth knowing, as key=value fields on stderr.
 *
 *   ts=2026-12-04T07:11:02.123Z level=warn component=kafka msg="retrying" ...
 *
 * Processes log; libraries (shm/, the codecs in common/) never do. The
 * message is a plain sentence; the fields carry the ids and values. Values
 * that contain spaces, quotes or '=' are quoted. Never pass a secret.
 */
#ifndef FCE_LOG_H
#define FCE_LOG_H

#include <stdint.h>

enum fce_log_level {
    FCE_LOG_DEBUG,
    FCE_LOG_INFO,
    FCE_LOG_WARN,
    FCE_LOG_ERROR,
};

/* Sets the process name written as proc=NAME and the lowest level printed.
 * FCE_LOG_LEVEL (debug, info, warn, error) in the environment overrides the
 * level. */
void fce_log_init(const char *process, enum fce_log_level level);

/* Parses "debug", "info", "warn" or "error". Returns 0 or -EINVAL. */
int fce_log_level_parse(const char *text, enum fce_log_level *level);

/* Returns whether a line of this level would be printed. */
int fce_log_enabled(enum fce_log_level level);

/*
 * Writes one line. fields is printf-formatted key=value text appended after
 * msg, or NULL; use fce_log_quote() for values that may contain spaces.
 */
void fce_log(enum fce_log_level level, const char *component, const char *msg,
             const char *fields, ...) __attribute__((format(printf, 4, 5)));

/*
 * Rate limit for a repeated message: at most one line per interval_ms; the
 * next line printed reports how many were suppressed (suppressed=N).
 * Declare one static struct per call site.
 */
struct fce_log_limit {
    uint64_t next_ms;
    uint64_t suppressed;
};

/* Like fce_log(), but prints only when limit allows it. */
void fce_log_limited(struct fce_log_limit *limit, uint32_t interval_ms,
                     enum fce_log_level level, const char *component,
                     const char *msg, const char *fields, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * Quotes text for use as a field value: returns text itself when it needs
 * no quoting, otherwise a "..." copy in one of a few rotating static buffers
 * (valid until the fourth later call; truncated past 1 KiB).
 */
const char *fce_log_quote(const char *text);

#define fce_debug(component, msg, ...)                                         \
    fce_log(FCE_LOG_DEBUG, component, msg, __VA_ARGS__)
#define fce_info(component, msg, ...)                                          \
    fce_log(FCE_LOG_INFO, component, msg, __VA_ARGS__)
#define fce_warn(component, msg, ...)                                          \
    fce_log(FCE_LOG_WARN, component, msg, __VA_ARGS__)
#define fce_error(component, msg, ...)                                         \
    fce_log(FCE_LOG_ERROR, component, msg, __VA_ARGS__)

#endif
