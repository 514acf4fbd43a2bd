/*
 * fce encode: prints the CloudEvent of each Flyte event request file, as
 * one structured JSON line, or as its binary-mode headers with --binary.
 * With --ring it writes ingest records into a ring instead, the way
 * fce-ingest does, to feed a pipeline without a client.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fce_buf.h"
#include "fce_ce.h"
#include "fce_cli.h"
#include "fce_event.h"
#include "fce_ring.h"

struct encode_options {
    enum fce_kind kind;
    bool has_kind;
    bool binary;
    enum fce_ce_binding binding;
    struct fce_ce_profile profile;
    const char *ring_path;
};

static void encode_usage(FILE *out)
{
    fprintf(
        out,
        "usage: fce encode --kind workflow|node|task [--binary "
        "[--binding kafka|pubsub]]\n"
        "                  [--source URI] [--jsonschemaurl URL] "
        "[--ring PATH] FILE...\n"
        "\n"
        "Validates each file as a flyteidl.admin.<Kind>ExecutionEventRequest"
        "\n"
        "(protobuf bytes) and prints its CloudEvent: one structured JSON\n"
        "line, or with --binary the binary-mode headers (Kafka ce_*, or\n"
        "Pub/Sub ce-* attributes), the key and the data size, then an\n"
        "empty line. A rejected file prints its reason on stderr; the\n"
        "others still print, and the exit status is 2.\n"
        "\n"
        "  --kind K           request kind of every FILE\n"
        "  --binary           print binary-mode headers instead of JSON\n"
        "  --binding B        kafka (default) or pubsub\n"
        "  --source URI       the source attribute (default %s)\n"
        "  --jsonschemaurl U  the jsonschemaurl attribute\n"
        "  --ring PATH        write ingest records into the ring at PATH\n"
        "                     (created by fce ring create) instead of\n"
        "                     printing\n",
        fce_ce_default_profile.source);
}

static int parse_encode_args(int argc, char **argv,
                             struct encode_options *options, int *first_file)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            encode_usage(stdout);
            exit(0);
        } else if (strcmp(arg, "--binary") == 0) {
            options->binary = true;
            continue;
        } else if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (!value) {
            fprintf(stderr, "fce encode: %s needs a value\n", arg);
            return -EINVAL;
        }
        i++;
        if (strcmp(arg, "--kind") == 0) {
            if (fce_kind_parse(value, &options->kind) < 0) {
                fprintf(stderr,
                        "fce encode: invalid --kind '%s'; use workflow, node "
                        "or task\n",
                        value);
                return -EINVAL;
            }
            options->has_kind = true;
        } else if (strcmp(arg, "--binding") == 0) {
            if (strcmp(value, "kafka") == 0) {
                options->binding = FCE_CE_BINDING_KAFKA;
            } else if (strcmp(value, "pubsub") == 0) {
                options->binding = FCE_CE_BINDING_PUBSUB;
            } else {
                fprintf(stderr,
                        "fce encode: invalid --binding '%s'; use kafka or "
                        "pubsub\n",
                        value);
                return -EINVAL;
            }
        } else if (strcmp(arg, "--source") == 0) {
            options->profile.source = value;
        } else if (strcmp(arg, "--jsonschemaurl") == 0) {
            options->profile.jsonschemaurl = value;
        } else if (strcmp(arg, "--ring") == 0) {
            options->ring_path = value;
        } else {
            fprintf(stderr,
                    "fce encode: unknown option '%s'; run 'fce encode "
                    "--help'\n",
                    arg);
            return -EINVAL;
        }
    }
    if (!options->has_kind) {
        fprintf(stderr, "fce encode: missing --kind workflow|node|task\n");
        return -EINVAL;
    }
    if (i >= argc) {
        fprintf(stderr, "fce encode: no request FILE given\n");
        return -EINVAL;
    }
    *first_file = i;
    return 0;
}

static int read_file(const char *path, struct fce_buf *out)
{
    FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!file)
        return -errno;
    int rc = 0;
    fce_buf_reset(out);
    for (;;) {
        if (fce_buf_reserve(out, 65536) < 0) {
            rc = -ENOMEM;
            break;
        }
        size_t n = fread(out->data + out->len, 1, 65536, file);
        out->len += n;
        if (n == 0) {
            rc = ferror(file) ? -EIO : 0;
            break;
        }
    }
    if (file != stdin)
        fclose(file);
    return rc;
}

static void print_binary(const struct fce_ce *ce, enum fce_ce_binding binding)
{
    struct fce_ce_headers headers;
    fce_ce_binary_headers(ce, binding, &headers);
    for (size_t i = 0; i < headers.count; i++)
        printf("%s: %.*s\n", headers.items[i].name,
               (int)headers.items[i].value_len, headers.items[i].value);
    printf("%s: %.*s\n",
           binding == FCE_CE_BINDING_PUBSUB ? "ordering key" : "key",
           (int)ce->partition_key_len, ce->partition_key);
    printf("%s: %zu bytes of protobuf\n\n",
           binding == FCE_CE_BINDING_PUBSUB ? "data" : "value", ce->data_len);
}

static int write_to_ring(struct fce_ring *ring, const struct fce_event *event,
                         const struct fce_buf *data)
{
    size_t size = fce_event_record_size(event, data->len);
    if (size > UINT32_MAX)
        return -EMSGSIZE;
    void *payload;
    int rc = fce_ring_reserve_wait(ring, (uint32_t)size, 10000, &payload);
    if (rc < 0)
        return rc;
    fce_event_record_write(payload, event, (const uint8_t *)data->data,
                           data->len);
    fce_ring_commit(ring, (uint32_t)event->kind, (uint32_t)size);
    return 0;
}

/* Encodes one file. Returns 0, 1 for a rejected request, or a negative
 * errno for a failure that stops the command. */
