/*
 * Value blocks for the kafka backend (kafka_values.h). Every block is on
 * a doubly linked list so that fce_kafka_values_free() finds the ones
 * still referenced by messages librdkafka dropped without a report.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "kafka_values.h"

struct fce_kafka_value_block {
    struct fce_kafka_value_block *prev, *next; /* in values->all */
    struct fce_kafka_value_block *spare_next;
    size_t size; /* bytes of data */
    size_t used;
    size_t refs; /* messages whose value is in this block */
    bool own;    /* contains one large value, freed with its last reference */
    char data[];
};

static struct fce_kafka_value_block *new_block(struct fce_kafka_values *values,
                                               size_t size, bool own)
{
    struct fce_kafka_value_block *block = malloc(sizeof(*block) + size);

    if (!block)
        return NULL;
    *block = (struct fce_kafka_value_block){.size = size, .own = own};
    block->next = values->all;
    if (values->all)
        values->all->prev = block;
    values->all = block;
    values->block_count++;
    return block;
}

static void free_block(struct fce_kafka_values *values,
                       struct fce_kafka_value_block *block)
{
    if (block->prev)
        block->prev->next = block->next;
    else
        values->all = block->next;
    if (block->next)
        block->next->prev = block->prev;
    values->block_count--;
    free(block);
}

/* Makes an empty block current: a spare one, or a new one. */
static struct fce_kafka_value_block *next_block(struct fce_kafka_values *values)
{
    struct fce_kafka_value_block *block = values->spare;

    if (block) {
        values->spare = block->spare_next;
        values->spare_count--;
    } else {
        block = new_block(values, FCE_KAFKA_VALUE_BLOCK, false);
    }
    if (block)
        values->current = block;
    return block;
}

char *fce_kafka_values_reserve(struct fce_kafka_values *values, size_t max,
                               struct fce_kafka_value_block **block)
{
    struct fce_kafka_value_block *current = values->current;

    if (max > FCE_KAFKA_VALUE_BLOCK / 4) {
        *block = new_block(values, max, true);
        return *block ? (*block)->data : NULL;
    }
    if (current && current->refs == 0)
        current->used = 0; /* every value in it is delivered */
    /* A full block is left alone until its last reference goes. Then
     * fce_kafka_values_release() makes it spare. */
    if (!current || current->size - current->used < max)
        current = next_block(values);
    *block = current;
    return current ? current->data + current->used : NULL;
}

void fce_kafka_values_commit(struct fce_kafka_values *values,
                             struct fce_kafka_value_block *block, size_t len)
{
    (void)values;
    block->used += len;
    block->refs++;
}

/* Returns how many spare blocks to keep: as many as are in use, so that a
 * burst of delivery reports does not free the blocks the next burst of
 * messages needs. The cap keeps a large backlog from leaving many behind. */
static size_t spare_limit(const struct fce_kafka_values *values)
{
    size_t in_use = values->block_count - values->spare_count;

    if (in_use < FCE_KAFKA_SPARE_BLOCKS)
        return FCE_KAFKA_SPARE_BLOCKS;
    return in_use < FCE_KAFKA_SPARE_BLOCKS_MAX ? in_use
                                               : FCE_KAFKA_SPARE_BLOCKS_MAX;
}

void fce_kafka_values_release(struct fce_kafka_values *values,
                              struct fce_kafka_value_block *block)
{
    if (--block->refs > 0 || block == values->current)
        return;
    if (block->own || values->spare_count >= spare_limit(values)) {
        free_block(values, block);
        return;
    }
    block->used = 0;
    block->spare_next = values->spare;
    values->spare = block;
    values->spare_count++;
}

void fce_kafka_values_free(struct fce_kafka_values *values)
{
    while (values->all)
        free_block(values, values->all);
    *values = (struct fce_kafka_values){0};
}
