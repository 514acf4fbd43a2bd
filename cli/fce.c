/* fce: the command-line tool of flyte-cloudevents. */
#include <stdio.h>
#include <string.h>

#include "fce_cli.h"

/* A subcommand whose file is not part of this build stays a NULL weak
 * reference and is reported as unavailable. */
#pragma weak fce_cmd_ring
#pragma weak fce_cmd_encode
#pragma weak fce_cmd_decode
#pragma weak fce_cmd_config
#pragma weak fce_cmd_plan
#pragma weak fce_cmd_send
#pragma weak fce_cmd_replay
#pragma weak fce_cmd_gen
#pragma weak fce_cmd_stat

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"ring", fce_cmd_ring, "create or inspect a shared-memory ring"},
    {"encode", fce_cmd_encode, "print the CloudEvent of Flyte event requests"},
    {"decode", fce_cmd_decode, "print CloudEvents as attributes and text"},
    {"config", fce_cmd_config, "check a configuration file"},
    {"plan", fce_cmd_plan, "print the rings and processes a config needs"},
    {"send", fce_cmd_send, "send event request files to ingest"},
    {"replay", fce_cmd_replay, "replay a folder, stream or generated run"},
    {"gen", fce_cmd_gen, "generate realistic Flyte event streams"},
    {"stat", fce_cmd_stat, "show live counters of processes and rings"},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
    fprintf(out, "usage: fce COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (commands[i].run)
            fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'fce COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }

    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (!commands[i].run) {
            fprintf(stderr, "fce: command '%s' is not part of this build\n",
                    argv[1]);
            return 2;
        }
        return commands[i].run(argc - 1, argv + 1);
    }

    fprintf(stderr,
            "fce: unknown command '%s'; run 'fce --help' for the list\n",
            argv[1]);
    return 2;
}
