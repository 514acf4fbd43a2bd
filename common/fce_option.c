/*
 * Option tables applied to a libyaml node tree: key matching without case
 * (as viper does for FlyteAdmin's files), type checks, defaults, required
 * keys and unknown-key reports. See fce_config_internal.h for the rules.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fce_config_internal.h"

/* Items of one list or properties block; more is a mistake, not a config. */
#define LIST_MAX 1024

/* Options per table that duplicate detection tracks. */
#define TABLE_MAX 64

static size_t table_size(const struct fce_option *table)
{
    size_t n = 0;
    while (table[n].key)
        n++;
    return n;
}

const struct fce_option *fce_option_find(const struct fce_option *table,
                                         const char *key)
{
    for (; table && table->key; table++)
        if (strcasecmp(table->key, key) == 0)
            return table;
    return NULL;
}

static void child_path(char *out, const char *path, const char *key)
{
    fce_path_join(out, path, key);
}

static const char *expected_text(const struct fce_option *opt)
{
    switch (opt->type) {
    case FCE_OPT_STRING:
    case FCE_OPT_SECRET:
        return "a string";
    case FCE_OPT_BOOL:
        return "true or false";
    case FCE_OPT_INT:
        return "an integer";
    case FCE_OPT_SIZE:
        return "a size such as 65536, 64KiB or 1GiB";
    case FCE_OPT_DURATION:
        return "a duration such as 250ms, 10s or 5m";
    case FCE_OPT_ENUM:
        return "one of the listed values";
    case FCE_OPT_STRING_LIST:
        return "a list of strings";
    case FCE_OPT_PROPERTIES:
        return "a mapping of names to values";
    case FCE_OPT_SECTION:
        return "a mapping";
    }
    return "a value";
}

static void choices_text(const struct fce_option *opt, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; opt->choices && opt->choices[i] && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                                 opt->choices[i]);
}

