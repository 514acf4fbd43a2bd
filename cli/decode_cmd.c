/*
 * fce decode: reads structured CloudEvents (JSON, one per line) and prints
 * each one's attributes and its data, a Flyte event request, in protobuf
 * text format, so a consumer can see what it received.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fce_base64.h"
#include "fce_buf.h"
#include "fce_ce.h"
#include "fce_cli.h"
#include "fce_event.h"
#include "fce_json.h"
#include "fce_pbscan.h"
#include "fce_text.h"
#include "flyteidl/admin/event.pb-c.h"

struct decoded_event {
    struct fce_buf attrs; /* "name: value\n" lines, in input order */
    struct fce_buf data;  /* decoded data_base64 */
    bool has_data_base64, has_data, has_specversion;
    char subject[128];
    char type[128];
    char problem[256];
};

static void decode_usage(FILE *out)
{
    fprintf(out,
            "usage: fce decode [FILE]\n"
            "\n"
            "Reads CloudEvents in structured JSON mode, one per line, from\n"
            "FILE or standard input, and prints the attributes of each, then\n"
            "its data_base64 decoded as the Flyte event request named by\n"
            "its subject (or type) in protobuf text format. A line that is\n"
            "not such a CloudEvent prints an error with its line number on\n"
            "stderr; the others still print, and the exit status is 2.\n");
}

static int on_member(void *context, const char *name, size_t name_len,
                     const char *value, size_t value_len, bool is_string)
{
    struct decoded_event *ev = context;
    if (strcmp(name, "data_base64") == 0) {
        if (!is_string) {
            snprintf(ev->problem, sizeof(ev->problem),
                     "data_base64 is not a string");
            return 1;
        }
        if (fce_buf_reserve(&ev->data, value_len / 4 * 3 + 3) < 0)
            return -ENOMEM;
        size_t bad = 0;
        long long n =
            fce_base64_decode(value, value_len, (uint8_t *)ev->data.data, &bad);
        if (n < 0) {
            snprintf(ev->problem, sizeof(ev->problem),
                     "data_base64 is not valid base64 (at character %zu)",
                     bad + 1);
            return 1;
        }
        ev->data.len = (size_t)n;
        ev->has_data_base64 = true;
        return 0;
    }
    if (strcmp(name, "data") == 0) {
        ev->has_data = true;
        return 0;
    }
    if (strcmp(name, "specversion") == 0)
        ev->has_specversion = is_string && strcmp(value, "1.0") == 0;
    if (strcmp(name, "subject") == 0 && is_string)
        snprintf(ev->subject, sizeof(ev->subject), "%s", value);
    if (strcmp(name, "type") == 0 && is_string)
        snprintf(ev->type, sizeof(ev->type), "%s", value);

    int rc = fce_buf_append(&ev->attrs, name, name_len);
    if (rc == 0)
        rc = fce_buf_append_str(&ev->attrs, ": ");
    if (rc == 0 && is_string)
        rc = fce_text_append_string(&ev->attrs, value, value_len);
    else if (rc == 0)
        rc = fce_buf_append(&ev->attrs, value, value_len);
    if (rc == 0)
        rc = fce_buf_append(&ev->attrs, "\n", 1);
    return rc;
}

/* The request kind from the subject (a request's full name) or the type. */
static int event_kind(const struct decoded_event *ev, enum fce_kind *kind)
{
    for (int k = FCE_KIND_WORKFLOW; k <= FCE_KIND_TASK; k++) {
        const char *type_suffix = fce_kind_name((enum fce_kind)k);
        char type[64];
        snprintf(type, sizeof(type), "com.flyte.resource.%s", type_suffix);
        if (strcmp(ev->subject, fce_kind_request_name((enum fce_kind)k)) == 0 ||
            strcmp(ev->type, type) == 0) {
            *kind = (enum fce_kind)k;
            return 0;
        }
    }
    return -EINVAL;
}

static const ProtobufCMessageDescriptor *descriptor_of(enum fce_kind kind)
{
    switch (kind) {
    case FCE_KIND_WORKFLOW:
        return &flyteidl__admin__workflow_execution_event_request__descriptor;
    case FCE_KIND_NODE:
        return &flyteidl__admin__node_execution_event_request__descriptor;
    default:
        return &flyteidl__admin__task_execution_event_request__descriptor;
    }
}

/* Prints one event. Returns 0, 1 when the line is not a Flyte CloudEvent
 * (with the reason in ev->problem), or -ENOMEM. */
