/*
 * fce_value: the parsers and formatters of configuration values, shared
 * by the configuration loader and the command-line options of every
 * program, so that a size or a duration reads the same everywhere.
 *
 * A size is a number with an optional unit in any case, such as 1500,
 * 64KiB or 1.5GB. B, K or KiB, M or MiB, G or GiB, T or TiB are powers of
 * 1024, and KB, MB, GB and TB are powers of 1000. A duration is a bare number
 * of milliseconds or one or more number-unit pairs of ms, s, m, h and d (250ms,
 * 30s, 1m30s). Each parser returns 0 or -EINVAL.
 */
#ifndef FCE_VALUE_H
#define FCE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int fce_parse_bool(const char *text, bool *value);
int fce_parse_int(const char *text, int64_t *value);
int fce_parse_size(const char *text, uint64_t *bytes);
int fce_parse_duration(const char *text, uint64_t *ms);

/* Writes 64MiB, 1500 (bytes) or 30s, 250ms: the shortest exact text. */
void fce_format_size(uint64_t bytes, char *out, size_t size);
void fce_format_duration(uint64_t ms, char *out, size_t size);

#endif
