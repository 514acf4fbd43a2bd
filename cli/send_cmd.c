/* fce send: sends event request files to fce-ingest and reports each. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fce_cli.h"
#include "fce_event.h"
#include "fce_stream.h"

struct send_state {
    char **files;
    size_t accepted, rejected, failed;
    bool quiet;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fce send [--url URL | --unix PATH] [--kind KIND] [--http] "
            "FILE...\n\n"
            "Sends each file (one protobuf *ExecutionEventRequest) to "
            "fce-ingest and\nprints one result line per file. Exits 0 when "
            "every file was accepted,\n2 when ingest rejected any, 1 when "
            "any could not be delivered.\n\n"
            "  --url URL      ingest address, HOST:PORT or http://HOST:PORT "
            "(default\n"
            "                 127.0.0.1:8089)\n"
            "  --unix PATH    ingest's Unix socket instead of TCP\n"
            "  --kind KIND    workflow, node or task for every file (default: "
            "from each\n"
            "                 file name, e.g. 012-task-queued.pb)\n"
            "  --http         POST over HTTP instead of the stream protocol\n"
            "  --timeout DURATION\n"
            "                 wait this long for each acknowledgement or "
            "response\n"
            "                 (default 30s; 500ms, 10s, 1m; a bare number "
            "is ms)\n"
            "  --busy-timeout DURATION\n"
            "                 keep resending while ingest answers BUSY "
            "(stream) or\n"
            "                 503 (HTTP) because its ring is full or not "
            "ready, for at\n"
            "                 most this long (default 60s); then the event "
            "fails\n"
            "  --quiet        print only rejections, failures and the "
            "summary\n");
}

static void on_result(void *ctx, uint64_t tag, enum fce_client_outcome outcome,
                      const char *message)
{
    struct send_state *state = ctx;
    const char *file = state->files[tag];
    switch (outcome) {
    case FCE_CLIENT_ACCEPTED:
        state->accepted++;
        if (!state->quiet)
            printf("accepted %s\n", file);
        break;
    case FCE_CLIENT_REJECTED:
        state->rejected++;
        printf("rejected %s: %s\n", file, message);
        break;
    case FCE_CLIENT_FAILED:
        state->failed++;
        printf("failed   %s: %s\n", file, message);
        break;
    }
}

/* Reads a whole file. Returns 0 or a negative errno. */
static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    struct fce_buf buf = FCE_BUF_INIT;
    int rc = 0;
    for (;;) {
        if ((rc = fce_buf_reserve(&buf, 65536)) < 0)
            break;
        size_t n = fread(buf.data + buf.len, 1, 65536, f);
        buf.len += n;
        if (n < 65536) {
            rc = ferror(f) ? -EIO : 0;
            break;
        }
    }
    fclose(f);
    if (rc < 0) {
        fce_buf_free(&buf);
        return rc;
    }
    *data = (uint8_t *)buf.data;
    *len = buf.len;
    return 0;
}

/* Decides each file's kind before anything is sent, so a bad name fails
 * the command without a partial send. */
static int resolve_kinds(char **files, size_t count, uint32_t forced,
                         uint32_t *kinds)
{
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        kinds[i] = forced ? forced : fce_client_kind_from_name(files[i]);
        if (!kinds[i]) {
            fprintf(stderr,
                    "fce send: cannot tell the kind of %s from its name; "
                    "pass --kind workflow, node or task\n",
                    files[i]);
            rc = -EINVAL;
        }
    }
    return rc;
}

static int send_files(struct fce_client *client, char **files, size_t count,
                      const uint32_t *kinds, struct send_state *state)
{
    char err[512];
    for (size_t i = 0; i < count; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = read_file(files[i], &data, &len);
        if (rc < 0) {
            printf("failed   %s: cannot read it: %s\n", files[i],
                   strerror(-rc));
            state->failed++;
            continue;
        }
        rc = fce_client_send(client, kinds[i], data, len, i, err, sizeof(err));
        free(data);
        if (rc < 0) {
            fprintf(stderr, "fce send: %s\n", err);
            for (size_t j = i + 1; j < count; j++) {
                printf("failed   %s: not sent after the error above\n",
                       files[j]);
                state->failed++;
            }
            return rc;
        }
    }
    if (fce_client_finish(client, err, sizeof(err)) < 0)
        fprintf(stderr, "fce send: %s\n", err);
    return 0;
}

int fce_cmd_send(int argc, char **argv)
{
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},
        {"unix", required_argument, NULL, 'U'},
        {"kind", required_argument, NULL, 'k'},
        {"http", no_argument, NULL, 'H'},
        {"timeout", required_argument, NULL, 't'},
        {"busy-timeout", required_argument, NULL, 'B'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct fce_client_options opts = {.host = "127.0.0.1", .port = 8089};
    struct send_state state = {0};
    char host[256], err[512];
    enum fce_kind forced = 0;
    int opt;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
        switch (opt) {
        case 'u':
            if (fce_client_parse_url(optarg, &opts, host, sizeof(host), err,
                                     sizeof(err)) < 0) {
                fprintf(stderr, "fce send: %s\n", err);
                return 2;
            }
            break;
        case 'U':
            opts.unix_path = optarg;
            break;
        case 'k':
            if (fce_kind_parse(optarg, &forced) < 0) {
                fprintf(stderr,
                        "fce send: invalid --kind '%s'; expected "
                        "workflow, node or task\n",
                        optarg);
                return 2;
            }
            break;
        case 'H':
            opts.transport = FCE_CLIENT_HTTP;
            break;
        case 't':
        case 'B':
            if (fce_client_parse_timeout(optarg,
                                         opt == 't' ? &opts.timeout_ms
                                                    : &opts.busy_timeout_ms,
                                         err, sizeof(err)) < 0) {
                fprintf(stderr, "fce send: invalid --%s: %s\n",
                        opt == 't' ? "timeout" : "busy-timeout", err);
                return 2;
            }
            break;
        case 'q':
            state.quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "fce send: no files given\n");
        usage(stderr);
        return 2;
    }

    size_t count = (size_t)(argc - optind);
    char **files = argv + optind;
    uint32_t *kinds = calloc(count, sizeof(*kinds));
    struct fce_client *client = NULL;
    int rc = 2;
    if (!kinds || resolve_kinds(files, count, forced, kinds) < 0)
        goto cleanup;

    state.files = files;
    opts.on_result = on_result;
    opts.ctx = &state;
    rc = 1;
    if (fce_client_open(&opts, &client, err, sizeof(err)) < 0) {
        fprintf(stderr, "fce send: %s\n", err);
        goto cleanup;
    }
    send_files(client, files, count, kinds, &state);
    fce_client_close(client);

    printf("sent %zu files: %zu accepted, %zu rejected, %zu failed\n", count,
           state.accepted, state.rejected, state.failed);
    rc = state.failed ? 1 : state.rejected ? 2 : 0;

cleanup:
    free(kinds);
    return rc;
}
