/* fce-encoder: loads the configuration, attaches the rings and runs the
 * encoder loop until SIGTERM or SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "encoder.h"
#include "fce_log.h"

#define COMPONENT "encoder"

static volatile sig_atomic_t stop_requested;

static void on_stop(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

static void print_help(FILE *out)
{
    fprintf(out, "usage: fce-encoder --config FILE\n"
                 "\n"
                 "Reads validated Flyte event requests from the ingest ring,\n"
                 "renders each as a CloudEvent and writes it into the ring of\n"
                 "every publisher whose eventTypes include its kind. A full\n"
                 "publisher ring makes it wait; it never drops an event.\n"
                 "\n"
                 "  --config FILE  the YAML configuration (rings, publishers,\n"
                 "                 cloudevent profile)\n"
                 "  --help         print this help\n"
                 "\n"
                 "SIGTERM or SIGINT: finish the current event, then exit 0.\n"
                 "Counters: <rings.directory>/encoder.stats (fce stat).\n");
}

/* Creates the folders of path that are missing, like mkdir -p. */
static int make_parents(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    int rc = 0;
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

/* Attaches the ring at path, creating it first when it does not exist, so
 * the encoder can start before the processes on either side of it. */
static int open_ring(const struct fce_config *config, const char *path,
                     uint64_t capacity, const char *role,
                     struct fce_ring **ring)
{
    char err[256] = "";
    struct stat st;
    int rc = 0;
    if (stat(path, &st) != 0) {
        rc = make_parents(path);
        if (rc == 0)
            rc = fce_ring_create(
                path, capacity ? capacity : config->ring_capacity,
                (uint32_t)config->max_record, err, sizeof(err));
    }
    if (rc == 0)
        rc = fce_ring_attach(path, ring, err, sizeof(err));
    if (rc < 0)
        fce_error(COMPONENT, "cannot open a ring", "role=%s path=%s error=%s",
                  role, fce_log_quote(path),
                  fce_log_quote(err[0] ? err : strerror(-rc)));
    return rc;
}

static int open_stats(struct encoder *encoder)
{
    const struct fce_config *config = encoder->config;
    const char *directory = config->stats_directory ? config->stats_directory
                                                    : config->ring_directory;
    char path[4096], err[256] = "";
    snprintf(path, sizeof(path), "%s/encoder.stats", directory);
    int rc = make_parents(path);
    if (rc == 0)
        rc = fce_stats_open(path, "encoder", &encoder->stats, err, sizeof(err));
    if (rc < 0) {
        fce_error(COMPONENT, "cannot open the stats file", "path=%s error=%s",
                  fce_log_quote(path),
                  fce_log_quote(err[0] ? err : strerror(-rc)));
        return rc;
    }

    struct fce_stats *stats = encoder->stats;
    encoder->records_in = fce_stats_counter(stats, "encoder_records_in_total");
    encoder->rendered = fce_stats_counter(stats, "encoder_rendered_total");
    encoder->filtered_out =
        fce_stats_counter(stats, "encoder_filtered_out_total");
    encoder->waits = fce_stats_counter(stats, "encoder_waits_total");
    encoder->malformed = fce_stats_counter(stats, "encoder_malformed_total");
    encoder->oversize = fce_stats_counter(stats, "encoder_oversize_total");
    for (size_t i = 0; i < encoder->output_count; i++) {
        struct encoder_output *output = &encoder->outputs[i];
        char name[FCE_STATS_NAME_MAX + 1];
        snprintf(name, sizeof(name), "encoder_rendered_%s",
                 output->publisher->name);
        for (char *c = name; *c; c++)
            if (*c == '-')
                *c = '_';
        output->rendered = fce_stats_counter(stats, name);
        snprintf(name, sizeof(name), "encoder_waits_%s",
                 output->publisher->name);
        for (char *c = name; *c; c++)
            if (*c == '-')
                *c = '_';
        output->waits = fce_stats_counter(stats, name);
    }
    return 0;
}

static int open_rings(struct encoder *encoder)
{
    const struct fce_config *config = encoder->config;
    int rc =
        open_ring(config, config->ingest.ring_path,
                  config->ingest.ring_capacity, "ingest", &encoder->ingest);
    for (size_t i = 0; rc == 0 && i < encoder->output_count; i++) {
        const struct fce_publisher_config *publisher = &config->publishers[i];
        encoder->outputs[i].publisher = publisher;
        rc = open_ring(config, publisher->ring_path, publisher->ring_capacity,
                       publisher->name, &encoder->outputs[i].ring);
    }
    return rc;
}

static void install_signals(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_stop;
    sigemptyset(&action.sa_mask);
    /* Without SA_RESTART a futex wait returns EINTR, so the loop
     * checks the stop flag. */
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int parse_args(int argc, char **argv, const char **config_path)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(stdout);
            exit(0);
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            *config_path = argv[++i];
            continue;
        }
        if (strncmp(argv[i], "--config=", 9) == 0) {
            *config_path = argv[i] + 9;
            continue;
        }
        fprintf(stderr,
                "fce-encoder: unknown or incomplete argument '%s'; run "
                "'fce-encoder --help'\n",
                argv[i]);
        return -EINVAL;
    }
    if (!*config_path) {
        fprintf(stderr, "fce-encoder: missing --config FILE; run "
                        "'fce-encoder --help'\n");
        return -EINVAL;
    }
    return 0;
}

