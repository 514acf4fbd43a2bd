/*
 * fce stat [--once] [--tsv] [--interval SECONDS] [--config FILE | DIR]:
 * the live counters of every process (the *.stats files) and the fill of
 * every ring (*.ring) in the ring directory, with rates per second between
 * two samples. Refreshes on a terminal; prints once with --once or when
 * stdout is not a terminal.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fce_cli.h"
#include "fce_config.h"
#include "fce_ring.h"
#include "fce_stats.h"

#define ENTRIES_MAX 256

/* A process whose stats file was not touched for this long is stale. */
#define STALE_MS 5000

static const char usage_text[] =
    "usage: fce stat [--once] [--tsv] [--interval SECONDS] "
    "[--config FILE | DIR]\n"
    "\n"
    "Shows every ring (fill, records in and out, rates) and every process\n"
    "(pid, state, counters, rates) of the pipeline whose ring directory is\n"
    "DIR, or the rings.directory of FILE (default /dev/shm/fce).\n"
    "  --once          print one sample and exit (also when stdout is not a\n"
    "                  terminal)\n"
    "  --tsv           tab-separated lines for scripts: ring, process, "
    "counter\n"
    "  --interval S    seconds between samples; rates need two (default 1; "
    "0:\n"
    "                  no rates)\n";

struct stat_args {
    bool once;
    bool tsv;
    double interval;
    const char *config;
    const char *directory;
};

struct ring_sample {
    char path[512];
    bool ok;
    char error[256];
    struct fce_ring_info info;
};

struct process_sample {
    char path[512];
    bool ok;
    char error[256];
    struct fce_stats_snapshot snap;
};

struct sample {
    size_t ring_count, process_count;
    struct ring_sample rings[ENTRIES_MAX];
    struct process_sample processes[ENTRIES_MAX];
    double when; /* monotonic seconds */
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    return n > s && strcmp(name + n - s, suffix) == 0;
}

/* Collects the sorted names of directory ending in .ring or .stats. */
static int list_files(const char *directory, char **names, size_t *count)
{
    DIR *dir = opendir(directory);
    if (!dir)
        return -errno;

    struct dirent *entry;
    *count = 0;
    while ((entry = readdir(dir)) && *count < 2 * ENTRIES_MAX) {
        if (!ends_with(entry->d_name, ".ring") &&
            !ends_with(entry->d_name, ".stats"))
            continue;
        names[*count] = strdup(entry->d_name);
        if (names[*count])
            (*count)++;
    }
    closedir(dir);
    qsort(names, *count, sizeof(char *), by_name);
    return 0;
}

static int take_sample(const char *directory, struct sample *s)
{
    char *names[2 * ENTRIES_MAX];
    size_t count = 0;
    int rc = list_files(directory, names, &count);
    if (rc != 0)
        return rc;

    s->ring_count = s->process_count = 0;
    for (size_t i = 0; i < count; i++) {
        if (ends_with(names[i], ".ring") && s->ring_count < ENTRIES_MAX) {
            struct ring_sample *r = &s->rings[s->ring_count++];
            snprintf(r->path, sizeof(r->path), "%s/%s", directory, names[i]);
            r->ok = fce_ring_inspect(r->path, &r->info, r->error,
                                     sizeof(r->error)) == 0;
        } else if (s->process_count < ENTRIES_MAX) {
            struct process_sample *p = &s->processes[s->process_count++];
            snprintf(p->path, sizeof(p->path), "%s/%s", directory, names[i]);
            p->ok = fce_stats_read(p->path, &p->snap, p->error,
                                   sizeof(p->error)) == 0;
        }
        free(names[i]);
    }
    s->when = now_seconds();
    return 0;
}

static const struct ring_sample *find_ring(const struct sample *s,
                                           const char *path)
{
    for (size_t i = 0; s && i < s->ring_count; i++)
        if (s->rings[i].ok && strcmp(s->rings[i].path, path) == 0)
            return &s->rings[i];
    return NULL;
}

