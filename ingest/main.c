/* fce-ingest: accepts Flyte event requests over HTTP/1.1 and the stream
 * protocol and commits each valid one to the ingest ring. */
#include "ingest.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fce_log.h"
#include "fce_ring.h"
#include "fce_stats.h"
#include "fce_value.h"

#define DEFAULT_RING_PATH "/dev/shm/fce/ingest.ring"

static struct ingest *running;

static void on_signal(int signo)
{
    (void)signo;
    if (running)
        running->stopping = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fce-ingest [--config FILE] [OPTIONS]\n\n"
            "Accepts Flyte event requests over HTTP/1.1 and the stream "
            "protocol\nand commits each valid one to the ingest ring. "
            "Options override the\nconfiguration file.\n\n"
            "  --config FILE            the pipeline configuration (YAML)\n"
            "  --listen ADDR            HOST:PORT, [V6]:PORT or unix:PATH; "
            "repeatable\n"
            "                           (default 127.0.0.1:%d)\n"
            "  --io MODE                auto (io_uring, else epoll), uring "
            "or epoll\n"
            "  --ring PATH              the ingest ring (default %s)\n"
            "  --ring-dir DIR           rings shown by /metrics (default: "
            "the ring's folder)\n"
            "  --stats-dir DIR          stats files shown by /metrics "
            "(default: ring-dir)\n"
            "  --max-connections N      open connections (default %d)\n"
            "  --max-header-bytes SIZE  request head size (default 16KiB)\n"
            "  --max-body-bytes SIZE    request body or stream frame size "
            "(default 4MiB);\n"
            "                           must leave 64KiB of the ring's "
            "maxRecord\n"
            "  --idle-timeout DURATION  close connections idle this long "
            "(default %ds)\n"
            "  --request-timeout DURATION\n"
            "                           answer 408 when a request takes "
            "longer (default %ds)\n"
            "  --log-level LEVEL        debug, info, warn or error\n"
            "  -h, --help               print this help and exit\n\n"
            "SIZE is 16384, 64KiB, 1.5MiB or 1GB; DURATION is 250ms, 10s, "
            "1m30s or\na bare number of milliseconds, as in the "
            "configuration file.\n",
            FCE_INGEST_DEFAULT_PORT, DEFAULT_RING_PATH,
            INGEST_DEFAULT_MAX_CONNECTIONS,
            INGEST_DEFAULT_IDLE_TIMEOUT_MS / 1000,
            INGEST_DEFAULT_REQUEST_TIMEOUT_MS / 1000);
}

/* Settings after the config file and the command line. */
struct settings {
    const char *config_path;
    struct fce_listener listeners[16];
    size_t listener_count;
    enum fce_io_mode io;
    bool io_set;
    char *ring_path;
    char *ring_directory;
    char *stats_directory;
    struct ingest_limits limits;
    struct ingest_limits set; /* nonzero where the command line set one */
};

/* Bounds the configuration puts on the same keys (common/fce_config*.c). */
#define MAX_CONNECTIONS_LIMIT 1000000
#define MIN_HEADER_BYTES      (1u << 10)
#define MAX_HEADER_BYTES      (1u << 20)

static int reject_value(const char *option, const char *text,
                        const char *expected)
{
    fprintf(stderr, "fce-ingest: invalid %s '%s': %s\n", option, text,
            expected);
    return -EINVAL;
}

/* Parses a count as the configuration parses maxConnections. */
static int parse_count(const char *option, const char *text, uint64_t *out)
{
    int64_t value;
    if (fce_parse_int(text, &value) < 0 || value < 1 ||
        value > MAX_CONNECTIONS_LIMIT)
        return reject_value(option, text,
                            "expected a whole number from 1 to 1000000");
    *out = (uint64_t)value;
    return 0;
}

