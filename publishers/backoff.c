/* Retry backoff: capped exponential growth with symmetric jitter. */
#include "driver.h"

uint64_t fce_backoff_ms(const struct fce_retry_policy *policy, uint32_t attempt,
                        uint64_t random)
{
    uint64_t initial =
        policy->initial_ms ? policy->initial_ms : FCE_DRIVER_RETRY_INITIAL;
    uint64_t max = policy->max_ms ? policy->max_ms : FCE_DRIVER_RETRY_MAX;
    uint64_t growth = policy->multiplier_pct ? policy->multiplier_pct
                                             : FCE_DRIVER_RETRY_GROWTH;
    uint64_t jitter = policy->jitter_pct > 100 ? 100 : policy->jitter_pct;
    uint64_t wait = initial < max ? initial : max;

    /* Grow step by step so the product never overflows: stop at the cap. */
    for (uint32_t i = 1; i < attempt && wait < max; i++) {
        uint64_t grown = wait > UINT64_MAX / growth ? max : wait * growth / 100;

        wait = grown > max ? max : grown;
    }

    if (jitter == 0 || wait == 0)
        return wait;

    /* A uniform offset in [-span, +span], span = wait * jitter / 100. */
    uint64_t span = wait / 100 * jitter + wait % 100 * jitter / 100;
    uint64_t offset = random % (2 * span + 1);
    uint64_t jittered = wait - span + offset;

    return jittered > max ? max : jittered;
}
