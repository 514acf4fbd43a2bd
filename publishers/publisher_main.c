/*
 * fce-publisher: delivers the CloudEvents of one publisher's ring to its
 * backend (kafka, sns, sqs, pubsub, file). See driver.h for the loop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver.h"
#include "fce_log.h"
#include "fce_ring.h"

#define COMPONENT "publisher"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t hangup_requested;

struct arguments {
    const char *config_path;
    const char *publisher;
    const char *backend;
    size_t max_in_flight;
    uint64_t drain_timeout_ms;
};

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: fce-publisher --config FILE [--publisher NAME] [options]\n"
            "\n"
            "Delivers the CloudEvents in a publisher's ring to its backend.\n"
            "\n"
            "  --config FILE        configuration file (YAML)\n"
            "  --publisher NAME     the publisher to run, by name; optional\n"
            "                       when the file has exactly one publisher\n"
            "  --backend NAME       a publisher name, or a backend type\n"
            "                       (kafka, sns, sqs, pubsub, file) when\n"
            "                       exactly one publisher has that type\n"
            "  --max-in-flight N    records held between reading and\n"
            "                       release (default %d)\n"
            "  --drain-timeout MS   on SIGTERM, milliseconds to wait for\n"
            "                       records in flight (default: the\n"
            "                       supervisor's drainTimeout, else %d)\n"
            "  --help               print this help\n"
            "\n"
            "Signals: SIGTERM or SIGINT drain and exit 0; SIGHUP reopens\n"
            "files. Exit status: 0 stopped, 1 runtime error, 2 bad usage\n"
            "or configuration.\n",
            FCE_DRIVER_MAX_IN_FLIGHT, FCE_DRIVER_DRAIN_TIMEOUT);
}

static int parse_count(const char *option, const char *text, uint64_t min,
                       uint64_t *value)
{
    char *end;

    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || parsed < min) {
        fprintf(stderr,
                "fce-publisher: invalid %s '%s'; use a whole number of at "
                "least %llu\n",
                option, text, (unsigned long long)min);
        return -EINVAL;
    }
    *value = parsed;
    return 0;
}

static int parse_arguments(int argc, char **argv, struct arguments *args)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"publisher", required_argument, NULL, 'p'},
        {"backend", required_argument, NULL, 'b'},
        {"max-in-flight", required_argument, NULL, 'm'},
        {"drain-timeout", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t value;
    int c;

    while ((c = getopt_long(argc, argv, "c:p:b:h", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            args->config_path = optarg;
            break;
        case 'p':
            args->publisher = optarg;
            break;
        case 'b':
            args->backend = optarg;
            break;
        case 'm':
            if (parse_count("--max-in-flight", optarg, 1, &value))
                return 2;
            args->max_in_flight = (size_t)value;
            break;
        case 'd':
            if (parse_count("--drain-timeout", optarg, 0, &value))
                return 2;
            args->drain_timeout_ms = value;
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "fce-publisher: run 'fce-publisher --help' for "
                            "the options\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "fce-publisher: unexpected argument '%s'\n",
                argv[optind]);
        return 2;
    }
    if (!args->config_path) {
        fprintf(stderr, "fce-publisher: --config FILE is missing\n");
        return 2;
    }
    return -1;
}

static void print_publishers(const struct fce_config *config)
{
    fprintf(stderr, "fce-publisher: the configured publishers are:");
    for (size_t i = 0; i < config->publisher_count; i++)
        fprintf(stderr, " %s (%s)", config->publishers[i].name,
                config->publishers[i].type);
    fprintf(stderr, "%s\n", config->publisher_count ? "" : " none");
}

/* A publisher name, or a backend type that exactly one publisher has. */
static const struct fce_publisher_config *
find_by_backend(const struct fce_config *config, const char *name)
{
    const struct fce_publisher_config *found =
        fce_config_publisher(config, name);
    size_t matches = 0;

    if (found)
        return found;
    for (size_t i = 0; i < config->publisher_count; i++) {
        if (strcmp(config->publishers[i].type, name) == 0) {
            found = &config->publishers[i];
            matches++;
        }
    }
    if (matches == 1)
        return found;
    if (matches > 1)
        fprintf(stderr,
                "fce-publisher: %zu publishers have backend type '%s'; "
                "choose one with --publisher NAME\n",
                matches, name);
    else
        fprintf(stderr,
                "fce-publisher: no publisher is named '%s' or has that "
                "backend type\n",
                name);
    return NULL;
}

static const struct fce_publisher_config *
choose_publisher(const struct fce_config *config, const struct arguments *args)
{
    const struct fce_publisher_config *publisher = NULL;

    if (args->publisher) {
        publisher = fce_config_publisher(config, args->publisher);
        if (!publisher)
            fprintf(stderr, "fce-publisher: no publisher named '%s' in %s\n",
                    args->publisher, args->config_path);
    } else if (args->backend) {
        publisher = find_by_backend(config, args->backend);
    } else if (config->publisher_count == 1) {
        publisher = &config->publishers[0];
    } else {
        fprintf(stderr,
                "fce-publisher: %s has %zu publishers; choose one "
                "with --publisher NAME\n",
                args->config_path, config->publisher_count);
    }
    if (!publisher)
        print_publishers(config);
    return publisher;
}

