/*
 * fce config check|dump|docs: validates a configuration file, prints the
 * effective configuration with secrets masked, or prints the generated
 * docs/configuration.md.
 */
#include <stdio.h>
#include <string.h>

#include "fce_cli.h"
#include "fce_config.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fce config check [--strict] FILE\n"
            "       fce config dump FILE\n"
            "       fce config docs\n"
            "\n"
            "check   validates FILE and prints every problem with its line "
            "and key path;\n"
            "        --strict also fails on warnings (unknown keys of the "
            "cloudEvents block)\n"
            "dump    prints the effective configuration as YAML, every "
            "default filled in,\n"
            "        secrets shown as \"***\"\n"
            "docs    prints the Markdown reference of every key "
            "(docs/configuration.md)\n");
}

static void print_diag(const struct fce_diag *diag)
{
    for (size_t i = 0; i < diag->count; i++)
        fprintf(stderr, "%s\n", diag->messages[i]);
    size_t shown = diag->count;
    size_t total = diag->error_count + diag->warning_count;
    if (total > shown)
        fprintf(stderr, "(%zu more problems not shown)\n", total - shown);
}

/* Loads path, printing its problems. Returns the config or NULL. */
static struct fce_config *load(const char *path, struct fce_diag *diag)
{
    struct fce_config *config = NULL;
    int rc = fce_config_load(path, &config, diag);
    print_diag(diag);
    if (rc != 0) {
        fprintf(stderr, "%s: %zu error(s), %zu warning(s)\n", path,
                diag->error_count, diag->warning_count);
        return NULL;
    }
    return config;
}

static int check(const char *path, int strict)
{
    struct fce_diag diag = {0};
    struct fce_config *config = load(path, &diag);
    int status = config ? 0 : 2;

    if (config && strict && diag.warning_count) {
        fprintf(stderr,
                "%s: invalid with --strict: %zu warning(s), which count as "
                "errors; fix them or check without --strict\n",
                path, diag.warning_count);
        status = 2;
    } else if (config) {
        printf("%s: valid: %zu publisher(s), %zu warning(s)\n", path,
               config->publisher_count, diag.warning_count);
    }
    fce_config_free(config);
    fce_diag_free(&diag);
    return status;
}

static int write_buf(struct fce_buf *buf, int rc)
{
    if (rc != 0) {
        fprintf(stderr, "fce config: out of memory\n");
        fce_buf_free(buf);
        return 1;
    }
    size_t len = buf->len;
    size_t written = fwrite(buf->data, 1, len, stdout);
    fce_buf_free(buf);
    if (written != len || fflush(stdout) != 0) {
        perror("fce config: write");
        return 1;
    }
    return 0;
}

static int dump(const char *path)
{
    struct fce_diag diag = {0};
    struct fce_config *config = load(path, &diag);
    fce_diag_free(&diag);
    if (!config)
        return 2;

    struct fce_buf out = FCE_BUF_INIT;
    int status = write_buf(&out, fce_config_dump(config, &out));
    fce_config_free(config);
    return status;
}

int fce_cmd_config(int argc, char **argv)
{
    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "docs") == 0) {
        struct fce_buf out = FCE_BUF_INIT;
        return write_buf(&out, fce_config_docs(&out));
    }
    if (argc == 3 && strcmp(argv[1], "check") == 0)
        return check(argv[2], 0);
    if (argc == 4 && strcmp(argv[1], "check") == 0 &&
        strcmp(argv[2], "--strict") == 0)
        return check(argv[3], 1);
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return dump(argv[2]);

    usage(stderr);
    return 2;
}
