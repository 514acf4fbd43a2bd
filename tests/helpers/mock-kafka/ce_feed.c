/*
 * ce-feed: writes the CloudEvent records of Flyte event requests into a
 * publisher ring, as the encoder does, so publisher tests and benchmarks
 * run without ingest and the encoder.
 *
 *   ce-feed --ring PATH --list FILE [--create CAPACITY] [--repeat N]
 *           [--unique] [--start N] [--rate EVENTS_PER_SECOND]
 *           [--kcat-out FILE]
 *
 * FILE lists one request per line as "KIND PATH" (KIND: workflow, node,
 * task). --unique appends "#N" (N = the repetition, counted from --start,
 * default 0) to each id, so repeated events stay distinguishable. --kcat-out
 * also writes each event as "KEY<TAB>STRUCTURED JSON" lines, the input of `kcat
 * -P -K '\t'`. Prints "fed N" at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fce_ce.h"
#include "fce_event.h"
#include "fce_ring.h"

struct request {
    enum fce_kind kind;
    uint8_t *data;
    size_t len;
    struct fce_event event;
};

struct feed {
    const char *ring_path, *list_path, *kcat_path;
    uint64_t create_capacity;
    long repeat;
    long start; /* number of the first repetition, for --unique */
    double rate;
    int unique;
    struct request *requests;
    size_t count;
};

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *file = fopen(path, "rb");
    long size;

    if (!file)
        return -errno;
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    rewind(file);
    *data = malloc(size > 0 ? (size_t)size : 1);
    *len = *data ? fread(*data, 1, (size_t)size, file) : 0;
    fclose(file);
    return *data ? 0 : -ENOMEM;
}

/* Reads and parses one request; r->data is owned by r even on failure. */
static int load_request(struct request *r, const char *kind, const char *path)
{
    char err[256];

    memset(r, 0, sizeof(*r));
    if (fce_kind_parse(kind, &r->kind) || read_file(path, &r->data, &r->len)) {
        fprintf(stderr, "ce-feed: invalid line '%s %s'; expected KIND PATH\n",
                kind, path);
        return -1;
    }
    if (fce_event_parse(r->kind, r->data, r->len, &r->event, err,
                        sizeof(err))) {
        fprintf(stderr, "ce-feed: %s: %s\n", path, err);
        return -1;
    }
    return 0;
}

static int load_list(struct feed *feed)
{
    FILE *list = fopen(feed->list_path, "r");
    char kind[32], path[4096];
    int rc = 0;

    if (!list) {
        fprintf(stderr, "ce-feed: cannot open %s: %s\n", feed->list_path,
                strerror(errno));
        return -1;
    }
    while (rc == 0 && fscanf(list, "%31s %4095s", kind, path) == 2) {
        struct request *grown =
            realloc(feed->requests, (feed->count + 1) * sizeof(*grown));

        if (!grown) {
            rc = -1;
            break;
        }
        feed->requests = grown;
        rc = load_request(&feed->requests[feed->count], kind, path);
        feed->count++; /* counted even on failure, so free_feed frees it */
    }
    fclose(list);
    return rc;
}

static void free_feed(struct feed *feed)
{
    for (size_t i = 0; i < feed->count; i++) {
        fce_event_clear(&feed->requests[i].event);
        free(feed->requests[i].data);
    }
    free(feed->requests);
    feed->requests = NULL;
    feed->count = 0;
}

static void build_ce(const struct request *r, const char *id, size_t id_len,
                     struct fce_ce *ce)
{
    struct fce_event_view view = {
        .kind = r->kind,
        .phase = r->event.phase,
        .has_time = r->event.has_time,
        .seconds = r->event.seconds,
        .nanos = r->event.nanos,
        .id = id,
        .id_len = id_len,
        .partition_key = r->event.partition_key,
        .partition_key_len = r->event.partition_key_len,
        .data = r->data,
        .data_len = r->len,
    };

    fce_ce_from_event(&view, &fce_ce_default_profile, ce);
}

static void write_kcat_line(FILE *out, const struct fce_ce *ce)
{
    struct fce_buf json = FCE_BUF_INIT;

    fce_ce_render_json(ce, &json);
    fwrite(ce->partition_key, 1, ce->partition_key_len, out);
    fputc('\t', out);
    fwrite(json.data, 1, json.len, out);
    fputc('\n', out);
    fce_buf_free(&json);
}

