/*
 * fce plan [--shell] [--bin DIR] FILE: the rings and processes that a
 * configuration needs, in start order (publishers, then the encoder, then
 * ingest, so nothing is accepted before it can flow on). scripts/supervise
 * reads the --shell form.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fce_cli.h"
#include "fce_config.h"

static const char usage_text[] =
    "usage: fce plan [--shell] [--bin DIR] FILE\n"
    "\n"
    "Prints the rings and the processes FILE needs, in start order.\n"
    "  --shell    one tab-separated record per line, for scripts:\n"
    "               directory <TAB> RING_DIRECTORY\n"
    "               supervisor <TAB> DRAIN_MS <TAB> RESTART_MS <TAB> "
    "RESTART_MAX_MS <TAB> CRASH_LOOP_RESTARTS <TAB> CRASH_LOOP_WINDOW_MS\n"
    "               ring <TAB> PATH <TAB> CAPACITY <TAB> MAX_RECORD\n"
    "               process <TAB> NAME <TAB> INPUT_RING <TAB> STATS <TAB> "
    "PROGRAM <TAB> ARGS...\n"
    "             (sizes in bytes; INPUT_RING is - for ingest)\n"
    "  --bin DIR  write programs as DIR/PROGRAM\n";

struct plan_args {
    bool shell;
    const char *bin;
    const char *path;
};

static int parse(int argc, char **argv, struct plan_args *args)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--shell") == 0) {
            args->shell = true;
        } else if (strcmp(argv[i], "--bin") == 0 && i + 1 < argc) {
            args->bin = argv[++i];
        } else if (argv[i][0] == '-' || args->path) {
            fprintf(stderr, "fce plan: unexpected argument '%s'\n%s", argv[i],
                    usage_text);
            return -1;
        } else {
            args->path = argv[i];
        }
    }
    if (!args->path) {
        fprintf(stderr, "fce plan: FILE is missing\n%s", usage_text);
        return -1;
    }
    return 0;
}

struct process {
    char name[64];
    const char *input_ring; /* NULL for ingest */
    const char *stats;
    const char *program;
    const char *publisher; /* --publisher NAME, or NULL */
};

static void print_ring(const struct plan_args *args, const char *path,
                       uint64_t capacity, uint64_t max_record)
{
    if (args->shell)
        printf("ring\t%s\t%llu\t%llu\n", path, (unsigned long long)capacity,
               (unsigned long long)max_record);
    else
        printf("  %s  capacity %llu bytes, max record %llu bytes\n", path,
               (unsigned long long)capacity, (unsigned long long)max_record);
}

static void print_process(const struct plan_args *args, const struct process *p,
                          const char *config)
{
    char program[PATH_MAX];
    if (args->bin)
        snprintf(program, sizeof(program), "%s/%s", args->bin, p->program);
    else
        snprintf(program, sizeof(program), "%s", p->program);

    if (args->shell) {
        printf("process\t%s\t%s\t%s\t%s\t--config\t%s", p->name,
               p->input_ring ? p->input_ring : "-", p->stats, program, config);
        if (p->publisher)
            printf("\t--publisher\t%s", p->publisher);
        printf("\n");
        return;
    }
    printf("  %-24s %s --config %s", p->name, program, config);
    if (p->publisher)
        printf(" --publisher %s", p->publisher);
    printf("\n");
}

static void print_plan(const struct plan_args *args,
                       const struct fce_config *config, const char *path)
{
    const struct fce_supervisor_config *s = &config->supervisor;
    if (args->shell) {
        printf("directory\t%s\n", config->ring_directory);
        printf("supervisor\t%llu\t%llu\t%llu\t%lld\t%llu\n",
               (unsigned long long)s->drain_timeout_ms,
               (unsigned long long)s->restart_initial_ms,
               (unsigned long long)s->restart_max_ms,
               (long long)s->crash_loop_restarts,
               (unsigned long long)s->crash_loop_window_ms);
    } else {
        printf("rings (created when missing, kept when present):\n");
    }
    print_ring(args, config->ingest.ring_path, config->ingest.ring_capacity,
               config->max_record);
    for (size_t i = 0; i < config->publisher_count; i++)
        print_ring(args, config->publishers[i].ring_path,
                   config->publishers[i].ring_capacity, config->max_record);

    if (!args->shell)
        printf("processes (start order; stopped in reverse):\n");
    for (size_t i = 0; i < config->publisher_count; i++) {
        const struct fce_publisher_config *pub = &config->publishers[i];
        struct process p = {.input_ring = pub->ring_path,
                            .stats = pub->stats_path,
                            .program = "fce-publisher",
                            .publisher = pub->name};
        snprintf(p.name, sizeof(p.name), "publisher-%s", pub->name);
        print_process(args, &p, path);
    }
    struct process encoder = {.name = "encoder",
                              .input_ring = config->ingest.ring_path,
                              .stats = config->encoder_stats_path,
                              .program = "fce-encoder"};
    print_process(args, &encoder, path);
    struct process ingest = {.name = "ingest",
                             .stats = config->ingest.stats_path,
                             .program = "fce-ingest"};
    print_process(args, &ingest, path);
}

int fce_cmd_plan(int argc, char **argv)
{
    struct plan_args args = {0};
    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (parse(argc, argv, &args) != 0)
        return 2;

    struct fce_config *config = NULL;
    struct fce_diag diag = {0};
    int rc = fce_config_load(args.path, &config, &diag);
    for (size_t i = 0; i < diag.count; i++)
        fprintf(stderr, "%s\n", diag.messages[i]);
    fce_diag_free(&diag);
    if (rc != 0) {
        fprintf(stderr, "fce plan: %s is not valid; nothing to plan\n",
                args.path);
        return 2;
    }

    /* Processes get the absolute path, so they agree from any folder. */
    char absolute[PATH_MAX];
    const char *path = realpath(args.path, absolute) ? absolute : args.path;
    print_plan(&args, config, path);
    fce_config_free(config);
    return fflush(stdout) == 0 ? 0 : 1;
}
