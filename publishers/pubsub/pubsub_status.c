#include <stddef.h>
#include <string.h>

#include "fce_pubsub.h"

/* gRPC status names that Google's Publish retry policy treats as
 * transient (google/pubsub/v1/pubsub_grpc_service_config.json). */
static const char *const retryable_names[] = {
    "ABORTED",  "CANCELLED",          "DEADLINE_EXCEEDED",
    "INTERNAL", "RESOURCE_EXHAUSTED", "UNAVAILABLE",
    "UNKNOWN",
};

enum fce_pubsub_class fce_pubsub_classify(long http_status,
                                          const char *status_name)
{
    if (status_name && *status_name) {
        size_t n = sizeof(retryable_names) / sizeof(retryable_names[0]);
        for (size_t i = 0; i < n; i++)
            if (strcmp(status_name, retryable_names[i]) == 0)
                return FCE_PUBSUB_RETRY;
        /* UNAUTHENTICATED is retried by the caller after a token
         * refresh; seen here it means the refresh did not help. */
        return strcmp(status_name, "UNAUTHENTICATED") == 0 ? FCE_PUBSUB_RETRY
                                                           : FCE_PUBSUB_REJECT;
    }

    switch (http_status) {
    case 401:
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
        return FCE_PUBSUB_RETRY;
    default:
        return http_status >= 400 && http_status < 500 ? FCE_PUBSUB_REJECT
                                                       : FCE_PUBSUB_RETRY;
    }
}