static void pace(const struct feed *feed, uint64_t fed,
                 const struct timespec *start)
{
    struct timespec now, wait;
    double due, elapsed;

    if (feed->rate <= 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    due = (double)fed / feed->rate;
    elapsed = (double)(now.tv_sec - start->tv_sec) +
              (double)(now.tv_nsec - start->tv_nsec) / 1e9;
    if (due <= elapsed)
        return;
    wait.tv_sec = (time_t)(due - elapsed);
    wait.tv_nsec = (long)((due - elapsed - (double)wait.tv_sec) * 1e9);
    nanosleep(&wait, NULL);
}

static int feed_all(struct feed *feed, struct fce_ring *ring, FILE *kcat)
{
    struct timespec start;
    uint64_t fed = 0;
    char id[4096];

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long rep = feed->start; rep < feed->start + feed->repeat; rep++) {
        for (size_t i = 0; i < feed->count; i++) {
            const struct request *r = &feed->requests[i];
            struct fce_ce ce;
            size_t id_len = r->event.id_len;
            void *payload;
            int rc;

            memcpy(id, r->event.id, id_len);
            if (feed->unique)
                id_len += (size_t)snprintf(id + id_len, sizeof(id) - id_len,
                                           "#%ld", rep);
            build_ce(r, id, id_len, &ce);
            if (kcat)
                write_kcat_line(kcat, &ce);
            rc = fce_ring_reserve_wait(ring, (uint32_t)fce_ce_record_size(&ce),
                                       -1, &payload);
            if (rc) {
                fprintf(stderr, "ce-feed: reserve failed: %s\n", strerror(-rc));
                return -1;
            }
            fce_ce_record_write(payload, &ce);
            fce_ring_commit(ring, r->kind, (uint32_t)fce_ce_record_size(&ce));
            pace(feed, ++fed, &start);
        }
    }
    printf("fed %llu\n", (unsigned long long)fed);
    return 0;
}

static int parse_args(int argc, char **argv, struct feed *feed)
{
    feed->repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(arg, "--unique") == 0) {
            feed->unique = 1;
            continue;
        }
        if (!value)
            return -1;
        i++;
        if (strcmp(arg, "--ring") == 0)
            feed->ring_path = value;
        else if (strcmp(arg, "--list") == 0)
            feed->list_path = value;
        else if (strcmp(arg, "--kcat-out") == 0)
            feed->kcat_path = value;
        else if (strcmp(arg, "--repeat") == 0)
            feed->repeat = strtol(value, NULL, 10);
        else if (strcmp(arg, "--start") == 0)
            feed->start = strtol(value, NULL, 10);
        else if (strcmp(arg, "--rate") == 0)
            feed->rate = strtod(value, NULL);
        else if (strcmp(arg, "--create") == 0) {
            if (fce_size_parse(value, &feed->create_capacity))
                return -1;
        } else
            return -1;
    }
    return feed->ring_path && feed->list_path && feed->repeat > 0 &&
                   feed->start >= 0
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    struct feed feed = {0};
    struct fce_ring *ring = NULL;
    FILE *kcat = NULL;
    char err[256];
    int rc = 1;

    if (parse_args(argc, argv, &feed)) {
        fprintf(stderr, "usage: ce-feed --ring PATH --list FILE "
                        "[--create CAPACITY] [--repeat N] [--unique] "
                        "[--start N] [--rate N] [--kcat-out FILE]\n");
        return 2;
    }
    if (load_list(&feed))
        goto cleanup;
    if (feed.create_capacity &&
        fce_ring_create(feed.ring_path, feed.create_capacity, 1u << 20, err,
                        sizeof(err))) {
        fprintf(stderr, "ce-feed: %s\n", err);
        goto cleanup;
    }
    if (fce_ring_attach(feed.ring_path, &ring, err, sizeof(err))) {
        fprintf(stderr, "ce-feed: %s\n", err);
        goto cleanup;
    }
    if (feed.kcat_path && !(kcat = fopen(feed.kcat_path, "w"))) {
        fprintf(stderr, "ce-feed: cannot write %s: %s\n", feed.kcat_path,
                strerror(errno));
        goto cleanup;
    }
    rc = feed_all(&feed, ring, kcat) ? 1 : 0;

cleanup:
    if (kcat && fclose(kcat) != 0)
        rc = 1;
    if (ring)
        fce_ring_detach(ring);
    free_feed(&feed);
    return rc;
}
