/*
 * Diagnostics of the configuration loader and the libyaml node helpers
 * that every loader file shares.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fce_config_internal.h"

void fce_diag_vadd(struct fce_diag *diag, enum fce_severity severity,
                   const char *name, const yaml_mark_t *mark, const char *path,
                   const char *format, va_list args)
{
    if (severity == FCE_SEV_ERROR)
        diag->error_count++;
    else
        diag->warning_count++;
    if (diag->count >= FCE_DIAG_MAX_MESSAGES)
        return;

    struct fce_buf line = FCE_BUF_INIT;
    int rc = fce_buf_append_str(&line, severity == FCE_SEV_ERROR ? "error: "
                                                                 : "warning: ");
    if (rc == 0 && name && mark)
        rc = fce_buf_printf(&line, "%s:%zu:%zu: ", name, mark->line + 1,
                            mark->column + 1);
    else if (rc == 0 && name)
        rc = fce_buf_printf(&line, "%s: ", name);
    if (rc == 0 && path && *path)
        rc = fce_buf_printf(&line, "%s: ", path);

    char text[1024];
    vsnprintf(text, sizeof(text), format, args);
    if (rc == 0)
        rc = fce_buf_append(&line, text, strlen(text) + 1);

    char **grown = NULL;
    if (rc == 0)
        grown = realloc(diag->messages, (diag->count + 1) * sizeof(char *));
    if (!grown) {
        /* Out of memory: the counts still say a problem was found. */
        fce_buf_free(&line);
        return;
    }
    diag->messages = grown;
    diag->messages[diag->count++] = line.data;
}

void fce_diag_add(struct fce_diag *diag, enum fce_severity severity,
                  const char *name, const yaml_mark_t *mark, const char *path,
                  const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fce_diag_vadd(diag, severity, name, mark, path, format, args);
    va_end(args);
}

void fce_diag_error(struct fce_diag *diag, const char *path, const char *format,
                    ...)
{
    va_list args;
    va_start(args, format);
    fce_diag_vadd(diag, FCE_SEV_ERROR, diag->source, NULL, path, format, args);
    va_end(args);
}

bool fce_diag_has_error(const struct fce_diag *diag, const char *path)
{
    char needle[FCE_PATH_MAX + 4];

    /* Messages read "error: FILE:LINE:COL: PATH: MESSAGE". */
    snprintf(needle, sizeof(needle), " %s: ", path);
    for (size_t i = 0; i < diag->count; i++)
        if (strncmp(diag->messages[i], "error: ", 7) == 0 &&
            strstr(diag->messages[i], needle))
            return true;
    return false;
}

void fce_diag_free(struct fce_diag *diag)
{
    if (!diag)
        return;
    for (size_t i = 0; i < diag->count; i++)
        free(diag->messages[i]);
    free(diag->messages);
    memset(diag, 0, sizeof(*diag));
}

bool fce_yaml_is_null(const yaml_node_t *node)
{
    if (!node)
        return true;
    if (node->type != YAML_SCALAR_NODE ||
        node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;

    const char *text = (const char *)node->data.scalar.value;
    size_t len = node->data.scalar.length;
    return len == 0 || (len == 1 && text[0] == '~') ||
           (len == 4 && strncasecmp(text, "null", 4) == 0);
}

const char *fce_yaml_kind(const yaml_node_t *node)
{
    if (!node)
        return "nothing";
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return fce_yaml_is_null(node) ? "null" : "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "an empty node";
    }
}

static bool scalar_equals(const yaml_node_t *node, const char *key)
{
    size_t len = strlen(key);
    return node && node->type == YAML_SCALAR_NODE &&
           node->data.scalar.length == len &&
           strncasecmp((const char *)node->data.scalar.value, key, len) == 0;
}

yaml_node_t *fce_yaml_lookup(const struct fce_yaml *yaml, yaml_node_t *mapping,
                             const char *key, yaml_node_t **key_node)
{
    if (!mapping || mapping->type != YAML_MAPPING_NODE)
        return NULL;

    yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
    for (; pair < mapping->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(yaml->doc, pair->key);
        if (!scalar_equals(k, key))
            continue;
        if (key_node)
            *key_node = k;
        return yaml_document_get_node(yaml->doc, pair->value);
    }
    return NULL;
}

char *fce_yaml_strdup(const yaml_node_t *node)
{
    if (!node || node->type != YAML_SCALAR_NODE)
        return NULL;

    size_t len = node->data.scalar.length;
    if (memchr(node->data.scalar.value, '\0', len))
        return NULL;
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, node->data.scalar.value, len);
    copy[len] = '\0';
    return copy;
}

void fce_path_join(char *out, const char *path, const char *key)
{
    int n;
    if (path && *path)
        n = snprintf(out, FCE_PATH_MAX, "%s.%s", path, key);
    else
        n = snprintf(out, FCE_PATH_MAX, "%s", key);
    if (n < 0)
        out[0] = '\0';
}
