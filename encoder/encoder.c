#include "encoder.h"

#include <errno.h>
#include <string.h>

#include "fce_ce.h"
#include "fce_event.h"
#include "fce_log.h"

#define COMPONENT          "encoder"
#define READ_TIMEOUT_MS    1000
#define RESERVE_TIMEOUT_MS 1000

/* Reserves room in a publisher's ring, waiting while it is full. A stop
 * request does not end the wait: the record in hand is finished first. */
static int reserve(struct encoder *encoder, struct encoder_output *output,
                   uint32_t size, void **payload)
{
    *payload = fce_ring_reserve(output->ring, size);
    if (*payload)
        return 0;
    if (errno != EAGAIN)
        return -errno;

    fce_stats_add(encoder->waits, 1);
    fce_stats_add(output->waits, 1);
    static struct fce_log_limit full_limit;
    fce_log_limited(&full_limit, 10000, FCE_LOG_WARN, COMPONENT,
                    "publisher ring is full; waiting for room", "publisher=%s",
                    output->publisher->name);
    for (;;) {
        int rc = fce_ring_reserve_wait(output->ring, size, RESERVE_TIMEOUT_MS,
                                       payload);
        if (rc != -ETIMEDOUT && rc != -EINTR)
            return rc;
        fce_stats_touch(encoder->stats);
    }
}

static int write_output(struct encoder *encoder, struct encoder_output *output,
                        const struct fce_ce *ce)
{
    size_t size = fce_ce_record_size(ce);
    void *payload = NULL;
    int rc = size > UINT32_MAX
                 ? -EMSGSIZE
                 : reserve(encoder, output, (uint32_t)size, &payload);
    if (rc == -EMSGSIZE) {
        /* The record can never fit this ring; waiting would stop the
         * whole pipeline, so it is counted and logged instead. */
        static struct fce_log_limit oversize_limit;
        fce_stats_add(encoder->oversize, 1);
        fce_log_limited(&oversize_limit, 1000, FCE_LOG_ERROR, COMPONENT,
                        "event is larger than the publisher ring's maximum "
                        "record; raise rings.maxRecord",
                        "publisher=%s bytes=%zu", output->publisher->name,
                        size);
        return 0;
    }
    if (rc < 0)
        return rc;

    fce_ce_record_write(payload, ce);
    fce_ring_commit(output->ring, (uint32_t)ce->kind, (uint32_t)size);
    fce_stats_add(encoder->rendered, 1);
    fce_stats_add(output->rendered, 1);
    return 0;
}

static int encode_record(struct encoder *encoder,
                         const struct fce_ring_record *record)
{
    struct fce_event_view view;
    if (fce_event_record_read(record->data, record->len,
                              (enum fce_kind)record->kind, &view) < 0) {
        static struct fce_log_limit malformed_limit;
        fce_stats_add(encoder->malformed, 1);
        fce_log_limited(
            &malformed_limit, 1000, FCE_LOG_ERROR, COMPONENT,
            "skipping a malformed ingest record", "seq=%llu kind=%u bytes=%u",
            (unsigned long long)record->seq, record->kind, record->len);
        return 0;
    }

    struct fce_ce ce;
    fce_ce_from_event(&view, &encoder->config->profile, &ce);
    for (size_t i = 0; i < encoder->output_count; i++) {
        struct encoder_output *output = &encoder->outputs[i];
        if (!(output->publisher->event_types & FCE_EVENT_TYPE_BIT(view.kind))) {
            fce_stats_add(encoder->filtered_out, 1);
            continue;
        }
        int rc = write_output(encoder, output, &ce);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int encoder_run(struct encoder *encoder)
{
    while (!*encoder->stop) {
        struct fce_ring_record record;
        int rc = fce_ring_read_wait(encoder->ingest, &record, READ_TIMEOUT_MS);
        if (rc == -ETIMEDOUT || rc == -EINTR || rc == -EAGAIN) {
            fce_stats_touch(encoder->stats);
            continue;
        }
        if (rc < 0)
            return rc;

        fce_stats_add(encoder->records_in, 1);
        rc = encode_record(encoder, &record);
        if (rc < 0) {
            fce_error(COMPONENT, "cannot write to a publisher ring",
                      "seq=%llu error=%s", (unsigned long long)record.seq,
                      fce_log_quote(strerror(-rc)));
            return rc;
        }
        /* Every publisher ring has committed the record (or skipped it),
         * so the ingest ring may reuse its room. */
        fce_ring_release(encoder->ingest, record.end);
    }
    return 0;
}
