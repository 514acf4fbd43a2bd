/*
 * The encoder's loop: reads ingest records, renders the neutral CloudEvent
 * of each, and writes it into the ring of every publisher whose eventTypes
 * include the record's kind. The ingest record is released only after all
 * those rings have committed it, so a crash re-reads it (at least once).
 */
#ifndef FCE_ENCODER_H
#define FCE_ENCODER_H

#include <signal.h>
#include <stdint.h>

#include "fce_config.h"
#include "fce_ring.h"
#include "fce_stats.h"

struct encoder_output {
    const struct fce_publisher_config *publisher;
    struct fce_ring *ring;
    uint64_t *rendered; /* records written to this publisher's ring */
    uint64_t *waits;    /* times this ring was full */
};

struct encoder {
    const struct fce_config *config;
    struct fce_ring *ingest;
    struct encoder_output *outputs;
    size_t output_count;
    struct fce_stats *stats;
    uint64_t *records_in;   /* ingest records read */
    uint64_t *rendered;     /* CloudEvent records written, all rings */
    uint64_t *filtered_out; /* (record, publisher) pairs the filter skipped */
    uint64_t *waits;        /* reservations that found a full ring */
    uint64_t *malformed;    /* ingest records that could not be read */
    uint64_t *oversize;     /* records too large for a publisher ring */
    volatile sig_atomic_t *stop;
};

/* Runs until *encoder->stop is set, then returns 0 after finishing the
 * record in hand; returns a negative errno on a ring failure. */
int encoder_run(struct encoder *encoder);

#endif
