/* fce ring: create a ring file, or print its header, fill and counters. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fce_cli.h"
#include "fce_ring.h"

/* The configuration's default rings.maxRecord, so that a ring created by
 * hand matches what the pipeline's processes expect. */
#define DEFAULT_MAX_RECORD (8u << 20)

typedef unsigned long long ull;

static const char ring_usage[] =
    "usage: fce ring create PATH --capacity SIZE [--max-record SIZE]\n"
    "       fce ring inspect PATH\n"
    "\n"
    "  create   creates the ring file PATH (in /dev/shm or on disk); an\n"
    "           existing ring with the same sizes is kept with its records\n"
    "  inspect  prints the header, the fill level and the counters\n"
    "\n"
    "'fce ring create --help' and 'fce ring inspect --help' describe each.\n";

static const char create_usage[] =
    "usage: fce ring create PATH --capacity SIZE [--max-record SIZE]\n"
    "\n"
    "Creates the ring file PATH; its folder must exist. An existing ring\n"
    "with the same sizes is kept as it is, with its records.\n"
    "\n"
    "  --capacity SIZE    bytes of records the ring holds, a multiple of 8\n"
    "                     (e.g. 64MiB); the file is this plus a 4 KiB header\n"
    "  --max-record SIZE  largest record payload in bytes (default 8MiB,\n"
    "                     as rings.maxRecord in the configuration)\n"
    "\n"
    "SIZE is a number of bytes with an optional unit: K, M, G, KiB, MiB,\n"
    "GiB (powers of 1024) or KB, MB, GB (powers of 1000).\n";

static const char inspect_usage[] =
    "usage: fce ring inspect PATH\n"
    "\n"
    "Prints the header of the ring file PATH (version, capacity, max\n"
    "record), its fill level (bytes and percent of capacity), the\n"
    "positions, the counters, and which processes are attached. It only\n"
    "reads the file, so it is safe on a ring in use.\n";

static int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; on a match, moves
 * *i past the value and stores it in *value (NULL when it is missing). */
static int match_option(char **argv, int argc, int *i, const char *name,
                        const char **value)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];

    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    *value = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

static int parse_size_option(const char *name, const char *text,
                             uint64_t *bytes)
{
    if (!text) {
        fprintf(stderr, "fce ring create: %s needs a value such as 64MiB\n",
                name);
        return -EINVAL;
    }
    if (fce_size_parse(text, bytes) != 0) {
        fprintf(stderr,
                "fce ring create: invalid %s '%s': use a number of bytes "
                "with an optional unit, such as 4096, 64KiB or 1GiB\n",
                name, text);
        return -EINVAL;
    }
    return 0;
}

struct create_args {
    const char *path;
    uint64_t capacity;
    uint64_t max_record;
    int have_capacity;
};

static int parse_create(int argc, char **argv, struct create_args *args)
{
    const char *value;

    args->max_record = DEFAULT_MAX_RECORD;
    for (int i = 1; i < argc; i++) {
        if (match_option(argv, argc, &i, "--capacity", &value)) {
            if (parse_size_option("--capacity", value, &args->capacity))
                return -EINVAL;
            args->have_capacity = 1;
        } else if (match_option(argv, argc, &i, "--max-record", &value)) {
            if (parse_size_option("--max-record", value, &args->max_record))
                return -EINVAL;
        } else if (argv[i][0] == '-' || args->path) {
            fprintf(stderr, "fce ring create: unexpected argument '%s'\n%s",
                    argv[i], create_usage);
            return -EINVAL;
        } else {
            args->path = argv[i];
        }
    }
    if (!args->path || !args->have_capacity) {
        fprintf(stderr, "fce ring create: %s is missing\n%s",
                args->path ? "--capacity" : "PATH", create_usage);
        return -EINVAL;
    }
    if (args->max_record > UINT32_MAX) {
        fprintf(stderr,
                "fce ring create: --max-record %llu bytes is above the "
                "limit of %u\n",
                (ull)args->max_record, FCE_RING_MAX_RECORD_LIMIT);
        return -EINVAL;
    }
    return 0;
}