static uint64_t previous_counter(const struct sample *s, const char *path,
                                 const char *name, bool *found)
{
    *found = false;
    for (size_t i = 0; s && i < s->process_count; i++) {
        const struct process_sample *p = &s->processes[i];
        if (!p->ok || strcmp(p->path, path) != 0)
            continue;
        for (size_t k = 0; k < p->snap.count; k++) {
            if (strcmp(p->snap.entries[k].name, name) == 0) {
                *found = true;
                return p->snap.entries[k].value;
            }
        }
    }
    return 0;
}

static double rate(uint64_t now, uint64_t before, double seconds)
{
    if (seconds <= 0 || now < before)
        return NAN;
    return (double)(now - before) / seconds;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static const char *process_state(const struct fce_stats_snapshot *snap)
{
    if (snap->pid <= 0 || (kill(snap->pid, 0) != 0 && errno == ESRCH))
        return "stopped";
    if (now_unix_ms() - snap->updated_unix_ms > STALE_MS)
        return "stale";
    return "running";
}

static void print_rings_text(const struct sample *s, const struct sample *prev,
                             double seconds)
{
    printf("%-28s %8s %14s %14s %10s %10s\n", "RING", "FILL", "RECORDS IN",
           "RECORDS OUT", "IN/S", "OUT/S");
    for (size_t i = 0; i < s->ring_count; i++) {
        const struct ring_sample *r = &s->rings[i];
        if (!r->ok) {
            printf("%-28s %s\n", base_name(r->path), r->error);
            continue;
        }
        const struct ring_sample *old = find_ring(prev, r->path);
        double fill = r->info.capacity ? 100.0 * (double)r->info.used /
                                             (double)r->info.capacity
                                       : 0;
        printf("%-28s %7.2f%% %14llu %14llu", base_name(r->path), fill,
               (unsigned long long)r->info.records_in,
               (unsigned long long)r->info.records_out);
        if (old)
            printf(" %10.0f %10.0f\n",
                   rate(r->info.records_in, old->info.records_in, seconds),
                   rate(r->info.records_out, old->info.records_out, seconds));
        else
            printf(" %10s %10s\n", "-", "-");
    }
}

static void print_processes_text(const struct sample *s,
                                 const struct sample *prev, double seconds)
{
    for (size_t i = 0; i < s->process_count; i++) {
        const struct process_sample *p = &s->processes[i];
        if (!p->ok) {
            printf("\n%s: %s\n", base_name(p->path), p->error);
            continue;
        }
        uint64_t up = now_unix_ms() - p->snap.started_unix_ms;
        printf("\n%s  pid %d  %s  up %llus\n", p->snap.process,
               (int)p->snap.pid, process_state(&p->snap),
               (unsigned long long)(up / 1000));
        for (size_t k = 0; k < p->snap.count; k++) {
            const struct fce_stats_entry *e = &p->snap.entries[k];
            bool found;
            uint64_t before = previous_counter(prev, p->path, e->name, &found);
            printf("  %-36s %16llu", e->name, (unsigned long long)e->value);
            if (found && e->value >= before)
                printf("  %10.1f/s", rate(e->value, before, seconds));
            printf("\n");
        }
    }
}

static void print_tsv(const struct sample *s, const struct sample *prev,
                      double seconds)
{
    for (size_t i = 0; i < s->ring_count; i++) {
        const struct ring_sample *r = &s->rings[i];
        if (!r->ok) {
            printf("ring\t%s\terror\t%s\n", r->path, r->error);
            continue;
        }
        const struct ring_sample *old = find_ring(prev, r->path);
        printf("ring\t%s\tok\t%llu\t%llu\t%llu\t%llu\t%d\t%d\t%.1f\n", r->path,
               (unsigned long long)r->info.used,
               (unsigned long long)r->info.capacity,
               (unsigned long long)r->info.records_in,
               (unsigned long long)r->info.records_out,
               (int)r->info.producer_pid, (int)r->info.consumer_pid,
               old ? rate(r->info.records_out, old->info.records_out, seconds)
                   : 0.0);
    }
    for (size_t i = 0; i < s->process_count; i++) {
        const struct process_sample *p = &s->processes[i];
        if (!p->ok) {
            printf("process\t%s\terror\t%s\n", p->path, p->error);
            continue;
        }
        printf("process\t%s\t%s\t%d\t%s\n", p->path, p->snap.process,
               (int)p->snap.pid, process_state(&p->snap));
        for (size_t k = 0; k < p->snap.count; k++)
            printf("counter\t%s\t%s\t%llu\n", p->snap.process,
                   p->snap.entries[k].name,
                   (unsigned long long)p->snap.entries[k].value);
    }
}

static void print_sample(const struct stat_args *args, const char *directory,
                         const struct sample *s, const struct sample *prev)
{
    double seconds = prev ? s->when - prev->when : 0;
    if (args->tsv) {
        print_tsv(s, prev, seconds);
        return;
    }
    printf("pipeline %s: %zu ring(s), %zu process(es)\n\n", directory,
           s->ring_count, s->process_count);
    print_rings_text(s, prev, seconds);
    print_processes_text(s, prev, seconds);
}

static int parse(int argc, char **argv, struct stat_args *args)
{
    args->interval = 1;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--once") == 0) {
            args->once = true;
        } else if (strcmp(argv[i], "--tsv") == 0) {
            args->tsv = true;
        } else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
            args->interval = strtod(argv[++i], &end);
            if (*end || args->interval < 0 || args->interval > 3600) {
                fprintf(stderr,
                        "fce stat: invalid --interval '%s'; give seconds "
                        "0..3600, such as 1 or 0.5\n",
                        argv[i]);
                return -1;
            }
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            args->config = argv[++i];
        } else if (argv[i][0] != '-' && !args->directory) {
            args->directory = argv[i];
        } else {
            fprintf(stderr, "fce stat: unexpected argument '%s'\n%s", argv[i],
                    usage_text);
            return -1;
        }
    }
    return 0;
}