/* Parses a size as the configuration does: 16384, 64KiB, 1.5MiB, 1GB. */
static int parse_size(const char *option, const char *text, uint64_t min,
                      uint64_t max, uint64_t *out)
{
    char expected[160];
    if (text[strspn(text, " ")] == '-')
        return reject_value(option, text,
                            "a size cannot be negative; give one such as "
                            "64KiB or 4MiB");
    if (fce_parse_size(text, out) < 0)
        return reject_value(option, text,
                            "expected a size in bytes such as 16384, 64KiB "
                            "or 4MiB");
    if (*out < min || *out > max) {
        snprintf(expected, sizeof(expected),
                 "%llu bytes is out of range; use %llu..%llu bytes",
                 (unsigned long long)*out, (unsigned long long)min,
                 (unsigned long long)max);
        return reject_value(option, text, expected);
    }
    return 0;
}

/* Parses a duration as the configuration does: 250 (milliseconds), 250ms,
 * 10s, 1m30s. */
static int parse_duration(const char *option, const char *text, uint64_t *out)
{
    if (text[strspn(text, " ")] == '-')
        return reject_value(option, text,
                            "a duration cannot be negative; give one such "
                            "as 250ms, 10s or 5m");
    if (fce_parse_duration(text, out) < 0)
        return reject_value(option, text,
                            "expected a duration such as 250ms, 10s or 5m "
                            "(a bare number is milliseconds)");
    if (*out == 0)
        return reject_value(option, text,
                            "0 is not allowed; give a duration such as 30s");
    return 0;
}

static int parse_io(const char *text, enum fce_io_mode *io)
{
    if (strcmp(text, "auto") == 0)
        *io = FCE_IO_AUTO;
    else if (strcmp(text, "uring") == 0 || strcmp(text, "io_uring") == 0)
        *io = FCE_IO_URING;
    else if (strcmp(text, "epoll") == 0)
        *io = FCE_IO_EPOLL;
    else {
        fprintf(stderr,
                "fce-ingest: invalid --io '%s'; expected auto, uring "
                "or epoll\n",
                text);
        return -EINVAL;
    }
    return 0;
}

enum {
    OPT_CONFIG = 256,
    OPT_LISTEN,
    OPT_IO,
    OPT_RING,
    OPT_RING_DIR,
    OPT_STATS_DIR,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_HEADER,
    OPT_MAX_BODY,
    OPT_IDLE,
    OPT_REQUEST,
    OPT_LOG_LEVEL,
};

static const struct option options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"io", required_argument, NULL, OPT_IO},
    {"ring", required_argument, NULL, OPT_RING},
    {"ring-dir", required_argument, NULL, OPT_RING_DIR},
    {"stats-dir", required_argument, NULL, OPT_STATS_DIR},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"max-header-bytes", required_argument, NULL, OPT_MAX_HEADER},
    {"max-body-bytes", required_argument, NULL, OPT_MAX_BODY},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"request-timeout", required_argument, NULL, OPT_REQUEST},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_option(int opt, const char *arg, struct settings *s)
{
    char err[256];
    enum fce_log_level level;
    switch (opt) {
    case OPT_CONFIG:
        s->config_path = arg;
        return 0;
    case OPT_LISTEN:
        if (s->listener_count == 16) {
            fprintf(stderr, "fce-ingest: at most 16 --listen addresses\n");
            return -EINVAL;
        }
        if (ingest_listener_parse(arg, &s->listeners[s->listener_count], err,
                                  sizeof(err)) < 0) {
            fprintf(stderr, "fce-ingest: %s\n", err);
            return -EINVAL;
        }
        s->listener_count++;
        return 0;
    case OPT_IO:
        s->io_set = true;
        return parse_io(arg, &s->io);
    case OPT_RING:
        s->ring_path = strdup(arg);
        return 0;
    case OPT_RING_DIR:
        s->ring_directory = strdup(arg);
        return 0;
    case OPT_STATS_DIR:
        s->stats_directory = strdup(arg);
        return 0;
    case OPT_MAX_CONNECTIONS:
        return parse_count("--max-connections", arg, &s->set.max_connections);
    case OPT_MAX_HEADER:
        return parse_size("--max-header-bytes", arg, MIN_HEADER_BYTES,
                          MAX_HEADER_BYTES, &s->set.max_header_bytes);
    case OPT_MAX_BODY:
        return parse_size("--max-body-bytes", arg, 1, UINT64_MAX,
                          &s->set.max_body_bytes);
    case OPT_IDLE:
        return parse_duration("--idle-timeout", arg, &s->set.idle_timeout_ms);
    case OPT_REQUEST:
        return parse_duration("--request-timeout", arg,
                              &s->set.request_timeout_ms);
    case OPT_LOG_LEVEL:
        if (fce_log_level_parse(arg, &level) < 0) {
            fprintf(stderr,
                    "fce-ingest: invalid --log-level '%s'; expected "
                    "debug, info, warn or error\n",
                    arg);
            return -EINVAL;
        }
        fce_log_init("ingest", level);
        return 0;
    default:
        usage(stderr);
        return -EINVAL;
    }
}