static int ring_create(int argc, char **argv)
{
    struct create_args args = {0};
    char err[512];
    int existed, rc;

    if (argc > 1 && is_help(argv[1])) {
        fputs(create_usage, stdout);
        return 0;
    }
    if (parse_create(argc, argv, &args) != 0)
        return 2;

    existed = access(args.path, F_OK) == 0;
    rc = fce_ring_create(args.path, args.capacity, (uint32_t)args.max_record,
                         err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "fce ring create: %s\n", err);
        return rc == -EINVAL ? 2 : 1;
    }
    printf("%s ring %s: capacity %llu bytes, max record %llu bytes\n",
           existed ? "kept existing" : "created", args.path, (ull)args.capacity,
           (ull)args.max_record);
    return 0;
}

static void print_time(const char *label, uint64_t unix_ms)
{
    time_t seconds = (time_t)(unix_ms / 1000);
    struct tm tm;
    char text[32];

    gmtime_r(&seconds, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
    printf("%-16s %s.%03lluZ\n", label, text, (ull)(unix_ms % 1000));
}

static void print_side(const char *label, int32_t pid, int attached)
{
    if (attached)
        printf("%-16s attached, pid %d\n", label, (int)pid);
    else if (pid != 0)
        printf("%-16s not attached (last pid %d exited without detaching)\n",
               label, (int)pid);
    else
        printf("%-16s not attached\n", label);
}

static void print_info(const char *path, const struct fce_ring_info *info)
{
    double percent = 100.0 * (double)info->used / (double)info->capacity;

    printf("%-16s %s\n", "ring", path);
    printf("%-16s %u\n", "version", info->version);
    print_time("created", info->created_unix_ms);
    printf("%-16s %llu bytes\n", "capacity", (ull)info->capacity);
    printf("%-16s %u bytes\n", "max record", info->max_record);
    printf("%-16s %llu bytes (%.2f%%)\n", "fill", (ull)info->used, percent);
    printf("%-16s %llu\n", "head", (ull)info->head);
    printf("%-16s %llu\n", "tail", (ull)info->tail);
    printf("%-16s %llu\n", "next seq", (ull)info->next_seq);
    printf("%-16s %llu\n", "records in", (ull)info->records_in);
    printf("%-16s %llu\n", "bytes in", (ull)info->bytes_in);
    printf("%-16s %llu\n", "records out", (ull)info->records_out);
    printf("%-16s %llu\n", "bytes out", (ull)info->bytes_out);
    printf("%-16s %llu\n", "producer waits", (ull)info->producer_waits);
    printf("%-16s %llu\n", "consumer waits", (ull)info->consumer_waits);
    printf("%-16s %llu\n", "times full", (ull)info->times_full);
    print_side("producer", info->producer_pid, info->producer_attached);
    print_side("consumer", info->consumer_pid, info->consumer_attached);
}

static int ring_inspect(int argc, char **argv)
{
    struct fce_ring_info info;
    char err[512];

    if (argc > 1 && is_help(argv[1])) {
        fputs(inspect_usage, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "fce ring inspect: expected one PATH\n%s",
                inspect_usage);
        return 2;
    }
    if (fce_ring_inspect(argv[1], &info, err, sizeof(err)) != 0) {
        fprintf(stderr, "fce ring inspect: %s\n", err);
        return 1;
    }
    print_info(argv[1], &info);
    return 0;
}

int fce_cmd_ring(int argc, char **argv)
{
    if (argc < 2) {
        fputs(ring_usage, stderr);
        return 2;
    }
    if (is_help(argv[1])) {
        fputs(ring_usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "create") == 0)
        return ring_create(argc - 1, argv + 1);
    if (strcmp(argv[1], "inspect") == 0)
        return ring_inspect(argc - 1, argv + 1);
    fprintf(stderr, "fce ring: unknown subcommand '%s'\n%s", argv[1],
            ring_usage);
    return 2;
}