/* Sleeps for seconds, returning early when a signal asks to stop. */
static void pause_for(double seconds)
{
    struct timespec ts = {(time_t)seconds,
                          (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (!stopping && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int run(const struct stat_args *args, const char *directory)
{
    struct sample *cur = calloc(1, sizeof(*cur));
    struct sample *prev = calloc(1, sizeof(*prev));
    int status = 1;
    if (!cur || !prev)
        goto cleanup;

    int rc = take_sample(directory, cur);
    if (rc != 0) {
        fprintf(stderr, "fce stat: cannot read %s: %s\n", directory,
                strerror(-rc));
        goto cleanup;
    }
    bool live = !args->once && isatty(STDOUT_FILENO);
    bool have_prev = false;
    for (;;) {
        if (live)
            printf("\033[H\033[2J");
        else if (args->interval > 0 && !have_prev)
            goto next; /* --once: a second sample first, for the rates */
        print_sample(args, directory, cur, have_prev ? prev : NULL);
        fflush(stdout);
        if (!live || stopping)
            break;
    next:
        pause_for(args->interval > 0 ? args->interval : 1);
        struct sample *swap = prev;
        prev = cur;
        cur = swap;
        have_prev = true;
        if (stopping || take_sample(directory, cur) != 0)
            break;
    }
    status = 0;

cleanup:
    free(cur);
    free(prev);
    return status;
}

int fce_cmd_stat(int argc, char **argv)
{
    struct stat_args args = {0};
    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (parse(argc, argv, &args) != 0)
        return 2;

    struct fce_config *config = NULL;
    char directory[512] = "/dev/shm/fce";
    if (args.config) {
        struct fce_diag diag = {0};
        int rc = fce_config_load(args.config, &config, &diag);
        for (size_t i = 0; i < diag.count; i++)
            fprintf(stderr, "%s\n", diag.messages[i]);
        fce_diag_free(&diag);
        if (rc != 0)
            return 2;
        snprintf(directory, sizeof(directory), "%s", config->stats_directory);
        fce_config_free(config);
    } else if (args.directory) {
        snprintf(directory, sizeof(directory), "%s", args.directory);
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    return run(&args, directory);
}