static int encode_file(const struct encode_options *options, const char *path,
                       struct fce_ring *ring, struct fce_buf *data,
                       struct fce_buf *json)
{
    int rc = read_file(path, data);
    if (rc < 0) {
        fprintf(stderr, "fce encode: %s: cannot read: %s\n", path,
                strerror(-rc));
        return 1;
    }

    struct fce_event event = {0};
    char err[256];
    rc = fce_event_parse(options->kind, (const uint8_t *)data->data, data->len,
                         &event, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "fce encode: %s: rejected: %s\n", path, err);
        return 1;
    }

    if (ring) {
        rc = write_to_ring(ring, &event, data);
        if (rc < 0)
            fprintf(stderr, "fce encode: %s: cannot write to the ring: %s\n",
                    path, strerror(-rc));
        fce_event_clear(&event);
        return rc;
    }

    struct fce_event_view view = {
        .kind = event.kind,
        .phase = event.phase,
        .has_time = event.has_time,
        .seconds = event.seconds,
        .nanos = event.nanos,
        .id = event.id,
        .id_len = event.id_len,
        .partition_key = event.partition_key,
        .partition_key_len = event.partition_key_len,
        .data = (const uint8_t *)data->data,
        .data_len = data->len,
    };
    struct fce_ce ce;
    fce_ce_from_event(&view, &options->profile, &ce);
    if (options->binary) {
        print_binary(&ce, options->binding);
    } else {
        fce_buf_reset(json);
        rc = fce_ce_render_json(&ce, json);
        if (rc == 0)
            rc = fce_buf_append(json, "\n", 1);
        if (rc == 0)
            fwrite(json->data, 1, json->len, stdout);
    }
    fce_event_clear(&event);
    return rc;
}

int fce_cmd_encode(int argc, char **argv)
{
    struct encode_options options = {
        .binding = FCE_CE_BINDING_KAFKA,
        .profile = fce_ce_default_profile,
    };
    int first_file;
    if (parse_encode_args(argc, argv, &options, &first_file) < 0)
        return 2;

    struct fce_ring *ring = NULL;
    if (options.ring_path) {
        char err[256] = "";
        int rc = fce_ring_attach(options.ring_path, &ring, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "fce encode: cannot attach the ring %s: %s\n",
                    options.ring_path, err[0] ? err : strerror(-rc));
            return 1;
        }
    }

    struct fce_buf data = FCE_BUF_INIT, json = FCE_BUF_INIT;
    int status = 0;
    for (int i = first_file; i < argc; i++) {
        int rc = encode_file(&options, argv[i], ring, &data, &json);
        if (rc < 0) {
            status = 1;
            break;
        }
        if (rc > 0)
            status = 2;
    }
    if (fflush(stdout) != 0)
        status = 1;
    fce_buf_free(&data);
    fce_buf_free(&json);
    if (ring)
        fce_ring_detach(ring);
    return status;
}
