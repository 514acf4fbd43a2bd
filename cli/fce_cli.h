/*
 * The `fce` command-line tool. Each subcommand lives in its own file and
 * implements one entry point; argv[0] is the subcommand name. Exit codes:
 * 0 success, 1 failure, 2 bad usage or rejected input.
 */
#ifndef FCE_CLI_H
#define FCE_CLI_H

int fce_cmd_ring(int argc, char **argv);   /* ring create|inspect */
int fce_cmd_encode(int argc, char **argv); /* requests -> CloudEvents */
int fce_cmd_decode(int argc, char **argv); /* CloudEvents -> text */
int fce_cmd_config(int argc, char **argv); /* config check|dump|docs */
int fce_cmd_plan(int argc, char **argv);   /* rings and processes */
int fce_cmd_send(int argc, char **argv);   /* files -> ingest */
int fce_cmd_replay(int argc, char **argv); /* folder/stream/gen -> ingest */
int fce_cmd_gen(int argc, char **argv);    /* realistic event streams */
int fce_cmd_stat(int argc, char **argv);   /* live counters */

#endif
