/*
 * Option tables written out: as YAML for `fce config dump` (secrets
 * masked) and as Markdown table rows for docs/configuration.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fce_config_internal.h"

#define MASK "***"

static int indent_to(struct fce_buf *out, int indent)
{
    return fce_buf_printf(out, "%*s", indent, "");
}

static int dump_list(const struct fce_strlist *list, struct fce_buf *out)
{
    int rc = fce_buf_append_str(out, "[");
    for (size_t i = 0; rc == 0 && i < list->count; i++) {
        if (i)
            rc = fce_buf_append_str(out, ", ");
        if (rc == 0)
            rc = fce_yaml_quote(out, list->items[i]);
    }
    return rc == 0 ? fce_buf_append_str(out, "]\n") : rc;
}

/* Property names whose values are credentials (librdkafka's
 * sasl.password, ssl.key.password, sasl.oauthbearer.config...). */
static bool secret_property(const char *name)
{
    static const char *const parts[] = {
        "password",           "secret",  "token", "credential",
        "oauthbearer.config", "private", NULL};
    for (const char *const *part = parts; *part; part++)
        if (strcasestr(name, *part))
            return true;
    return false;
}

static int dump_props(const struct fce_props *props, int indent,
                      struct fce_buf *out)
{
    if (props->count == 0)
        return fce_buf_append_str(out, "{}\n");

    int rc = fce_buf_append_str(out, "\n");
    for (size_t i = 0; rc == 0 && i < props->count; i++) {
        rc = indent_to(out, indent);
        if (rc == 0)
            rc = fce_yaml_quote(out, props->keys[i]);
        if (rc == 0)
            rc = fce_buf_append_str(out, ": ");
        if (rc == 0)
            rc = fce_yaml_quote(
                out, secret_property(props->keys[i]) ? MASK : props->values[i]);
        if (rc == 0)
            rc = fce_buf_append_str(out, "\n");
    }
    return rc;
}

/* Appends the value of one option after its "key: ". */
static int dump_value(const struct fce_option *opt, const void *field,
                      int indent, struct fce_buf *out)
{
    char text[64];
    const char *str;

    switch (opt->type) {
    case FCE_OPT_STRING:
        str = *(char *const *)field;
        return fce_yaml_quote(out, str ? str : "")
                   ?: fce_buf_append_str(out, "\n");
    case FCE_OPT_SECRET:
        str = *(char *const *)field;
        return fce_buf_printf(out, "\"%s\"\n", str && *str ? MASK : "");
    case FCE_OPT_BOOL:
        return fce_buf_printf(out, "%s\n",
                              *(const bool *)field ? "true" : "false");
    case FCE_OPT_INT:
        return fce_buf_printf(out, "%" PRId64 "\n", *(const int64_t *)field);
    case FCE_OPT_SIZE:
        fce_format_size(*(const uint64_t *)field, text, sizeof(text));
        return fce_buf_printf(out, "%s\n", text);
    case FCE_OPT_DURATION:
        fce_format_duration(*(const uint64_t *)field, text, sizeof(text));
        return fce_buf_printf(out, "%s\n", text);
    case FCE_OPT_ENUM: {
        int index = *(const int *)field;
        return fce_buf_printf(out, "%s\n",
                              index >= 0 ? opt->choices[index] : "");
    }
    case FCE_OPT_STRING_LIST:
        return dump_list(field, out);
    case FCE_OPT_PROPERTIES:
        return dump_props(field, indent + 2, out);
    case FCE_OPT_SECTION:
        return fce_buf_append_str(out, "\n")
                   ?: fce_option_dump(opt->section, field, indent + 2, out);
    }
    return -EINVAL;
}

