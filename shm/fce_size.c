/* fce_size_parse: sizes in configuration files and on the command line. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <strings.h>

#include "fce_ring.h"

struct unit {
    const char *name;
    uint64_t factor;
};

/* Single letters and the IEC names are powers of 1024, as in most Linux
 * tools; KB, MB, GB and TB are the SI powers of 1000. */
static const struct unit units[] = {
    {"", 1},
    {"b", 1},
    {"k", 1ull << 10},
    {"ki", 1ull << 10},
    {"kib", 1ull << 10},
    {"kb", 1000ull},
    {"m", 1ull << 20},
    {"mi", 1ull << 20},
    {"mib", 1ull << 20},
    {"mb", 1000ull * 1000},
    {"g", 1ull << 30},
    {"gi", 1ull << 30},
    {"gib", 1ull << 30},
    {"gb", 1000ull * 1000 * 1000},
    {"t", 1ull << 40},
    {"ti", 1ull << 40},
    {"tib", 1ull << 40},
    {"tb", 1000ull * 1000 * 1000 * 1000},
};

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Looks up the unit spelled by the len letters at name. Returns its factor
 * or 0 when there is no such unit. */
static uint64_t unit_factor(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        const char *unit = units[i].name;
        size_t j = 0;

        while (unit[j] && j < len && tolower((unsigned char)name[j]) == unit[j])
            j++;
        if (!unit[j] && j == len)
            return units[i].factor;
    }
    return 0;
}

int fce_size_parse(const char *text, uint64_t *bytes)
{
    const char *p;
    uint64_t value = 0, factor;
    size_t letters = 0;

    if (!text)
        return -EINVAL;
    p = skip_spaces(text);
    if (!isdigit((unsigned char)*p)) /* also rejects "-1" and "+1" */
        return -EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        uint64_t digit = (uint64_t)(*p - '0');

        if (value > (UINT64_MAX - digit) / 10)
            return -EINVAL;
        value = value * 10 + digit;
    }

    p = skip_spaces(p);
    while (isalpha((unsigned char)p[letters]))
        letters++;
    factor = unit_factor(p, letters);
    if (factor == 0 || *skip_spaces(p + letters) != '\0')
        return -EINVAL;
    if (__builtin_mul_overflow(value, factor, &value))
        return -EINVAL;
    *bytes = value;
    return 0;
}
