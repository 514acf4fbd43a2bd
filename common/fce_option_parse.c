/*
 * Scalar value parsers and formatters of the option tables: booleans,
 * integers, sizes (1048576, 64KiB, 1GB) and durations (250, 250ms, 1m30s).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fce_config_internal.h"

int fce_parse_bool(const char *text, bool *value)
{
    static const char *const yes[] = {"true", "yes", "on", "y", "1"};
    static const char *const no[] = {"false", "no", "off", "n", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *value = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *value = false;
            return 0;
        }
    }
    return -EINVAL;
}

int fce_parse_int(const char *text, int64_t *value)
{
    if (!*text || isspace((unsigned char)*text))
        return -EINVAL;

    char *end;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *value = parsed;
    return 0;
}

/* Reads the unsigned decimal at *text, with an optional fraction, into a
 * whole part and a fraction in billionths. */
static int read_decimal(const char **text, uint64_t *whole, uint64_t *nano)
{
    const char *p = *text;
    if (!isdigit((unsigned char)*p))
        return -EINVAL;

    *whole = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (*whole > (UINT64_MAX - 9) / 10)
            return -EINVAL;
        *whole = *whole * 10 + (uint64_t)(*p - '0');
    }

    *nano = 0;
    if (*p == '.') {
        uint64_t scale = 100000000;
        p++;
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
            *nano += (uint64_t)(*p - '0') * scale;
            scale /= 10;
        }
    }
    *text = p;
    return 0;
}

/* Multiplies whole.nano by factor, rounding down. Returns -EINVAL on
 * overflow. */
static int scale_value(uint64_t whole, uint64_t nano, uint64_t factor,
                       uint64_t *out)
{
    if (whole != 0 && factor > UINT64_MAX / whole)
        return -EINVAL;

    uint64_t result = whole * factor;
    /* nano < 1e9 and factor <= 2^40 (TiB) keep this product in range. */
    unsigned __int128 part = (unsigned __int128)nano * factor / 1000000000u;
    if (result > UINT64_MAX - (uint64_t)part)
        return -EINVAL;
    *out = result + (uint64_t)part;
    return 0;
}

struct unit {
    const char *name;
    uint64_t factor;
};

static const struct unit size_units[] = {
    {"", 1},
    {"b", 1},
    {"k", 1ull << 10},
    {"kib", 1ull << 10},
    {"kb", 1000ull},
    {"m", 1ull << 20},
    {"mib", 1ull << 20},
    {"mb", 1000000ull},
    {"g", 1ull << 30},
    {"gib", 1ull << 30},
    {"gb", 1000000000ull},
    {"t", 1ull << 40},
    {"tib", 1ull << 40},
    {"tb", 1000000000000ull},
};

int fce_parse_size(const char *text, uint64_t *bytes)
{
    uint64_t whole, nano;
    const char *p = text;
    if (read_decimal(&p, &whole, &nano) != 0)
        return -EINVAL;
    while (*p == ' ')
        p++;

    for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++)
        if (strcasecmp(p, size_units[i].name) == 0)
            return scale_value(whole, nano, size_units[i].factor, bytes);
    return -EINVAL;
}

static const struct unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
};

/* Reads one unit name at *text (letters only) and returns its factor. */
static int read_duration_unit(const char **text, uint64_t *factor)
{
    const char *start = *text;
    const char *p = start;
    while (isalpha((unsigned char)*p))
        p++;

    size_t len = (size_t)(p - start);
    for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]);
         i++) {
        const char *name = duration_units[i].name;
        if (strlen(name) == len && strncasecmp(start, name, len) == 0) {
            *factor = duration_units[i].factor;
            *text = p;
            return 0;
        }
    }
    return -EINVAL;
}

int fce_parse_duration(const char *text, uint64_t *ms)
{
    const char *p = text;
    uint64_t whole, nano, factor, part, total = 0;

    /* A bare number is milliseconds. */
    if (read_decimal(&p, &whole, &nano) != 0)
        return -EINVAL;
    if (*p == '\0')
        return scale_value(whole, nano, 1, ms);

    /* Otherwise one or more number-unit pairs: 10s, 1m30s, 1.5h. */
    p = text;
    while (*p != '\0') {
        if (read_decimal(&p, &whole, &nano) != 0 ||
            read_duration_unit(&p, &factor) != 0 ||
            scale_value(whole, nano, factor, &part) != 0 ||
            total > UINT64_MAX - part)
            return -EINVAL;
        total += part;
    }
    *ms = total;
    return 0;
}

void fce_format_size(uint64_t bytes, char *out, size_t size)
{
    static const struct unit binary[] = {{"TiB", 1ull << 40},
                                         {"GiB", 1ull << 30},
                                         {"MiB", 1ull << 20},
                                         {"KiB", 1ull << 10}};

    for (size_t i = 0; bytes != 0 && i < sizeof(binary) / sizeof(binary[0]);
         i++) {
        if (bytes % binary[i].factor == 0) {
            snprintf(out, size, "%" PRIu64 "%s", bytes / binary[i].factor,
                     binary[i].name);
            return;
        }
    }
    snprintf(out, size, "%" PRIu64, bytes);
}

void fce_format_duration(uint64_t ms, char *out, size_t size)
{
    if (ms != 0 && ms % 3600000 == 0)
        snprintf(out, size, "%" PRIu64 "h", ms / 3600000);
    else if (ms != 0 && ms % 60000 == 0)
        snprintf(out, size, "%" PRIu64 "m", ms / 60000);
    else if (ms != 0 && ms % 1000 == 0)
        snprintf(out, size, "%" PRIu64 "s", ms / 1000);
    else
        snprintf(out, size, "%" PRIu64 "ms", ms);
}

int fce_yaml_quote(struct fce_buf *out, const char *text)
{
    int rc = fce_buf_append_str(out, "\"");
    for (const unsigned char *p = (const unsigned char *)text; rc == 0 && *p;
         p++) {
        if (*p == '"' || *p == '\\')
            rc = fce_buf_printf(out, "\\%c", *p);
        else if (*p == '\n')
            rc = fce_buf_append_str(out, "\\n");
        else if (*p == '\t')
            rc = fce_buf_append_str(out, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            rc = fce_buf_printf(out, "\\x%02x", *p);
        else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            /* C1 controls are not printable YAML: escape them too. */
            rc = fce_buf_printf(out, "\\u%04x", *++p);
        else
            rc = fce_buf_append(out, p, 1);
    }
    return rc == 0 ? fce_buf_append_str(out, "\"") : rc;
}