/* Takes ingest.listen from the configuration: every address, in order. */
static int copy_listeners(struct settings *s,
                          const struct fce_ingest_config *in)
{
    size_t max = sizeof(s->listeners) / sizeof(s->listeners[0]);
    if (in->listener_count > max) {
        fprintf(stderr,
                "fce-ingest: ingest.listen has %zu addresses; at most %zu "
                "are supported\n",
                in->listener_count, max);
        return -EINVAL;
    }
    for (size_t i = 0; i < in->listener_count; i++) {
        struct fce_listener *l = &s->listeners[i];
        *l = in->listeners[i];
        l->host = in->listeners[i].host ? strdup(in->listeners[i].host) : NULL;
        l->path = in->listeners[i].path ? strdup(in->listeners[i].path) : NULL;
        s->listener_count = i + 1;
    }
    return 0;
}

static uint64_t pick(uint64_t option, uint64_t config, uint64_t fallback)
{
    return option ? option : config ? config : fallback;
}

/* Takes what the command line did not set from the configuration. */
static int apply_config(struct settings *s, const struct fce_config *config)
{
    const struct fce_ingest_config *in = config ? &config->ingest : NULL;
    s->limits.max_connections =
        pick(s->set.max_connections,
             in && in->max_connections > 0 ? (uint64_t)in->max_connections : 0,
             INGEST_DEFAULT_MAX_CONNECTIONS);
    s->limits.max_header_bytes =
        pick(s->set.max_header_bytes, in ? in->max_header_bytes : 0,
             INGEST_DEFAULT_MAX_HEADER_BYTES);
    s->limits.max_body_bytes =
        pick(s->set.max_body_bytes, in ? in->max_body_bytes : 0,
             INGEST_DEFAULT_MAX_BODY_BYTES);
    s->limits.idle_timeout_ms =
        pick(s->set.idle_timeout_ms, in ? in->idle_timeout_ms : 0,
             INGEST_DEFAULT_IDLE_TIMEOUT_MS);
    s->limits.request_timeout_ms =
        pick(s->set.request_timeout_ms, in ? in->request_timeout_ms : 0,
             INGEST_DEFAULT_REQUEST_TIMEOUT_MS);
    if (!s->io_set && in)
        s->io = in->io;

    if (s->listener_count == 0 && in && copy_listeners(s, in) < 0)
        return -EINVAL;
    if (s->listener_count == 0) {
        s->listeners[0].type = FCE_LISTEN_TCP;
        s->listeners[0].host = strdup("127.0.0.1");
        s->listeners[0].port = FCE_INGEST_DEFAULT_PORT;
        s->listener_count = 1;
    }

    if (!s->ring_path)
        s->ring_path =
            strdup(in && in->ring_path ? in->ring_path : DEFAULT_RING_PATH);
    if (!s->ring_directory) {
        char *copy = strdup(s->ring_path);
        s->ring_directory =
            strdup(config && config->ring_directory ? config->ring_directory
                                                    : dirname(copy));
        free(copy);
    }
    if (!s->stats_directory)
        s->stats_directory =
            strdup(config && config->stats_directory ? config->stats_directory
                                                     : s->ring_directory);
    return s->ring_path && s->ring_directory && s->stats_directory ? 0
                                                                   : -ENOMEM;
}

