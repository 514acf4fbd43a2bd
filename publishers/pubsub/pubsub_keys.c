/*
 * Ordering keys: a hash table of the keys that hold records, each with its
 * queue in ring order, and a FIFO of keys that have something to send, so
 * a busy or blocked key never holds up the others.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fce_log.h"
#include "pubsub_internal.h"

#define TABLE_INITIAL 64

uint64_t pubsub_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t hash_name(const char *name, size_t len)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)name[i];
        h *= 1099511628211ull;
    }
    return h;
}

static struct pubsub_key *key_new(const char *name, size_t len)
{
    struct pubsub_key *key = calloc(1, sizeof(*key));
    if (!key)
        return NULL;
    key->name = malloc(len + 1);
    if (!key->name) {
        free(key);
        return NULL;
    }
    memcpy(key->name, name, len);
    key->name[len] = '\0';
    key->name_len = len;
    key->hash = hash_name(name, len);
    return key;
}

static void key_free(struct pubsub_key *key)
{
    free(key->blocked);
    free(key->name);
    free(key);
}

int pubsub_keys_init(struct pubsub *ps)
{
    if (!ps->ordering) {
        ps->shared = key_new("", 0);
        return ps->shared ? 0 : -ENOMEM;
    }
    ps->table = calloc(TABLE_INITIAL, sizeof(*ps->table));
    if (!ps->table)
        return -ENOMEM;
    ps->table_size = TABLE_INITIAL;
    return 0;
}

void pubsub_keys_free(struct pubsub *ps)
{
    for (size_t i = 0; i < ps->table_size; i++) {
        struct pubsub_key *key = ps->table[i];
        while (key) {
            struct pubsub_key *next = key->hash_next;
            key_free(key);
            key = next;
        }
    }
    free(ps->table);
    if (ps->shared)
        key_free(ps->shared);
    ps->table = NULL;
    ps->shared = NULL;
}

/* Doubles the table when it holds more keys than buckets. */
static void grow(struct pubsub *ps)
{
    size_t size = ps->table_size * 2;
    struct pubsub_key **table = calloc(size, sizeof(*table));
    if (!table)
        return; /* longer chains, still correct */

    for (size_t i = 0; i < ps->table_size; i++) {
        struct pubsub_key *key = ps->table[i];
        while (key) {
            struct pubsub_key *next = key->hash_next;
            key->hash_next = table[key->hash & (size - 1)];
            table[key->hash & (size - 1)] = key;
            key = next;
        }
    }
    free(ps->table);
    ps->table = table;
    ps->table_size = size;
}

struct pubsub_key *pubsub_key_get(struct pubsub *ps, const char *name,
                                  size_t len)
{
    if (!ps->ordering)
        return ps->shared;

    uint64_t h = hash_name(name, len);
    struct pubsub_key **bucket = &ps->table[h & (ps->table_size - 1)];
    for (struct pubsub_key *key = *bucket; key; key = key->hash_next)
        if (key->hash == h && key->name_len == len &&
            memcmp(key->name, name, len) == 0)
            return key;

    struct pubsub_key *key = key_new(name, len);
    if (!key)
        return NULL;
    key->hash_next = *bucket;
    *bucket = key;
    if (++ps->key_count > ps->table_size)
        grow(ps);
    return key;
}

/* Frees a key that holds nothing and is not in the ready list. */
void pubsub_key_release(struct pubsub *ps, struct pubsub_key *key)
{
    if (key == ps->shared || key->queued || key->in_flight ||
        key->blocked_count || key->ready)
        return;

    struct pubsub_key **link = &ps->table[key->hash & (ps->table_size - 1)];
    while (*link != key)
        link = &(*link)->hash_next;
    *link = key->hash_next;
    ps->key_count--;
    key_free(key);
}

static uint64_t min_blocked(const struct pubsub_key *key)
{
    uint64_t min = UINT64_MAX;
    for (size_t i = 0; i < key->blocked_count; i++)
        if (key->blocked[i] < min)
            min = key->blocked[i];
    return min;
}

bool pubsub_key_sendable(const struct pubsub *ps, const struct pubsub_key *key)
{
    if (!key->head)
        return false;
    if (!ps->ordering)
        return true;
    return key->in_flight == 0 && (key->blocked_count == 0 ||
                                   key->head->record->seq < min_blocked(key));
}