int fce_option_dump(const struct fce_option *table, const void *target,
                    int indent, struct fce_buf *out)
{
    int rc = 0;
    for (; rc == 0 && table->key; table++) {
        rc = indent_to(out, indent);
        /* A block value starts on the next line, so no space after ':'. */
        bool block =
            table->type == FCE_OPT_SECTION ||
            (table->type == FCE_OPT_PROPERTIES &&
             ((const struct fce_props *)((const char *)target + table->offset))
                 ->count);
        if (rc == 0)
            rc = fce_buf_printf(out, "%s:%s", table->key, block ? "" : " ");
        if (rc == 0)
            rc = dump_value(table, (const char *)target + table->offset, indent,
                            out);
    }
    return rc;
}

static const char *type_text(const struct fce_option *opt, char *buf,
                             size_t size)
{
    switch (opt->type) {
    case FCE_OPT_STRING:
        return "string";
    case FCE_OPT_SECRET:
        return "secret string";
    case FCE_OPT_BOOL:
        return "bool";
    case FCE_OPT_INT:
        if (opt->min || opt->max) {
            snprintf(buf, size, "integer %" PRId64 "..%" PRId64, opt->min,
                     opt->max);
            return buf;
        }
        return "integer";
    case FCE_OPT_SIZE:
        return "size";
    case FCE_OPT_DURATION:
        return "duration";
    case FCE_OPT_ENUM: {
        size_t used = (size_t)snprintf(buf, size, "one of");
        for (size_t i = 0; opt->choices[i] && used < size; i++)
            used += (size_t)snprintf(buf + used, size - used, "%s `%s`",
                                     i ? "," : "", opt->choices[i]);
        return buf;
    }
    case FCE_OPT_STRING_LIST:
        return "list of strings";
    case FCE_OPT_PROPERTIES:
        return "map of strings";
    case FCE_OPT_SECTION:
        return "block";
    }
    return "?";
}

/* Appends text with the characters that break a Markdown table escaped. */
static int append_cell(struct fce_buf *out, const char *text)
{
    int rc = 0;
    for (; rc == 0 && *text; text++) {
        if (*text == '|')
            rc = fce_buf_append_str(out, "\\|");
        else if (*text == '\n')
            rc = fce_buf_append_str(out, " ");
        else
            rc = fce_buf_append(out, text, 1);
    }
    return rc;
}

static int docs_row(const struct fce_option *opt, const char *path,
                    struct fce_buf *out)
{
    char type[256];
    int rc = fce_buf_printf(out, "| `%s` | %s | ", path,
                            type_text(opt, type, sizeof(type)));

    if (rc == 0 && (opt->flags & FCE_OPT_REQUIRED))
        rc = fce_buf_append_str(out, "required");
    else if (rc == 0 && opt->default_value && *opt->default_value)
        rc = fce_buf_append_str(out, "`") ?: append_cell(out, opt->default_value)
                                             ?: fce_buf_append_str(out, "`");
    else if (rc == 0 && opt->type == FCE_OPT_BOOL)
        rc = fce_buf_append_str(out, "`false`");
    else if (rc == 0)
        rc = fce_buf_append_str(out, "none");

    if (rc == 0)
        rc = fce_buf_append_str(out, " | ");
    if (rc == 0)
        rc = append_cell(out, opt->help ? opt->help : "");
    if (rc == 0 && (opt->flags & FCE_OPT_FLYTE))
        rc = fce_buf_append_str(out, " (FlyteAdmin key)");
    if (rc == 0 && opt->type == FCE_OPT_SECRET)
        rc = fce_buf_append_str(out, " Shown as `***` in dumps and logs.");
    return rc == 0 ? fce_buf_append_str(out, " |\n") : rc;
}

int fce_option_docs_rows(const struct fce_option *table, const char *prefix,
                         struct fce_buf *out)
{
    int rc = 0;
    for (; rc == 0 && table->key; table++) {
        char path[FCE_PATH_MAX];
        fce_path_join(path, prefix, table->key);

        rc = docs_row(table, path, out);
        if (rc == 0 && table->type == FCE_OPT_SECTION &&
            !(table->flags & FCE_OPT_DOC_SAME_AS))
            rc = fce_option_docs_rows(table->section, path, out);
    }
    return rc;
}
