/*
 * The backend types of this build. Each backend defines its fce_backend_type
 * next to its option table; a backend left out of the build leaves a NULL
 * weak reference, which is skipped.
 */
#include <stddef.h>
#include <string.h>

#include "fce_option.h"

extern const struct fce_backend_type fce_file_type __attribute__((weak));
extern const struct fce_backend_type fce_kafka_type __attribute__((weak));
extern const struct fce_backend_type fce_sns_type __attribute__((weak));
extern const struct fce_backend_type fce_sqs_type __attribute__((weak));
extern const struct fce_backend_type fce_pubsub_type __attribute__((weak));

static const struct fce_backend_type *const all_types[] = {
    &fce_file_type, &fce_kafka_type,  &fce_sns_type,
    &fce_sqs_type,  &fce_pubsub_type,
};

#define TYPE_COUNT (sizeof(all_types) / sizeof(all_types[0]))

const struct fce_backend_type *fce_backend_type_at(size_t i)
{
    for (size_t k = 0; k < TYPE_COUNT; k++) {
        if (!all_types[k])
            continue;
        if (i == 0)
            return all_types[k];
        i--;
    }
    return NULL;
}

const struct fce_backend_type *fce_backend_type_find(const char *name)
{
    for (size_t i = 0; i < TYPE_COUNT; i++)
        if (all_types[i] && strcmp(all_types[i]->name, name) == 0)
            return all_types[i];
    return NULL;
}