static int decode_line(const char *line, size_t len, struct decoded_event *ev,
                       struct fce_buf *out)
{
    char err[256] = "";
    int rc = fce_json_parse_object(line, len, on_member, ev, err, sizeof(err));
    if (rc < 0 && rc != -ENOMEM)
        snprintf(ev->problem, sizeof(ev->problem), "invalid JSON: %s", err);
    if (rc != 0)
        return rc == -ENOMEM ? rc : 1;

    enum fce_kind kind = FCE_KIND_WORKFLOW;
    if (!ev->has_specversion)
        snprintf(ev->problem, sizeof(ev->problem),
                 "not a CloudEvent: specversion \"1.0\" missing");
    else if (ev->has_data && !ev->has_data_base64)
        snprintf(ev->problem, sizeof(ev->problem),
                 "data is inline JSON, expected data_base64 with the "
                 "protobuf request");
    else if (!ev->has_data_base64)
        snprintf(ev->problem, sizeof(ev->problem), "data_base64 missing");
    else if (event_kind(ev, &kind) < 0)
        snprintf(ev->problem, sizeof(ev->problem),
                 "subject \"%s\" and type \"%s\" name no Flyte event request",
                 ev->subject, ev->type);
    if (ev->problem[0])
        return 1;

    const ProtobufCMessageDescriptor *descriptor = descriptor_of(kind);
    const uint8_t *data = (const uint8_t *)ev->data.data;
    if (fce_pb_scan(descriptor, data, ev->data.len, err, sizeof(err)) < 0) {
        snprintf(ev->problem, sizeof(ev->problem), "data is not a valid %s: %s",
                 descriptor->name, err);
        return 1;
    }
    ProtobufCMessage *request =
        protobuf_c_message_unpack(descriptor, NULL, ev->data.len, data);
    if (!request) {
        snprintf(ev->problem, sizeof(ev->problem),
                 "protobuf-c cannot decode the data as %s", descriptor->name);
        return 1;
    }

    rc = fce_buf_append(out, ev->attrs.data, ev->attrs.len);
    if (rc == 0)
        rc = fce_buf_printf(out, "data: %s, %zu bytes\n", descriptor->name,
                            ev->data.len);
    if (rc == 0)
        rc = fce_text_append_multiline(out, request, 2);
    if (rc == 0)
        rc = fce_buf_append(out, "\n", 1);
    protobuf_c_message_free_unpacked(request, NULL);
    return rc;
}

int fce_cmd_decode(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            decode_usage(stdout);
            return 0;
        }
        if (path || (argv[i][0] == '-' && argv[i][1])) {
            fprintf(stderr,
                    "fce decode: unexpected argument '%s'; run 'fce "
                    "decode --help'\n",
                    argv[i]);
            return 2;
        }
        path = argv[i];
    }
    const char *name = path && strcmp(path, "-") != 0 ? path : "stdin";
    FILE *in = name == path ? fopen(path, "r") : stdin;
    if (!in) {
        fprintf(stderr, "fce decode: cannot open %s: %s\n", path,
                strerror(errno));
        return 1;
    }

    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    unsigned long line_number = 0;
    int status = 0;
    struct fce_buf out = FCE_BUF_INIT;
    struct decoded_event ev = {.attrs = FCE_BUF_INIT, .data = FCE_BUF_INIT};
    while ((len = getline(&line, &line_cap, in)) >= 0) {
        line_number++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        fce_buf_reset(&ev.attrs);
        fce_buf_reset(&ev.data);
        ev.has_data = ev.has_data_base64 = ev.has_specversion = false;
        ev.subject[0] = ev.type[0] = ev.problem[0] = '\0';
        fce_buf_reset(&out);
        int rc = decode_line(line, (size_t)len, &ev, &out);
        if (rc < 0) {
            fprintf(stderr, "fce decode: %s:%lu: out of memory\n", name,
                    line_number);
            status = 1;
            break;
        }
        if (rc > 0) {
            fprintf(stderr, "fce decode: %s:%lu: %s\n", name, line_number,
                    ev.problem);
            status = 2;
            continue;
        }
        fwrite(out.data, 1, out.len, stdout);
    }
    if (ferror(in)) {
        fprintf(stderr, "fce decode: cannot read %s: %s\n", name,
                strerror(errno));
        status = 1;
    }
    free(line);
    fce_buf_free(&out);
    fce_buf_free(&ev.attrs);
    fce_buf_free(&ev.data);
    if (in != stdin)
        fclose(in);
    return status;
}
