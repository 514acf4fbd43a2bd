/*
 * fce_kafka_values: where the kafka backend renders structured-mode
 * message values, so librdkafka can send them without copying.
 *
 * Values are written one after another into blocks. A message keeps a
 * reference on its block from rd_kafka_producev() until its delivery
 * report; a block whose references are all gone is reused. A value larger
 * than a quarter of a block gets a block of its own, freed with its last
 * reference. Compared with RD_KAFKA_MSG_F_COPY, this saves a copy and an
 * allocation of about 1 KB per message.
 *
 * Single-threaded: the driver's thread only (delivery reports are served
 * by rd_kafka_poll() on that thread).
 */
#ifndef FCE_KAFKA_VALUES_H
#define FCE_KAFKA_VALUES_H

#include <stddef.h>

#define FCE_KAFKA_VALUE_BLOCK      (256u * 1024) /* bytes of a shared block */
#define FCE_KAFKA_SPARE_BLOCKS     8  /* empty blocks kept, at least */
#define FCE_KAFKA_SPARE_BLOCKS_MAX 64 /* and at most (16 MiB) */

struct fce_kafka_value_block;

struct fce_kafka_values {
    struct fce_kafka_value_block *current; /* the block being filled */
    struct fce_kafka_value_block *all;     /* every block, for free() */
    struct fce_kafka_value_block *spare;   /* empty blocks, for reuse */
    size_t spare_count;
    size_t block_count; /* blocks allocated now, spare ones included */
};

/*
 * Returns room for a value of at most max bytes, and in *block the block
 * to pass to fce_kafka_values_commit(); NULL when out of memory. The room
 * stays valid until the block's last reference is released.
 */
char *fce_kafka_values_reserve(struct fce_kafka_values *values, size_t max,
                               struct fce_kafka_value_block **block);

/* Takes the first len bytes of the room reserve() returned, and one
 * reference on block for the message that carries them. */
void fce_kafka_values_commit(struct fce_kafka_values *values,
                             struct fce_kafka_value_block *block, size_t len);

/* Drops one reference (the message was delivered, failed or purged). */
void fce_kafka_values_release(struct fce_kafka_values *values,
                              struct fce_kafka_value_block *block);

/* Frees every block, referenced or not. Call it only once librdkafka uses
 * no value, after rd_kafka_destroy(). */
void fce_kafka_values_free(struct fce_kafka_values *values);

#endif
