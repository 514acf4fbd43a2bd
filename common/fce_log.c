#include "fce_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_process = "fce";
static enum fce_log_level log_min_level = FCE_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int fce_log_level_parse(const char *text, enum fce_log_level *level)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(text, level_names[i]) == 0) {
            *level = (enum fce_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void fce_log_init(const char *process, enum fce_log_level level)
{
    log_process = process;
    log_min_level = level;

    const char *env = getenv("FCE_LOG_LEVEL");
    enum fce_log_level from_env;
    if (env && fce_log_level_parse(env, &from_env) == 0)
        log_min_level = from_env;
}

int fce_log_enabled(enum fce_log_level level)
{
    return level >= log_min_level;
}

static uint64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

static int needs_quotes(const char *text)
{
    if (*text == '\0')
        return 1;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            return 1;
    }
    return 0;
}

const char *fce_log_quote(const char *text)
{
    static char buffers[4][1024];
    static unsigned next;

    if (!text)
        return "\"\"";
    if (!needs_quotes(text))
        return text;

    char *out = buffers[next++ % 4];
    size_t n = 0;
    out[n++] = '"';
    for (const char *p = text; *p && n < sizeof(buffers[0]) - 6; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else if (c < ' ' || c == 0x7f) {
            n += (size_t)snprintf(out + n, 5, "\\x%02x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
    return out;
}

static void write_line(enum fce_log_level level, const char *component,
                       const char *msg, uint64_t suppressed, const char *fields,
                       va_list args)
{
    char line[4096];
    struct timespec now;
    struct tm utc;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);

    int n = snprintf(line, sizeof(line),
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s "
                     "proc=%s component=%s msg=%s",
                     utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, now.tv_nsec / 1000000,
                     level_names[level], log_process, component,
                     fce_log_quote(msg));
    if (n < 0)
        return;
    if ((size_t)n < sizeof(line) && fields && *fields) {
        line[n++] = ' ';
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fields, args);
        if (m > 0)
            n += m;
    }
    if ((size_t)n < sizeof(line) && suppressed)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " suppressed=%llu",
                      (unsigned long long)suppressed);
    if ((size_t)n >= sizeof(line) - 1)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';

    /* One write(2) per line, so lines from several processes sharing a
     * stderr do not interleave. */
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
    (void)ignored;
}

void fce_log(enum fce_log_level level, const char *component, const char *msg,
             const char *fields, ...)
{
    if (!fce_log_enabled(level))
        return;
    va_list args;
    va_start(args, fields);
    write_line(level, component, msg, 0, fields, args);
    va_end(args);
}

void fce_log_limited(struct fce_log_limit *limit, uint32_t interval_ms,
                     enum fce_log_level level, const char *component,
                     const char *msg, const char *fields, ...)
{
    if (!fce_log_enabled(level))
        return;

    uint64_t now = monotonic_ms();
    if (now < limit->next_ms) {
        limit->suppressed++;
        return;
    }
    limit->next_ms = now + interval_ms;

    va_list args;
    va_start(args, fields);
    write_line(level, component, msg, limit->suppressed, fields, args);
    va_end(args);
    limit->suppressed = 0;
}
