/* fce replay: sends a folder of request files, or a delimited stream file
 * (such as `fce gen` output, also from a pipe), to fce-ingest. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fce_cli.h"
#include "fce_event.h"
#include "fce_stream.h"

/* Largest frame read from a stream file. */
#define STREAM_FRAME_MAX (64u << 20)

struct replay {
    struct fce_client *client;
    const char *source;
    char **names; /* folder: file names by tag; stream: NULL */
    double rate;  /* events per second, 0: as fast as ingest acks */
    bool progress;
    uint64_t total;      /* events (folder) or bytes (file), 0: unknown */
    uint64_t done_bytes; /* stream source: bytes read */
    uint64_t sent, accepted, rejected, failed;
    double start, last_draw;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fce replay [--url URL | --unix PATH] [--rate N] [--http] "
            "SOURCE\n\n"
            "Sends every event of SOURCE to fce-ingest: a folder of request "
            "files (kind\nfrom each file name), a delimited stream file, or "
            "- for a stream on\nstandard input (fce gen ... | fce replay -). "
            "Shows a progress bar with\nrate and ETA when standard error is "
            "a terminal. Exits 0 when every event\nwas accepted, 2 when "
            "ingest rejected any, 1 when any was not delivered.\n\n"
            "  --url URL      ingest address (default 127.0.0.1:8089)\n"
            "  --unix PATH    ingest's Unix socket instead of TCP\n"
            "  --rate N       send at most N events per second\n"
            "  --kind KIND    kind of every file in a folder (default: from "
            "the name)\n"
            "  --http         POST over HTTP instead of the stream protocol\n"
            "  --window N     stream frames in flight (default 256)\n"
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
            "                 most this long (default 60s); then events "
            "fail\n"
            "  --no-progress  no progress bar even on a terminal\n");
}

