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
#include "fce_ring.h"
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
            "       fce decode --ring PATH [--count N] [--timeout MS] "
            "[--json]\n"
            "\n"
            "Reads CloudEvents in structured JSON mode, one per line, from\n"
            "FILE or standard input, and prints the attributes of each, then\n"
            "its data_base64 decoded as the Flyte event request named by\n"
            "its subject (or type) in protobuf text format. A line that is\n"
            "not such a CloudEvent prints an error with its line number on\n"
            "stderr; the others still print, and the exit status is 2.\n"
            "\n"
            "With --ring it consumes neutral CloudEvent records from a\n"
            "publisher ring instead (stop its publisher first: a ring has one\n"
            "consumer) and releases each one it printed.\n"
            "  --count N     stop after N records (default: until --timeout)\n"
            "  --timeout MS  give up when no record arrives for MS\n"
            "                milliseconds (default 5000); exit 1 if --count\n"
            "                was not reached\n"
            "  --json        print each record as one structured JSON line\n");
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
                 "subject \"%.100s\" and type \"%.100s\" name no Flyte event "
                 "request",
                 ev->subject, ev->type);
    if (ev->problem[0])
        return 1;

    const ProtobufCMessageDescriptor *descriptor = descriptor_of(kind);
    const uint8_t *data = (const uint8_t *)ev->data.data;
    if (fce_pb_scan(descriptor, data, ev->data.len, err, sizeof(err)) < 0) {
        snprintf(ev->problem, sizeof(ev->problem),
                 "data is not a valid %s: %.160s", descriptor->name, err);
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

struct ring_options {
    const char *path;
    unsigned long count; /* 0: until the timeout */
    int timeout_ms;
    bool json;
};

static void reset_event(struct decoded_event *ev)
{
    fce_buf_reset(&ev->attrs);
    fce_buf_reset(&ev->data);
    ev->has_data = ev->has_data_base64 = ev->has_specversion = false;
    ev->subject[0] = ev->type[0] = ev->problem[0] = '\0';
}

/* Prints one neutral record as JSON or as text. Returns 0, 1 for a bad
 * record, or -ENOMEM. */
static int print_record(const struct fce_ring_record *record, bool json,
                        struct decoded_event *ev, struct fce_buf *out)
{
    struct fce_ce ce;
    if (fce_ce_record_read(record->data, record->len, &ce) < 0) {
        snprintf(ev->problem, sizeof(ev->problem),
                 "malformed CloudEvent record (%u bytes, kind %u)", record->len,
                 record->kind);
        return 1;
    }
    struct fce_buf rendered = FCE_BUF_INIT;
    int rc = fce_ce_render_json(&ce, &rendered);
    if (rc == 0 && json)
        rc = fce_buf_printf(out, "%.*s\n", (int)rendered.len, rendered.data);
    else if (rc == 0)
        rc = decode_line(rendered.data, rendered.len, ev, out);
    fce_buf_free(&rendered);
    return rc;
}

static int decode_ring(const struct ring_options *options)
{
    struct fce_ring *ring = NULL;
    char err[256] = "";
    int rc = fce_ring_attach(options->path, &ring, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "fce decode: cannot attach the ring %s: %s\n",
                options->path, err[0] ? err : strerror(-rc));
        return 1;
    }

    int status = 0;
    unsigned long printed = 0;
    struct fce_buf out = FCE_BUF_INIT;
    struct decoded_event ev = {.attrs = FCE_BUF_INIT, .data = FCE_BUF_INIT};
    while (options->count == 0 || printed < options->count) {
        struct fce_ring_record record;
        rc = fce_ring_read_wait(ring, &record, options->timeout_ms);
        if (rc == -EINTR)
            continue;
        if (rc < 0)
            break;
        reset_event(&ev);
        fce_buf_reset(&out);
        rc = print_record(&record, options->json, &ev, &out);
        if (rc < 0)
            break;
        if (rc > 0) {
            fprintf(stderr, "fce decode: %s: record %llu: %s\n", options->path,
                    (unsigned long long)record.seq, ev.problem);
            status = 2;
        }
        fwrite(out.data, 1, out.len, stdout);
        fflush(stdout);
        fce_ring_release(ring, record.end);
        printed++;
    }
    if (rc < 0 && rc != -ETIMEDOUT) {
        fprintf(stderr, "fce decode: reading %s failed: %s\n", options->path,
                strerror(-rc));
        status = 1;
    } else if (options->count && printed < options->count) {
        fprintf(stderr, "fce decode: %s: timed out after %lu of %lu records\n",
                options->path, printed, options->count);
        status = 1;
    }
    fce_buf_free(&out);
    fce_buf_free(&ev.attrs);
    fce_buf_free(&ev.data);
    fce_ring_detach(ring);
    return status;
}

static int parse_number(const char *option, const char *text, unsigned long max,
                        unsigned long *value)
{
    char *end;
    errno = 0;
    unsigned long n = text ? strtoul(text, &end, 10) : 0;
    if (!text || errno || end == text || *end || n > max || text[0] == '-') {
        fprintf(stderr,
                "fce decode: invalid %s '%s'; expected a number up "
                "to %lu\n",
                option, text ? text : "", max);
        return -EINVAL;
    }
    *value = n;
    return 0;
}

static int parse_ring_args(int argc, char **argv, struct ring_options *ring)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n;
        if (strcmp(arg, "--json") == 0) {
            ring->json = true;
            continue;
        }
        if (strcmp(arg, "--ring") == 0 && value) {
            ring->path = value;
        } else if (strcmp(arg, "--count") == 0) {
            if (parse_number(arg, value, 1ul << 40, &n) < 0)
                return -EINVAL;
            ring->count = n;
        } else if (strcmp(arg, "--timeout") == 0) {
            if (parse_number(arg, value, 86400000, &n) < 0)
                return -EINVAL;
            ring->timeout_ms = (int)n;
        } else {
            fprintf(stderr,
                    "fce decode: unexpected argument '%s'; run 'fce "
                    "decode --help'\n",
                    arg);
            return -EINVAL;
        }
        i++;
    }
    return 0;
}

int fce_cmd_decode(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ring") == 0) {
            struct ring_options ring = {.timeout_ms = 5000};
            if (parse_ring_args(argc, argv, &ring) < 0)
                return 2;
            return decode_ring(&ring);
        }
    }
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
        reset_event(&ev);
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