void pubsub_key_mark_ready(struct pubsub *ps, struct pubsub_key *key)
{
    if (key->ready || !pubsub_key_sendable(ps, key))
        return;
    key->ready = true;
    key->ready_next = NULL;
    if (ps->ready_tail)
        ps->ready_tail->ready_next = key;
    else
        ps->ready_head = key;
    ps->ready_tail = key;
}

struct pubsub_key *pubsub_key_pop_ready(struct pubsub *ps)
{
    struct pubsub_key *key = ps->ready_head;
    if (!key)
        return NULL;
    ps->ready_head = key->ready_next;
    if (!ps->ready_head)
        ps->ready_tail = NULL;
    key->ready = false;
    return key;
}

/* Removes seq from the blocked list; returns whether it was there. */
static bool unblock(struct pubsub *ps, struct pubsub_key *key, uint64_t seq)
{
    for (size_t i = 0; i < key->blocked_count; i++) {
        if (key->blocked[i] != seq)
            continue;
        key->blocked[i] = key->blocked[--key->blocked_count];
        if (key->blocked_count == 0)
            ps->blocked_keys--;
        return true;
    }
    return false;
}

void pubsub_key_insert(struct pubsub *ps, struct pubsub_key *key,
                       struct pubsub_slot *slot)
{
    uint64_t seq = slot->record->seq;
    unblock(ps, key, seq);
    slot->key = key;
    slot->next = NULL;
    key->queued++;

    /* Records arrive in ring order except retries, which go back in
     * front of the later records of their key. */
    if (!key->tail || key->tail->record->seq < seq) {
        if (key->tail)
            key->tail->next = slot;
        else
            key->head = slot;
        key->tail = slot;
    } else {
        struct pubsub_slot **link = &key->head;
        while (*link && (*link)->record->seq < seq)
            link = &(*link)->next;
        slot->next = *link;
        *link = slot;
    }
    pubsub_key_mark_ready(ps, key);
}

void pubsub_key_requeue(struct pubsub *ps, struct pubsub_key *key,
                        struct pubsub_slot **slots, size_t count)
{
    for (size_t i = count; i-- > 0;) {
        slots[i]->next = key->head;
        key->head = slots[i];
        if (!key->tail)
            key->tail = slots[i];
        key->queued++;
    }
    pubsub_key_mark_ready(ps, key);
}

int pubsub_key_block(struct pubsub *ps, struct pubsub_key *key, uint64_t seq,
                     uint64_t now_ms)
{
    if (key->blocked_count == key->blocked_cap) {
        size_t cap = key->blocked_cap ? key->blocked_cap * 2 : 8;
        uint64_t *blocked = realloc(key->blocked, cap * sizeof(*blocked));
        if (!blocked)
            return -ENOMEM;
        key->blocked = blocked;
        key->blocked_cap = cap;
    }
    if (key->blocked_count == 0) {
        key->blocked_since_ms = now_ms;
        ps->blocked_keys++;
    }
    key->blocked[key->blocked_count++] = seq;
    return 0;
}

static void resume_if_stale(struct pubsub *ps, struct pubsub_key *key,
                            uint64_t now_ms)
{
    if (!key->blocked_count || now_ms - key->blocked_since_ms < ps->resume_ms)
        return;
    fce_warn("pubsub",
             "failed events of an ordering key were not retried in time; "
             "sending its later events",
             "publisher=%s ordering_key=%s waiting=%zu waited_ms=%" PRIu64,
             ps->name, fce_log_quote(key->name), key->blocked_count,
             now_ms - key->blocked_since_ms);
    key->blocked_count = 0;
    ps->blocked_keys--;
    pubsub_key_mark_ready(ps, key);
    pubsub_key_release(ps, key);
}

void pubsub_keys_check_blocked(struct pubsub *ps, uint64_t now_ms)
{
    if (ps->blocked_keys == 0 || now_ms < ps->next_block_check_ms)
        return;
    ps->next_block_check_ms = now_ms + 1000;
    for (size_t i = 0; i < ps->table_size; i++) {
        struct pubsub_key *key = ps->table[i];
        while (key) {
            struct pubsub_key *next = key->hash_next;
            resume_if_stale(ps, key, now_ms);
            key = next;
        }
    }
}