static void draw_progress(struct replay *r, bool final)
{
    double now = now_seconds();
    if (!r->progress || (!final && now - r->last_draw < 0.1))
        return;
    r->last_draw = now;

    double elapsed = now - r->start > 1e-3 ? now - r->start : 1e-3;
    double rate = (double)r->sent / elapsed;
    double share = 0;
    if (r->total)
        share = (double)(r->names ? r->sent : r->done_bytes) / (double)r->total;
    share = share > 1 ? 1 : share;

    char bar[31];
    int filled = (int)(share * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    if (r->total && share > 0) {
        double eta = elapsed / share - elapsed;
        fprintf(stderr, "\r[%s] %3.0f%% %llu events %.0f ev/s ETA %.0fs  ", bar,
                share * 100, (unsigned long long)r->sent, rate,
                eta > 0 ? eta : 0);
    } else {
        fprintf(stderr, "\r%llu events %.0f ev/s  ",
                (unsigned long long)r->sent, rate);
    }
    if (final)
        fputc('\n', stderr);
}

static void on_result(void *ctx, uint64_t tag, enum fce_client_outcome outcome,
                      const char *message)
{
    struct replay *r = ctx;
    char where[64];
    const char *name = r->names ? r->names[tag] : where;
    if (!r->names)
        snprintf(where, sizeof(where), "%s frame %llu", r->source,
                 (unsigned long long)tag + 1);

    if (outcome == FCE_CLIENT_ACCEPTED) {
        r->accepted++;
        return;
    }
    if (r->progress)
        fputc('\n', stderr);
    if (outcome == FCE_CLIENT_REJECTED)
        r->rejected++;
    else
        r->failed++;
    printf("%s %s: %s\n",
           outcome == FCE_CLIENT_REJECTED ? "rejected" : "failed  ", name,
           message);
}

/* Sleeps until the next event is due under --rate. */
static void pace(struct replay *r)
{
    if (r->rate <= 0)
        return;
    double due = r->start + (double)r->sent / r->rate;
    double wait = due - now_seconds();
    if (wait > 0) {
        struct timespec ts = {(time_t)wait, (long)((wait - floor(wait)) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static int send_event(struct replay *r, uint32_t kind, const void *data,
                      size_t len, uint64_t tag)
{
    char err[512];
    pace(r);
    int rc = fce_client_send(r->client, kind, data, len, tag, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "fce replay: %s\n", err);
        return rc;
    }
    r->sent++;
    draw_progress(r, false);
    return 0;
}

/* ---- a delimited stream ---- */

static int replay_stream(struct replay *r, FILE *in)
{
    struct fce_buf buf = FCE_BUF_INIT;
    size_t off = 0;
    bool checked_preamble = false, eof = false;
    int rc = 0;
    uint64_t index = 0;

    while (rc == 0) {
        struct fce_stream_frame frame;
        size_t used;
        char err[160];
        int got = 0;
        if (!checked_preamble &&
            (buf.len - off >= FCE_STREAM_PREAMBLE_LEN || eof)) {
            if (fce_stream_preamble_check((uint8_t *)buf.data + off,
                                          buf.len - off) == 1)
                off += FCE_STREAM_PREAMBLE_LEN;
            checked_preamble = true;
        }
        if (checked_preamble)
            got = fce_stream_frame_decode((uint8_t *)buf.data + off,
                                          buf.len - off, STREAM_FRAME_MAX,
                                          &frame, &used, err, sizeof(err));
        if (got == 1) {
            rc = send_event(r, frame.kind, frame.request, frame.request_len,
                            index++);
            off += used;
            continue;
        }
        if (got < 0) {
            fprintf(stderr,
                    "fce replay: %s: frame %llu is malformed (%s); "
                    "expected frames as fce gen writes them\n",
                    r->source, (unsigned long long)index + 1, err);
            rc = -EPROTO;
            break;
        }
        if (eof) {
            if (buf.len > off) {
                fprintf(stderr, "fce replay: %s ends inside frame %llu\n",
                        r->source, (unsigned long long)index + 1);
                rc = -EPROTO;
            }
            break;
        }

        if (off > 0) {
            memmove(buf.data, buf.data + off, buf.len - off);
            buf.len -= off;
            off = 0;
        }
        if ((rc = fce_buf_reserve(&buf, 1 << 20)) < 0)
            break;
        size_t n = fread(buf.data + buf.len, 1, 1 << 20, in);
        buf.len += n;
        r->done_bytes += n;
        eof = n == 0 && (feof(in) || ferror(in));
    }
    fce_buf_free(&buf);
    return rc;
}

/* ---- a folder ---- */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the regular files of a folder, sorted by name. */
static int list_folder(const char *dir, char ***names, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t cap = 0;
    struct dirent *entry;
    *names = NULL;
    *count = 0;
    while ((entry = readdir(d))) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
        if (entry->d_name[0] == '.' || stat(path, &st) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(*names, cap * sizeof(char *));
            if (!grown)
                break;
            *names = grown;
        }
        if (!((*names)[*count] = strdup(path)))
            break;
        (*count)++;
    }
    closedir(d);
    qsort(*names, *count, sizeof(char *), compare_names);
    return 0;
}

static int read_whole(const char *path, struct fce_buf *buf)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    fce_buf_reset(buf);
    int rc = 0;
    size_t n;
    do {
        if ((rc = fce_buf_reserve(buf, 65536)) < 0)
            break;
        n = fread(buf->data + buf->len, 1, 65536, f);
        buf->len += n;
    } while (n == 65536);
    if (rc == 0 && ferror(f))
        rc = -EIO;
    fclose(f);
    return rc;
}

static int replay_folder(struct replay *r, char **names, size_t count,
                         enum fce_kind forced)
{
    for (size_t i = 0; i < count; i++) {
        if (!forced && !fce_client_kind_from_name(names[i])) {
            fprintf(stderr,
                    "fce replay: cannot tell the kind of %s from its "
                    "name; pass --kind workflow, node or task\n",
                    names[i]);
            return -EINVAL;
        }
    }

    struct fce_buf data = FCE_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        uint32_t kind = forced ? forced : fce_client_kind_from_name(names[i]);
        if ((rc = read_whole(names[i], &data)) < 0) {
            printf("failed   %s: cannot read it: %s\n", names[i],
                   strerror(-rc));
            r->failed++;
            rc = 0;
            continue;
        }
        rc = send_event(r, kind, data.data, data.len, i);
    }
    fce_buf_free(&data);
    return rc;
}

/* ---- the command ---- */

struct replay_args {
    struct fce_client_options opts;
    char host[256];
    enum fce_kind kind;
    double rate;
    bool no_progress;
};

static int parse_args(int argc, char **argv, struct replay_args *a)
{
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},
        {"unix", required_argument, NULL, 'U'},
        {"rate", required_argument, NULL, 'r'},
        {"kind", required_argument, NULL, 'k'},
        {"http", no_argument, NULL, 'H'},
        {"window", required_argument, NULL, 'w'},
        {"no-progress", no_argument, NULL, 'P'},
        {"timeout", required_argument, NULL, 't'},
        {"busy-timeout", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char err[512], *end;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'u':
            if (fce_client_parse_url(optarg, &a->opts, a->host, sizeof(a->host),
                                     err, sizeof(err)) < 0) {
                fprintf(stderr, "fce replay: %s\n", err);
                return -EINVAL;
            }
            break;
        case 'U':
            a->opts.unix_path = optarg;
            break;
        case 'r':
            a->rate = strtod(optarg, &end);
            if (*end || !(a->rate > 0)) {
                fprintf(stderr,
                        "fce replay: invalid --rate '%s'; expected "
                        "events per second > 0\n",
                        optarg);
                return -EINVAL;
            }
            break;
        case 'k':
            if (fce_kind_parse(optarg, &a->kind) < 0) {
                fprintf(stderr,
                        "fce replay: invalid --kind '%s'; expected "
                        "workflow, node or task\n",
                        optarg);
                return -EINVAL;
            }
            break;
        case 'H':
            a->opts.transport = FCE_CLIENT_HTTP;
            break;
        case 'w':
            a->opts.window = strtoul(optarg, &end, 10);
            if (*end || a->opts.window == 0 || a->opts.window > 65536) {
                fprintf(stderr,
                        "fce replay: invalid --window '%s'; expected "
                        "1 to 65536 frames\n",
                        optarg);
                return -EINVAL;
            }
            break;
        case 'P':
            a->no_progress = true;
            break;
        case 't':
        case 'B':
            if (fce_client_parse_timeout(optarg,
                                         opt == 't' ? &a->opts.timeout_ms
                                                    : &a->opts.busy_timeout_ms,
                                         err, sizeof(err)) < 0) {
                fprintf(stderr, "fce replay: invalid --%s: %s\n",
                        opt == 't' ? "timeout" : "busy-timeout", err);
                return -EINVAL;
            }
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "fce replay: expected one SOURCE (a folder, a stream "
                        "file or -)\n");
        return -EINVAL;
    }
    return 0;
}