/*
 * Rejects a body limit set on the command line or in the file that the
 * ring's records cannot hold, with the configuration's rule: maxBodyBytes
 * plus 64KiB for the attributes fits maxRecord. The ring's own header
 * decides when the ring exists; otherwise rings.maxRecord of the file.
 * A default that does not fit is lowered once the ring is attached.
 */
static int check_body_limit(const struct settings *s,
                            const struct fce_config *config)
{
    const char *key =
        s->set.max_body_bytes ? "--max-body-bytes" : "ingest.maxBodyBytes";
    struct fce_ring_info info;
    char err[256], where[4200];
    uint64_t max_record;

    if (!s->set.max_body_bytes && !config)
        return 0;
    if (fce_ring_inspect(s->ring_path, &info, err, sizeof(err)) == 0) {
        max_record = info.max_record;
        snprintf(where, sizeof(where), "of the ring %s", s->ring_path);
    } else if (config && s->set.max_body_bytes) {
        max_record = config->max_record;
        snprintf(where, sizeof(where), "(rings.maxRecord of %s)",
                 s->config_path);
    } else {
        return 0;
    }
    if (s->limits.max_body_bytes <= max_record &&
        max_record - s->limits.max_body_bytes >= INGEST_RECORD_OVERHEAD)
        return 0;

    fprintf(stderr,
            "fce-ingest: %s %llu bytes does not fit the maxRecord of %llu "
            "bytes %s with 64KiB for the attributes; lower %s to at most "
            "%llu bytes or use a ring with a larger maxRecord\n",
            key, (unsigned long long)s->limits.max_body_bytes,
            (unsigned long long)max_record, where, key,
            max_record > INGEST_RECORD_OVERHEAD
                ? (unsigned long long)(max_record - INGEST_RECORD_OVERHEAD)
                : 0ull);
    return -EINVAL;
}

static int load_config(const char *path, struct fce_config **config)
{
    struct fce_diag diag = {0};
    int rc = fce_config_load(path, config, &diag);
    for (size_t i = 0; i < diag.count; i++)
        fprintf(stderr, "fce-ingest: %s: %s\n", path, diag.messages[i]);
    if (rc < 0 && diag.count == 0)
        fprintf(stderr, "fce-ingest: cannot read %s: %s\n", path,
                strerror(-rc));
    fce_diag_free(&diag);
    return rc;
}

/* Raises the open file limit to its hard limit, for many connections. */
static void raise_fd_limit(uint64_t max_connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < max_connections + 64)
        fce_warn("ingest",
                 "the open file limit is lower than maxConnections; "
                 "connections past it are dropped",
                 "nofile=%llu max_connections=%llu",
                 (unsigned long long)rl.rlim_cur,
                 (unsigned long long)max_connections);
}

static int open_listeners(struct settings *s, struct ingest_listeners *ls)
{
    ls->fds = calloc(s->listener_count, sizeof(int));
    if (!ls->fds)
        return -ENOMEM;
    for (size_t i = 0; i < s->listener_count; i++) {
        char err[256];
        int fd = ingest_listen(&s->listeners[i], err, sizeof(err));
        if (fd < 0) {
            fce_error("ingest", "cannot open a listener", "error=%s",
                      fce_log_quote(err));
            return fd;
        }
        ls->fds[ls->count++] = fd;
        if (s->listeners[i].type == FCE_LISTEN_UNIX)
            fce_info("ingest", "listening", "address=unix:%s",
                     fce_log_quote(s->listeners[i].path));
        else
            fce_info("ingest", "listening", "address=%s:%u",
                     s->listeners[i].host, s->listeners[i].port);
    }
    return 0;
}

static int run_loop(struct ingest *ingest, enum fce_io_mode io,
                    struct ingest_listeners *ls)
{
    if (io == FCE_IO_EPOLL)
        return ingest_run_epoll(ingest, ls);

