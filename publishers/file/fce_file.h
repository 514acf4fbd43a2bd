/*
 * The file backend: appends each CloudEvent in structured JSON, one per
 * line, to a file. Its settings come from the publisher's `file:` block.
 */
#ifndef FCE_FILE_H
#define FCE_FILE_H

#include <stdint.h>

#include "fce_option.h"

enum fce_file_fsync {
    FCE_FILE_FSYNC_NEVER,    /* leave it to the kernel */
    FCE_FILE_FSYNC_BATCH,    /* once per batch, before completing it */
    FCE_FILE_FSYNC_ALWAYS,   /* after every record */
    FCE_FILE_FSYNC_INTERVAL, /* at most every fsyncInterval */
};

struct fce_file_settings {
    char *path;
    int fsync;                  /* enum fce_file_fsync */
    uint64_t fsync_interval_ms; /* for FCE_FILE_FSYNC_INTERVAL */
    uint64_t rotate_check_ms;   /* how often to look for rotation */
};

extern const struct fce_backend_type fce_file_type;

#endif