static int run_source(struct replay *r, const char *source, enum fce_kind kind,
                      size_t *folder_count)
{
    struct stat st;
    if (strcmp(source, "-") == 0)
        return replay_stream(r, stdin);
    if (stat(source, &st) < 0) {
        fprintf(stderr, "fce replay: cannot open %s: %s\n", source,
                strerror(errno));
        return -errno;
    }
    if (S_ISDIR(st.st_mode)) {
        int rc = list_folder(source, &r->names, folder_count);
        if (rc < 0) {
            fprintf(stderr, "fce replay: cannot list %s: %s\n", source,
                    strerror(-rc));
            return rc;
        }
        r->total = *folder_count;
        return replay_folder(r, r->names, *folder_count, kind);
    }

    FILE *in = fopen(source, "rb");
    if (!in) {
        fprintf(stderr, "fce replay: cannot open %s: %s\n", source,
                strerror(errno));
        return -errno;
    }
    r->total = (uint64_t)st.st_size;
    int rc = replay_stream(r, in);
    fclose(in);
    return rc;
}

int fce_cmd_replay(int argc, char **argv)
{
    struct replay_args a = {.opts = {.host = "127.0.0.1", .port = 8089}};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc > 0 ? 0 : 2;

    struct replay r = {
        .source = argv[argc - 1],
        .rate = a.rate,
        .progress = !a.no_progress && isatty(STDERR_FILENO),
        .start = now_seconds(),
    };
    char err[512];
    a.opts.on_result = on_result;
    a.opts.ctx = &r;
    if (fce_client_open(&a.opts, &r.client, err, sizeof(err)) < 0) {
        fprintf(stderr, "fce replay: %s\n", err);
        return 1;
    }

    size_t folder_count = 0;
    rc = run_source(&r, r.source, a.kind, &folder_count);
    if (fce_client_finish(r.client, err, sizeof(err)) < 0 && rc == 0)
        fprintf(stderr, "fce replay: %s\n", err);
    fce_client_close(r.client);
    draw_progress(&r, true);

    double elapsed = now_seconds() - r.start;
    printf("replayed %s: %llu events in %.2f s (%.0f events/s): %llu "
           "accepted, %llu rejected, %llu failed\n",
           r.source, (unsigned long long)r.sent, elapsed,
           elapsed > 0 ? (double)r.sent / elapsed : 0.0,
           (unsigned long long)r.accepted, (unsigned long long)r.rejected,
           (unsigned long long)r.failed);
    for (size_t i = 0; i < folder_count; i++)
        free(r.names[i]);
    free(r.names);
    if (rc < 0 || r.failed)
        return 1;
    return r.rejected ? 2 : 0;
}
