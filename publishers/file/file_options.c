/* The file backend's options (the `file:` block of a publisher). */
#include <stddef.h>

#include "fce_file.h"

static const char *const fsync_choices[] = {"never", "batch", "always",
                                            "interval", NULL};

static const struct fce_option file_options[] = {
    {.key = "path",
     .type = FCE_OPT_STRING,
     .offset = offsetof(struct fce_file_settings, path),
     .help = "File the CloudEvents are appended to, one JSON object per "
             "line; created when missing",
     .flags = FCE_OPT_REQUIRED},
    {.key = "fsync",
     .type = FCE_OPT_ENUM,
     .offset = offsetof(struct fce_file_settings, fsync),
     .default_value = "batch",
     .help = "When written records are flushed to disk before they leave "
             "the ring: never, batch (once per batch), always (after each "
             "record) or interval (every fsyncInterval)",
     .choices = fsync_choices},
    {.key = "fsyncInterval",
     .type = FCE_OPT_DURATION,
     .offset = offsetof(struct fce_file_settings, fsync_interval_ms),
     .default_value = "1s",
     .help = "Time between flushes when fsync is interval"},
    {.key = "rotateCheck",
     .type = FCE_OPT_DURATION,
     .offset = offsetof(struct fce_file_settings, rotate_check_ms),
     .default_value = "1s",
     .help = "How often the backend checks whether the file was renamed "
             "or removed (log rotation) and reopens the path; 0 checks "
             "before every batch"},
    {0},
};

const struct fce_backend_type fce_file_type = {
    .name = "file",
    .config_key = "file",
    .summary = "Appends structured CloudEvents as JSON lines to a file",
    .options = file_options,
    .options_size = sizeof(struct fce_file_settings),
};