static void print_diagnostics(const struct fce_diag *diag)
{
    for (size_t i = 0; i < diag->count; i++)
        fprintf(stderr, "%s\n", diag->messages[i]);
}

/* Creates the folders of path that are missing (like mkdir -p). */
static int make_parents(const char *path)
{
    char *copy = strdup(path);
    int rc = 0;

    if (!copy)
        return -ENOMEM;
    for (char *slash = strchr(copy + 1, '/'); slash && rc == 0;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(copy, 0750) != 0 && errno != EEXIST)
            rc = -errno;
        *slash = '/';
    }
    free(copy);
    return rc;
}

/* Creates the ring when it does not exist, so a publisher can start
 * before the encoder (or without the supervisor). */
static int ensure_ring(const struct fce_config *config,
                       const struct fce_publisher_config *publisher)
{
    char err[256] = "";
    struct stat st;
    uint64_t capacity = publisher->ring_capacity ? publisher->ring_capacity
                                                 : config->ring_capacity;
    int rc;

    if (stat(publisher->ring_path, &st) == 0)
        return 0;
    rc = make_parents(publisher->ring_path);
    if (rc == 0)
        rc = fce_ring_create(publisher->ring_path, capacity,
                             (uint32_t)config->max_record, err, sizeof(err));
    if (rc)
        fce_error(COMPONENT, "cannot create the ring",
                  "publisher=%s path=%s error=%s", publisher->name,
                  fce_log_quote(publisher->ring_path),
                  fce_log_quote(err[0] ? err : strerror(-rc)));
    return rc;
}

static char *stats_path(const struct fce_config *config, const char *name)
{
    const char *directory = config->stats_directory ? config->stats_directory
                                                    : config->ring_directory;
    char *path = NULL;

    if (!directory)
        return NULL;
    if (asprintf(&path, "%s/%s.stats", directory, name) < 0)
        return NULL;
    return path;
}

static void on_stop(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

static void on_hangup(int signal_number)
{
    (void)signal_number;
    hangup_requested = 1;
}

/* No SA_RESTART: a signal ends the ring's futex wait early. */
static void install_signals(void)
{
    struct sigaction action = {0};

    sigemptyset(&action.sa_mask);
    action.sa_handler = on_stop;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    action.sa_handler = on_hangup;
    sigaction(SIGHUP, &action, NULL);
    action.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &action, NULL);
}

static int run(const struct arguments *args, const struct fce_config *config)
{
    const struct fce_publisher_config *publisher =
        choose_publisher(config, args);
    struct fce_driver_options options = {0};
    char *stats = NULL;
    int rc;

    if (!publisher)
        return 2;
    options.backend = fce_backend_find(publisher->type);
    if (!options.backend) {
        fprintf(stderr,
                "fce-publisher: backend type '%s' of publisher '%s' is not "
                "part of this build\n",
                publisher->type, publisher->name);
        return 2;
    }

    fce_log_init(publisher->name, FCE_LOG_INFO);
    if (ensure_ring(config, publisher))
        return 1;
    stats = stats_path(config, publisher->name);
    options.publisher = publisher;
    options.ring_path = publisher->ring_path;
    options.stats_path = stats;
    options.dead_letter_path = publisher->dead_letter_path;
    options.max_in_flight = args->max_in_flight;
    options.drain_timeout_ms = args->drain_timeout_ms
                                   ? args->drain_timeout_ms
                                   : config->supervisor.drain_timeout_ms;
    options.stop = &stop_requested;
    options.hangup = &hangup_requested;

    install_signals();
    rc = fce_driver_run(&options);
    free(stats);
    if (rc == -EINVAL) {
        fce_error(COMPONENT,
                  "the backend settings are invalid; fix them and "
                  "restart",
                  "publisher=%s backend=%s origin=%s", publisher->name,
                  publisher->type,
                  fce_log_quote(publisher->origin ? publisher->origin : "-"));
        return 2;
    }
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct arguments args = {0};
    struct fce_config *config = NULL;
    struct fce_diag diag = {0};
    int rc = parse_arguments(argc, argv, &args);

    if (rc >= 0)
        return rc;

    fce_log_init("fce-publisher", FCE_LOG_INFO);
    rc = fce_config_load(args.config_path, &config, &diag);
    print_diagnostics(&diag);
    if (rc) {
        fprintf(stderr, "fce-publisher: cannot load %s: %s\n", args.config_path,
                rc == -EINVAL ? "invalid configuration" : strerror(-rc));
        rc = 2;
    } else {
        rc = run(&args, config);
    }
    fce_config_free(config);
    fce_diag_free(&diag);
    return rc;
}