    int rc = ingest_run_uring(ingest, ls);
    if (rc == -ENOSYS || rc == -EPERM || rc == -EACCES) {
        if (io == FCE_IO_URING) {
            fce_error("ingest",
                      "io_uring is not available and --io uring "
                      "was requested; use --io auto or epoll",
                      "error=%s", strerror(-rc));
            return rc;
        }
        fce_warn("ingest", "io_uring is not available; using epoll", "error=%s",
                 strerror(-rc));
        return ingest_run_epoll(ingest, ls);
    }
    return rc;
}

static void open_stats(struct ingest *ingest)
{
    char path[4096], err[256];
    snprintf(path, sizeof(path), "%s/ingest.stats", ingest->stats_directory);
    if (fce_stats_open(path, "ingest", &ingest->stats, err, sizeof(err)) < 0) {
        ingest->stats = NULL;
        fce_warn("ingest",
                 "cannot open the stats file; fce stat will not "
                 "show ingest",
                 "path=%s error=%s", fce_log_quote(path), fce_log_quote(err));
    }
}

static void free_settings(struct settings *s)
{
    for (size_t i = 0; i < s->listener_count; i++) {
        free(s->listeners[i].host);
        free(s->listeners[i].path);
    }
    free(s->ring_path);
    free(s->ring_directory);
    free(s->stats_directory);
}

int main(int argc, char **argv)
{
    struct settings s = {0};
    struct fce_config *config = NULL;
    struct ingest_listeners ls = {0};
    struct ingest ingest = {0};
    int opt, rc = 2;

    fce_log_init("ingest", FCE_LOG_INFO);
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (parse_option(opt, optarg, &s) < 0)
            goto cleanup;
    }
    if (optind < argc) {
        fprintf(stderr, "fce-ingest: unexpected argument '%s'\n", argv[optind]);
        goto cleanup;
    }
    if (s.config_path && load_config(s.config_path, &config) < 0)
        goto cleanup;
    if (apply_config(&s, config) < 0 || check_body_limit(&s, config) < 0)
        goto cleanup;

    rc = 1;
    ingest.limits = s.limits;
    ingest.max_body_setting = s.limits.max_body_bytes;
    ingest.max_body_explicit = s.set.max_body_bytes || config;
    ingest.ring_path = s.ring_path;
    ingest.ring_directory = s.ring_directory;
    ingest.stats_directory = s.stats_directory;
    running = &ingest;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    raise_fd_limit(s.limits.max_connections);
    if (open_listeners(&s, &ls) < 0)
        goto cleanup;
    open_stats(&ingest);
    ingest_try_attach(&ingest, ingest_now_ms());
    fce_info("ingest", "started",
             "max_connections=%llu max_header_bytes=%llu "
             "max_body_bytes=%llu idle_timeout_ms=%llu "
             "request_timeout_ms=%llu",
             (unsigned long long)ingest.limits.max_connections,
             (unsigned long long)ingest.limits.max_header_bytes,
             (unsigned long long)ingest.limits.max_body_bytes,
             (unsigned long long)ingest.limits.idle_timeout_ms,
             (unsigned long long)ingest.limits.request_timeout_ms);

    rc = run_loop(&ingest, s.io, &ls) < 0 ? 1 : 0;
    fce_info("ingest", "stopped",
             "events_workflow=%llu events_node=%llu "
             "events_task=%llu",
             (unsigned long long)ingest.metrics.events[FCE_KIND_WORKFLOW],
             (unsigned long long)ingest.metrics.events[FCE_KIND_NODE],
             (unsigned long long)ingest.metrics.events[FCE_KIND_TASK]);
    metrics_publish(&ingest);

cleanup:
    for (size_t i = 0; i < ls.count; i++)
        close(ls.fds[i]);
    for (size_t i = 0; i < s.listener_count; i++)
        if (s.listeners[i].type == FCE_LISTEN_UNIX && i < ls.count)
            unlink(s.listeners[i].path);
    free(ls.fds);
    if (ingest.ring)
        fce_ring_detach(ingest.ring);
    if (ingest.stats)
        fce_stats_close(ingest.stats);
    if (config)
        fce_config_free(config);
    free_settings(&s);
    return rc;
}