static void log_stop(const struct encoder *encoder, int rc)
{
    fce_log(
        rc < 0 ? FCE_LOG_ERROR : FCE_LOG_INFO, COMPONENT,
        rc < 0 ? "encoder stopped on an error" : "encoder stopped",
        "records_in=%llu rendered=%llu filtered_out=%llu waits=%llu "
        "malformed=%llu",
        (unsigned long long)(encoder->records_in ? *encoder->records_in : 0),
        (unsigned long long)(encoder->rendered ? *encoder->rendered : 0),
        (unsigned long long)(encoder->filtered_out ? *encoder->filtered_out
                                                   : 0),
        (unsigned long long)(encoder->waits ? *encoder->waits : 0),
        (unsigned long long)(encoder->malformed ? *encoder->malformed : 0));
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    if (parse_args(argc, argv, &config_path) < 0)
        return 2;
    fce_log_init("fce-encoder", FCE_LOG_INFO);

    struct fce_config *config = NULL;
    struct fce_diag diag = {0};
    struct encoder encoder = {.stop = &stop_requested};
    int rc = fce_config_load(config_path, &config, &diag);
    for (size_t i = 0; i < diag.count; i++)
        fprintf(stderr, "%s\n", diag.messages[i]);
    if (rc < 0) {
        fce_error(COMPONENT, "cannot load the configuration", "path=%s",
                  fce_log_quote(config_path));
        goto cleanup;
    }

    encoder.config = config;
    encoder.output_count = config->publisher_count;
    encoder.outputs =
        calloc(config->publisher_count + 1, sizeof(*encoder.outputs));
    rc = encoder.outputs ? 0 : -ENOMEM;
    if (rc == 0)
        rc = open_rings(&encoder);
    if (rc == 0)
        rc = open_stats(&encoder);
    if (rc < 0)
        goto cleanup;

    install_signals();
    fce_info(COMPONENT, "encoder started", "config=%s ingest=%s publishers=%zu",
             fce_log_quote(config_path),
             fce_log_quote(config->ingest.ring_path), encoder.output_count);
    rc = encoder_run(&encoder);
    log_stop(&encoder, rc);

cleanup:
    for (size_t i = 0; encoder.outputs && i < encoder.output_count; i++)
        if (encoder.outputs[i].ring)
            fce_ring_detach(encoder.outputs[i].ring);
    free(encoder.outputs);
    if (encoder.ingest)
        fce_ring_detach(encoder.ingest);
    if (encoder.stats)
        fce_stats_close(encoder.stats);
    fce_config_free(config);
    fce_diag_free(&diag);
    return rc < 0 ? 1 : 0;
}
