/*
 * Encoding benchmark: each round validates every corpus request and renders
 * its structured CloudEvent, three ways:
 *   ours    fce_event_parse() + fce_ce_render_json()
 *   cjson   fce_event_parse() + the same members built with cJSON 1.7
 *           (cJSON_PrintUnformatted) and EVP_EncodeBlock for data_base64
 *   floor   EVP_EncodeBlock of the request bytes alone (no validation)
 * One process, one core, each run for about a second, side by side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "../../tests/unit/event/corpus.h"
#include "fce_buf.h"
#include "fce_ce.h"
#include "fce_event.h"

struct request {
    enum fce_kind kind;
    uint8_t *data;
    size_t len;
};

struct corpus {
    struct request *items;
    size_t count;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(struct corpus *all, struct corpus *big)
{
    cJSON *manifest = corpus_manifest();
    if (!manifest)
        return -1;
    const cJSON *entries = cJSON_GetObjectItem(manifest, "entries");
    size_t n = (size_t)cJSON_GetArraySize(entries);
    all->items = calloc(n, sizeof(*all->items));
    big->items = calloc(n, sizeof(*big->items));
    const cJSON *entry;
    cJSON_ArrayForEach(entry, entries)
    {
        if (strcmp(corpus_string(entry, "expect"), "accept") != 0)
            continue;
        struct request r;
        fce_kind_parse(corpus_string(entry, "kind"), &r.kind);
        r.data = corpus_read(corpus_string(entry, "file"), &r.len);
        if (!r.data)
            return -1;
        all->items[all->count++] = r;
        if (r.len > 1024)
            big->items[big->count++] = r;
    }
    cJSON_Delete(manifest);
    return 0;
}

static void view_of(const struct fce_event *event, const struct request *r,
                    struct fce_event_view *view)
{
    memset(view, 0, sizeof(*view));
    view->kind = event->kind;
    view->phase = event->phase;
    view->has_time = event->has_time;
    view->seconds = event->seconds;
    view->nanos = event->nanos;
    view->id = event->id;
    view->id_len = event->id_len;
    view->partition_key = event->partition_key;
    view->partition_key_len = event->partition_key_len;
    view->data = r->data;
    view->data_len = r->len;
}

static size_t sink; /* keeps the work from being optimised away */

static void run_ours(const struct request *r, struct fce_buf *out)
{
    struct fce_event event = {0};
    char err[128];
    if (fce_event_parse(r->kind, r->data, r->len, &event, err, sizeof(err)))
        abort();
    struct fce_event_view view;
    view_of(&event, r, &view);
    struct fce_ce ce;
    fce_ce_from_event(&view, &fce_ce_default_profile, &ce);
    fce_buf_reset(out);
    if (fce_ce_render_json(&ce, out) < 0)
        abort();
    sink += out->len;
    fce_event_clear(&event);
}

static void run_cjson(const struct request *r, struct fce_buf *out)
{
    struct fce_event event = {0};
    char err[128];
    if (fce_event_parse(r->kind, r->data, r->len, &event, err, sizeof(err)))
        abort();
    struct fce_event_view view;
    view_of(&event, r, &view);
    struct fce_ce ce;
    fce_ce_from_event(&view, &fce_ce_default_profile, &ce);

    cJSON *root = cJSON_CreateObject();
    char value[4096];
    for (size_t i = 0; i < ce.attr_count; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)ce.attrs[i].name_len,
                 ce.attrs[i].name);
        snprintf(value, sizeof(value), "%.*s", (int)ce.attrs[i].value_len,
                 ce.attrs[i].value);
        cJSON_AddStringToObject(root, name, value);
    }
    if (fce_buf_reserve(out, (ce.data_len + 2) / 3 * 4 + 1) < 0)
        abort();
    EVP_EncodeBlock((unsigned char *)out->data, ce.data, (int)ce.data_len);
    cJSON_AddStringToObject(root, "data_base64", out->data);
    char *text = cJSON_PrintUnformatted(root);
    sink += strlen(text);
    cJSON_free(text);
    cJSON_Delete(root);
    fce_event_clear(&event);
}

static void run_floor(const struct request *r, struct fce_buf *out)
{
    if (fce_buf_reserve(out, (r->len + 2) / 3 * 4 + 1) < 0)
        abort();
    sink += (size_t)EVP_EncodeBlock((unsigned char *)out->data, r->data,
                                    (int)r->len);
}

typedef void (*runner)(const struct request *, struct fce_buf *);

/* Events per second of one runner over the corpus, best of three runs of
 * about a third of a second each. */
static double measure(const struct corpus *corpus, runner run)
{
    struct fce_buf out = FCE_BUF_INIT;
    double best = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t events = 0;
        double start = now(), elapsed;
        do {
            for (size_t i = 0; i < corpus->count; i++)
                run(&corpus->items[i], &out);
            events += corpus->count;
            elapsed = now() - start;
        } while (elapsed < 0.33);
        double rate = (double)events / elapsed;
        if (rate > best)
            best = rate;
    }
    fce_buf_free(&out);
    return best;
}

int main(void)
{
    struct corpus all = {0}, big = {0};
    if (load(&all, &big) < 0) {
        fprintf(stderr, "bench-encode: cannot read tests/data/corpus; run "
                        "from the top of the source tree or set FCE_TOP\n");
        return 1;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < all.count; i++)
        bytes += all.items[i].len;
    printf("# corpus mix: %zu requests, %zu bytes; %zu above 1 KiB\n",
           all.count, bytes, big.count);

    double big_ours = measure(&big, run_ours);
    double big_cjson = measure(&big, run_cjson);
    double big_floor = measure(&big, run_floor);
    printf("bench encode >1KiB: ours=%.0f peer=cjson %.0f floor=base64 %.0f "
           "events/s ours/floor=%.2f\n",
           big_ours, big_cjson, big_floor, big_ours / big_floor);

    double ours = measure(&all, run_ours);
    double cjson = measure(&all, run_cjson);
    double floor_rate = measure(&all, run_floor);
    printf("bench encode floor: base64 (EVP_EncodeBlock) alone %.0f "
           "events/s\n",
           floor_rate);
    printf("bench encode: ours=%.0f peer=cjson %.0f ratio=%.2f\n", ours, cjson,
           ours / cjson);
    return sink == 0;
}
