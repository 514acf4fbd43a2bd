/*
 * The backends linked into fce-publisher. A backend defines its struct
 * fce_backend in its own folder; one left out of the build leaves a NULL
 * weak reference, which fce_backend_find() skips.
 */
#include <stddef.h>
#include <string.h>

#include "fce_backend.h"

extern const struct fce_backend fce_file_backend __attribute__((weak));
extern const struct fce_backend fce_kafka_backend __attribute__((weak));
extern const struct fce_backend fce_sns_backend __attribute__((weak));
extern const struct fce_backend fce_sqs_backend __attribute__((weak));
extern const struct fce_backend fce_pubsub_backend __attribute__((weak));

static const struct fce_backend *const backends[] = {
    &fce_file_backend, &fce_kafka_backend,  &fce_sns_backend,
    &fce_sqs_backend,  &fce_pubsub_backend,
};

const struct fce_backend *fce_backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (backends[i] && strcmp(backends[i]->type->name, name) == 0)
            return backends[i];
    return NULL;
}