static void free_strlist(struct fce_strlist *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static void free_props(struct fce_props *props)
{
    for (size_t i = 0; i < props->count; i++) {
        free(props->keys[i]);
        free(props->values[i]);
    }
    free(props->keys);
    free(props->values);
    memset(props, 0, sizeof(*props));
}

void fce_option_free(const struct fce_option *table, void *target)
{
    for (; table && table->key; table++) {
        char *field = (char *)target + table->offset;
        switch (table->type) {
        case FCE_OPT_STRING:
        case FCE_OPT_SECRET:
            free(*(char **)field);
            *(char **)field = NULL;
            break;
        case FCE_OPT_STRING_LIST:
            free_strlist((struct fce_strlist *)field);
            break;
        case FCE_OPT_PROPERTIES:
            free_props((struct fce_props *)field);
            break;
        case FCE_OPT_SECTION:
            fce_option_free(table->section, field);
            break;
        default:
            break;
        }
    }
}

/* Parses one scalar text into field. Returns 0, or -EINVAL with a reason
 * in why, or -ENOMEM. */
static int parse_scalar(const struct fce_option *opt, void *field,
                        const char *text, char *why, size_t why_size)
{
    switch (opt->type) {
    case FCE_OPT_STRING:
    case FCE_OPT_SECRET: {
        char *copy = *text ? strdup(text) : NULL;
        if (*text && !copy)
            return -ENOMEM;
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case FCE_OPT_BOOL:
        return fce_parse_bool(text, (bool *)field);
    case FCE_OPT_INT: {
        int64_t value;
        if (fce_parse_int(text, &value) != 0)
            return -EINVAL;
        if ((opt->min || opt->max) && (value < opt->min || value > opt->max)) {
            snprintf(why, why_size,
                     "%" PRId64 " is out of range; use %" PRId64 "..%" PRId64,
                     value, opt->min, opt->max);
            return -EINVAL;
        }
        *(int64_t *)field = value;
        return 0;
    }
    case FCE_OPT_SIZE:
        return fce_parse_size(text, (uint64_t *)field);
    case FCE_OPT_DURATION:
        return fce_parse_duration(text, (uint64_t *)field);
    case FCE_OPT_ENUM:
        for (int i = 0; opt->choices && opt->choices[i]; i++) {
            if (strcasecmp(opt->choices[i], text) == 0) {
                *(int *)field = i;
                return 0;
            }
        }
        {
            char list[256];
            choices_text(opt, list, sizeof(list));
            snprintf(why, why_size, "'%s' is not a valid value; use one of: %s",
                     text, list);
        }
        return -EINVAL;
    default:
        return -EINVAL;
    }
}

/* Appends an owned string to a list. */
static int strlist_push(struct fce_strlist *list, char *item)
{
    char **grown = realloc(list->items, (list->count + 1) * sizeof(char *));
    if (!grown) {
        free(item);
        return -ENOMEM;
    }
    list->items = grown;
    list->items[list->count++] = item;
    return 0;
}

/* Parses "a, b" (a default) into list. */
static int strlist_from_text(struct fce_strlist *list, const char *text)
{
    free_strlist(list);
    while (*text) {
        while (*text == ' ' || *text == ',')
            text++;
        size_t len = strcspn(text, ",");
        while (len && text[len - 1] == ' ')
            len--;
        if (len == 0)
            break;
        char *item = strndup(text, len);
        if (!item || strlist_push(list, item) != 0)
            return -ENOMEM;
        text += len;
    }
    return 0;
}

struct apply_ctx {
    const struct fce_yaml *yaml;
    const char *path;                /* of the value being applied */
    enum fce_unknown_policy unknown; /* passed on to nested sections */
};

static void report(const struct apply_ctx *ctx, const yaml_node_t *node,
                   enum fce_severity severity, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void report(const struct apply_ctx *ctx, const yaml_node_t *node,
                   enum fce_severity severity, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fce_diag_vadd(ctx->yaml->diag, severity, ctx->yaml->name,
                  node ? &node->start_mark : NULL, ctx->path, format, args);
    va_end(args);
}

static void apply_list(const struct apply_ctx *ctx, struct fce_strlist *list,
                       yaml_node_t *node)
{
    struct fce_strlist parsed = {0};

    if (node->type == YAML_SCALAR_NODE) {
        char *item = fce_yaml_strdup(node);
        if (!item) {
            report(ctx, node, FCE_SEV_ERROR, "contains a NUL byte");
            return;
        }
        if (strlist_push(&parsed, item) != 0)
            goto nomem;
        goto done;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
        report(ctx, node, FCE_SEV_ERROR, "expected a list of strings, found %s",
               fce_yaml_kind(node));
        return;
    }

    yaml_node_item_t *it = node->data.sequence.items.start;
    for (; it < node->data.sequence.items.top; it++) {
        yaml_node_t *item_node = yaml_document_get_node(ctx->yaml->doc, *it);
        if (parsed.count >= LIST_MAX) {
            report(ctx, item_node, FCE_SEV_ERROR,
                   "more than %d items; shorten the list", LIST_MAX);
            break;
        }
        if (fce_yaml_is_null(item_node) ||
            item_node->type != YAML_SCALAR_NODE) {
            report(ctx, item_node, FCE_SEV_ERROR,
                   "item %zu: expected a string, found %s",
                   (size_t)(it - node->data.sequence.items.start),
                   fce_yaml_kind(item_node));
            continue;
        }
        char *item = fce_yaml_strdup(item_node);
        if (!item) {
            report(ctx, item_node, FCE_SEV_ERROR, "contains a NUL byte");
            continue;
        }
        if (strlist_push(&parsed, item) != 0)
            goto nomem;
    }
done:
    free_strlist(list);
    *list = parsed;
    return;
nomem:
    free_strlist(&parsed);
    report(ctx, node, FCE_SEV_ERROR, "out of memory");
}

static int props_push(struct fce_props *props, char *key, char *value)
{
    size_t n = props->count + 1;
    char **keys = realloc(props->keys, n * sizeof(char *));
    if (keys)
        props->keys = keys;
    char **values = keys ? realloc(props->values, n * sizeof(char *)) : NULL;
    if (!values) {
        free(key);
        free(value);
        return -ENOMEM;
    }
    props->values = values;
    props->keys[props->count] = key;
    props->values[props->count] = value;
    props->count = n;
    return 0;
}

static void apply_props(const struct apply_ctx *ctx, struct fce_props *props,
                        yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE) {
        report(ctx, node, FCE_SEV_ERROR,
               "expected a mapping of names to values, found %s",
               fce_yaml_kind(node));
        return;
    }

    struct fce_props parsed = {0};
    yaml_node_pair_t *pair = node->data.mapping.pairs.start;
    for (; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(ctx->yaml->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(ctx->yaml->doc, pair->value);
        if (parsed.count >= LIST_MAX) {
            report(ctx, k, FCE_SEV_ERROR, "more than %d entries", LIST_MAX);
            break;
        }
        char *key = fce_yaml_strdup(k);
        char *value = v && !fce_yaml_is_null(v) ? fce_yaml_strdup(v) : NULL;
        if (!key || !value) {
            report(ctx, key ? v : k, FCE_SEV_ERROR,
                   "%s: expected a name and a string value, found %s",
                   key ? key : "key", fce_yaml_kind(key ? v : k));
            free(key);
            free(value);
            continue;
        }
        if (props_push(&parsed, key, value) != 0) {
            report(ctx, node, FCE_SEV_ERROR, "out of memory");
            break;
        }
    }
    free_props(props);
    *props = parsed;
}

static void apply_scalar(const struct apply_ctx *ctx,
                         const struct fce_option *opt, void *field,
                         yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE) {
        report(ctx, node, FCE_SEV_ERROR, "expected %s, found %s",
               expected_text(opt), fce_yaml_kind(node));
        return;
    }
    char *text = fce_yaml_strdup(node);
    if (!text) {
        report(ctx, node, FCE_SEV_ERROR, "contains a NUL byte");
        return;
    }

    char why[320] = "";
    int rc = parse_scalar(opt, field, text, why, sizeof(why));
    if (rc == -ENOMEM)
        report(ctx, node, FCE_SEV_ERROR, "out of memory");
    else if (rc != 0 && why[0])
        report(ctx, node, FCE_SEV_ERROR, "%s", why);
    else if (rc != 0)
        report(ctx, node, FCE_SEV_ERROR, "'%s' is not valid; expected %s",
               opt->type == FCE_OPT_SECRET ? "***" : text, expected_text(opt));
    else if ((opt->type == FCE_OPT_STRING || opt->type == FCE_OPT_SECRET) &&
             !*text && (opt->flags & FCE_OPT_REQUIRED))
        report(ctx, node, FCE_SEV_ERROR, "empty; %s", opt->help);
    free(text);
}

/* Sets an absent option: its default, or nothing when it has none. */
static void apply_default(const struct apply_ctx *ctx,
                          const struct fce_option *opt, void *field)
{
    if (!opt->default_value)
        return;

    int rc;
    char why[320] = "";
    if (opt->type == FCE_OPT_STRING_LIST)
        rc = strlist_from_text(field, opt->default_value);
    else
        rc = parse_scalar(opt, field, opt->default_value, why, sizeof(why));
    if (rc != 0)
        report(ctx, NULL, FCE_SEV_ERROR,
               "the built-in default '%s' does not parse (%s)",
               opt->default_value, why[0] ? why : strerror(-rc));
}

static bool in_list(const char *const *list, const char *key)
{
    for (; list && *list; list++)
        if (strcasecmp(*list, key) == 0)
            return true;
    return false;
}

/* Edit distance without case, capped: enough to suggest a close key. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;

    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) !=
                          tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void report_unknown(const struct apply_ctx *ctx,
                           const struct fce_option *table,
                           const char *const *skip, yaml_node_t *key_node,
                           const char *key, enum fce_unknown_policy unknown)
{
    enum fce_severity severity =
        unknown == FCE_UNKNOWN_WARN ? FCE_SEV_WARNING : FCE_SEV_ERROR;
    const char *what =
        unknown == FCE_UNKNOWN_WARN ? "unknown key, ignored" : "unknown key";

    const char *closest = NULL;
    size_t best = 3;
    for (const struct fce_option *o = table; o->key; o++) {
        size_t d = distance(key, o->key);
        if (d < best) {
            best = d;
            closest = o->key;
        }
    }
    for (const char *const *s = skip; s && *s; s++) {
        size_t d = distance(key, *s);
        if (d < best) {
            best = d;
            closest = *s;
        }
    }
    if (closest) {
        report(ctx, key_node, severity, "%s; did you mean %s?", what, closest);
        return;
    }

    char known[512] = "";
    size_t used = 0;
    for (const struct fce_option *o = table; o->key && used < sizeof(known);
         o++)
        used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
                                 used ? ", " : "", o->key);
    for (; skip && *skip && used < sizeof(known); skip++)
        used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
                                 used ? ", " : "", *skip);
    report(ctx, key_node, severity, "%s; the keys here are: %s", what, known);
}

static void apply_value(const struct apply_ctx *ctx,
                        const struct fce_option *opt, void *field,
                        yaml_node_t *node)
{
    switch (opt->type) {
    case FCE_OPT_STRING_LIST:
        apply_list(ctx, field, node);
        break;
    case FCE_OPT_PROPERTIES:
        apply_props(ctx, field, node);
        break;
    case FCE_OPT_SECTION:
        if (node->type != YAML_MAPPING_NODE) {
            report(ctx, node, FCE_SEV_ERROR, "expected a mapping, found %s",
                   fce_yaml_kind(node));
            fce_option_apply(ctx->yaml, opt->section, field, NULL,
                             &node->start_mark, ctx->path, NULL, ctx->unknown);
            break;
        }
        fce_option_apply(ctx->yaml, opt->section, field, node,
                         &node->start_mark, ctx->path, NULL, ctx->unknown);
        break;
    default:
        apply_scalar(ctx, opt, field, node);
        break;
    }
}

/* Applies the keys present in mapping; seen[i] counts table[i]. */
static void apply_present(const struct fce_yaml *yaml,
                          const struct fce_option *table, void *target,
                          yaml_node_t *mapping, const char *path,
                          const char *const *skip,
                          enum fce_unknown_policy unknown, unsigned *seen)
{
    char sub[FCE_PATH_MAX];
    struct apply_ctx ctx = {yaml, sub, unknown};

    yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
    for (; pair < mapping->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(yaml->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(yaml->doc, pair->value);
        char *key = fce_yaml_strdup(k);
        if (!key) {
            ctx.path = path;
            report(&ctx, k, FCE_SEV_ERROR, "a key must be a string, found %s",
                   fce_yaml_kind(k));
            ctx.path = sub;
            continue;
        }
        child_path(sub, path, key);

        const struct fce_option *opt = fce_option_find(table, key);
        if (!opt) {
            if (!in_list(skip, key))
                report_unknown(&ctx, table, skip, k, key, unknown);
            free(key);
            continue;
        }
        free(key);

        size_t index = (size_t)(opt - table);
        if (index < TABLE_MAX && seen[index]++) {
            report(&ctx, k, FCE_SEV_ERROR,
                   "given twice (keys are compared without case); keep one");
            continue;
        }
        if (fce_yaml_is_null(v)) {
            seen[index] = 0; /* null: as if absent, so the default applies */
            continue;
        }
        apply_value(&ctx, opt, (char *)target + opt->offset, v);
    }
}

void fce_option_apply(const struct fce_yaml *yaml,
                      const struct fce_option *table, void *target,
                      yaml_node_t *mapping, const yaml_mark_t *where,
                      const char *path, const char *const *skip,
                      enum fce_unknown_policy unknown)
{
    unsigned seen[TABLE_MAX] = {0};
    char sub[FCE_PATH_MAX];
    struct apply_ctx ctx = {yaml, sub, unknown};

    if (table_size(table) > TABLE_MAX) {
        ctx.path = path;
        report(&ctx, NULL, FCE_SEV_ERROR, "option table too large");
        return;
    }
    if (mapping && mapping->type == YAML_MAPPING_NODE) {
        apply_present(yaml, table, target, mapping, path, skip, unknown, seen);
    } else if (mapping && !fce_yaml_is_null(mapping)) {
        ctx.path = path;
        report(&ctx, mapping, FCE_SEV_ERROR, "expected a mapping, found %s",
               fce_yaml_kind(mapping));
        ctx.path = sub;
    }

    for (size_t i = 0; table[i].key; i++) {
        const struct fce_option *opt = &table[i];
        void *field = (char *)target + opt->offset;
        if (seen[i])
            continue;
        child_path(sub, path, opt->key);
        if (opt->type == FCE_OPT_SECTION)
            fce_option_apply(yaml, opt->section, field, NULL, where, sub, NULL,
                             unknown);
        else if (opt->flags & FCE_OPT_REQUIRED)
            fce_diag_add(
                yaml->diag, FCE_SEV_ERROR, yaml->name, where, sub,
                "missing; set it%s%s: %s", yaml->required_note ? ", " : "",
                yaml->required_note ? yaml->required_note : "", opt->help);
        else
            apply_default(&ctx, opt, field);
    }
}
