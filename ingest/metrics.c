/* Counters of ingest and the Prometheus text of /metrics. */
#include "ingest.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fce_ring.h"
#include "fce_stats.h"

static const int status_codes[] = {
#define X(code) code,
    INGEST_STATUS_CODES
#undef X
};

static const char *const reason_names[] = {
#define X(name) #name,
    INGEST_REASONS
#undef X
};

static const char *const route_paths[ROUTE_COUNT] = {
    "/api/v1/events/workflows",
    "/api/v1/events/nodes",
    "/api/v1/events/tasks",
    "/healthz",
    "/readyz",
    "/metrics",
    "stream",
    "other",
};

const char *metrics_reason_name(enum ingest_reason reason)
{
    return reason < REASON_COUNT ? reason_names[reason] : "none";
}

static size_t status_index(int status)
{
    for (size_t i = 1; i < INGEST_STATUS_COUNT; i++)
        if (status_codes[i] == status)
            return i;
    return 0;
}

void metrics_count_rejection(struct ingest *ingest, enum ingest_reason reason)
{
    if (reason < REASON_COUNT)
        ingest->metrics.rejections[reason]++;
}

void metrics_count_response(struct ingest *ingest, enum ingest_route route,
                            int status, enum ingest_reason reason)
{
    ingest->metrics.requests[route][status_index(status)]++;
    metrics_count_rejection(ingest, reason);
}

static void render_requests(const struct ingest_metrics *m, struct fce_buf *out)
{
    fce_buf_append_str(out,
                       "# HELP fce_ingest_requests_total Requests answered, "
                       "by path and status; stream frames count under "
                       "path=\"stream\" with the HTTP status of their ack.\n"
                       "# TYPE fce_ingest_requests_total counter\n");
    for (size_t route = 0; route < ROUTE_COUNT; route++) {
        for (size_t s = 0; s < INGEST_STATUS_COUNT; s++) {
            /* Event routes always show their 200 series, so rates work
             * from the first scrape. */
            bool always = route <= ROUTE_TASKS && status_codes[s] == 200;
            if (!m->requests[route][s] && !always)
                continue;
            fce_buf_printf(out,
                           "fce_ingest_requests_total{path=\"%s\","
                           "status=\"%d\"} %llu\n",
                           route_paths[route], status_codes[s],
                           (unsigned long long)m->requests[route][s]);
        }
    }

    fce_buf_append_str(out, "# HELP fce_ingest_rejections_total Requests and "
                            "frames rejected, by reason.\n"
                            "# TYPE fce_ingest_rejections_total counter\n");
    for (size_t r = 0; r < REASON_COUNT; r++)
        fce_buf_printf(out, "fce_ingest_rejections_total{reason=\"%s\"} %llu\n",
                       reason_names[r], (unsigned long long)m->rejections[r]);

    fce_buf_append_str(out,
                       "# HELP fce_ingest_events_total Events committed to "
                       "the ingest ring, by kind.\n"
                       "# TYPE fce_ingest_events_total counter\n");
    for (int kind = FCE_KIND_WORKFLOW; kind <= FCE_KIND_TASK; kind++)
        fce_buf_printf(out, "fce_ingest_events_total{kind=\"%s\"} %llu\n",
                       fce_kind_name((enum fce_kind)kind),
                       (unsigned long long)m->events[kind]);
}

static void render_scalar(struct fce_buf *out, const char *name,
                          const char *type, const char *help, uint64_t value)
{
    fce_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help,
                   name, type, name, (unsigned long long)value);
}

static void render_process(const struct ingest *ingest, struct fce_buf *out)
{
    const struct ingest_metrics *m = &ingest->metrics;
    render_scalar(out, "fce_ingest_received_bytes_total", "counter",
                  "Bytes received on every connection.", m->bytes_received);
    render_scalar(out, "fce_ingest_sent_bytes_total", "counter",
                  "Bytes sent on every connection.", m->bytes_sent);
    render_scalar(out, "fce_ingest_event_bytes_total", "counter",
                  "Request bytes committed to the ingest ring.",
                  m->event_bytes);
    render_scalar(out, "fce_ingest_connections_accepted_total", "counter",
                  "Connections accepted.", m->connections_accepted);
    render_scalar(out, "fce_ingest_connections_open", "gauge",
                  "Connections open now.", m->connections_open);
    render_scalar(out, "fce_ingest_stream_connections_total", "counter",
                  "Connections that spoke the stream protocol.",
                  m->stream_connections);
    render_scalar(out, "fce_ingest_idle_closed_total", "counter",
                  "Connections closed after the idle timeout.", m->idle_closed);
    render_scalar(out, "fce_ingest_ready", "gauge",
                  "1 once the ingest ring is attached.", ingest->ring != NULL);
    fce_buf_printf(out,
                   "# HELP fce_ingest_info The I/O loop in use.\n"
                   "# TYPE fce_ingest_info gauge\n"
                   "fce_ingest_info{io=\"%s\"} 1\n",
                   ingest->io_name ? ingest->io_name : "none");
}

/* ---- rings and stats files of the pipeline ---- */

struct ring_row {
    char name[64];
    struct fce_ring_info info;
};

static void ring_name(const char *path, char *name, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".ring") == 0)
        len -= 5;
    snprintf(name, size, "%.*s", (int)len, base);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists files in dir whose names end in suffix, sorted. */
static size_t list_files(const char *dir, const char *suffix, char ***names)
{
    *names = NULL;
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d)
        return 0;
    size_t count = 0, cap = 0, suffix_len = strlen(suffix);
    struct dirent *entry;
    while ((entry = readdir(d))) {
        size_t len = strlen(entry->d_name);
        if (len <= suffix_len ||
            strcmp(entry->d_name + len - suffix_len, suffix) != 0)
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(*names, cap * sizeof(char *));
            if (!grown)
                break;
            *names = grown;
        }
        (*names)[count] = malloc(strlen(dir) + len + 2);
        if (!(*names)[count])
            break;
        sprintf((*names)[count], "%s/%s", dir, entry->d_name);
        count++;
    }
    closedir(d);
    if (count > 1)
        qsort(*names, count, sizeof(char *), compare_names);
    return count;
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

#define RING_FIELDS                                                            \
    X(capacity_bytes, gauge, capacity, "Bytes of room for records.")           \
    X(used_bytes, gauge, used, "Bytes of records not yet released.")           \
    X(records_in_total, counter, records_in, "Records committed.")             \
    X(records_out_total, counter, records_out, "Records released.")            \
    X(bytes_in_total, counter, bytes_in, "Record bytes committed.")            \
    X(bytes_out_total, counter, bytes_out, "Record bytes released.")           \
    X(full_total, counter, times_full, "Reservations that found no room.")     \
    X(producer_waits_total, counter, producer_waits,                           \
      "Times the producer slept.")                                             \
    X(consumer_waits_total, counter, consumer_waits,                           \
      "Times the consumer slept.")

static void render_ring_rows(const struct ring_row *rows, size_t count,
                             struct fce_buf *out)
{
#define X(suffix, type, field, help)                                           \
    fce_buf_printf(out, "# HELP fce_ring_" #suffix " " help                    \
                        "\n# TYPE fce_ring_" #suffix " " #type "\n");          \
    for (size_t i = 0; i < count; i++)                                         \
        fce_buf_printf(out, "fce_ring_" #suffix "{ring=\"%s\"} %llu\n",        \
                       rows[i].name, (unsigned long long)rows[i].info.field);
    RING_FIELDS
#undef X

    fce_buf_append_str(out, "# HELP fce_ring_fill_ratio Used share of the "
                            "capacity, 0 to 1.\n"
                            "# TYPE fce_ring_fill_ratio gauge\n");
    for (size_t i = 0; i < count; i++) {
        double capacity = (double)rows[i].info.capacity;
        fce_buf_printf(
            out, "fce_ring_fill_ratio{ring=\"%s\"} %.6f\n", rows[i].name,
            capacity > 0 ? (double)rows[i].info.used / capacity : 0.0);
    }
}

static void render_rings(const struct ingest *ingest, struct fce_buf *out)
{
    char **paths;
    size_t count = list_files(ingest->ring_directory, ".ring", &paths);
    struct ring_row *rows = calloc(count + 1, sizeof(*rows));
    size_t n = 0;
    if (!rows)
        goto cleanup;

    char own[64];
    ring_name(ingest->ring_path, own, sizeof(own));
    if (ingest->ring) {
        snprintf(rows[n].name, sizeof(rows[n].name), "%s", own);
        fce_ring_info(ingest->ring, &rows[n++].info);
    }
    for (size_t i = 0; i < count; i++) {
        char err[128];
        ring_name(paths[i], rows[n].name, sizeof(rows[n].name));
        if (ingest->ring && strcmp(rows[n].name, own) == 0)
            continue;
        if (fce_ring_inspect(paths[i], &rows[n].info, err, sizeof(err)) == 0)
            n++;
    }
    render_ring_rows(rows, n, out);

cleanup:
    free(rows);
    free_names(paths, count);
}

/* Prometheus metric names allow [a-zA-Z0-9_:]; stats names are already
 * lowercase, digits and '_', so anything else is replaced. */
static void sanitize(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++) {
        char c = in[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

static bool name_printed_before(struct fce_stats_snapshot *snaps, size_t snap,
                                size_t entry)
{
    const char *name = snaps[snap].entries[entry].name;
    for (size_t s = 0; s <= snap; s++) {
        size_t limit = s == snap ? entry : snaps[s].count;
        for (size_t e = 0; e < limit; e++)
            if (strcmp(snaps[s].entries[e].name, name) == 0)
                return true;
    }
    return false;
}

/* Prints every counter of every other process's stats file, grouped by
 * counter name as the text format requires: fce_stats_NAME{process=...}. */
static void render_snapshots(struct fce_stats_snapshot *snaps, size_t count,
                             struct fce_buf *out)
{
    fce_buf_append_str(out, "# HELP fce_process_updated_unix_ms When each "
                            "process last touched its stats file.\n"
                            "# TYPE fce_process_updated_unix_ms gauge\n");
    for (size_t s = 0; s < count; s++)
        fce_buf_printf(
            out, "fce_process_updated_unix_ms{process=\"%s\"} %llu\n",
            snaps[s].process, (unsigned long long)snaps[s].updated_unix_ms);

    for (size_t s = 0; s < count; s++) {
        for (size_t e = 0; e < snaps[s].count; e++) {
            if (name_printed_before(snaps, s, e))
                continue;
            char name[FCE_STATS_NAME_MAX + 1];
            sanitize(snaps[s].entries[e].name, name, sizeof(name));
            fce_buf_printf(out, "# TYPE fce_stats_%s untyped\n", name);
            for (size_t t = s; t < count; t++)
                for (size_t f = 0; f < snaps[t].count; f++)
                    if (strcmp(snaps[t].entries[f].name,
                               snaps[s].entries[e].name) == 0)
                        fce_buf_printf(
                            out, "fce_stats_%s{process=\"%s\"} %llu\n", name,
                            snaps[t].process,
                            (unsigned long long)snaps[t].entries[f].value);
        }
    }
}

static void render_stats_files(const struct ingest *ingest, struct fce_buf *out)
{
    char **paths;
    size_t count = list_files(ingest->stats_directory, ".stats", &paths);
    struct fce_stats_snapshot *snaps =
        calloc(count ? count : 1, sizeof(*snaps));
    size_t n = 0;
    for (size_t i = 0; snaps && i < count; i++) {
        char err[128];
        if (fce_stats_read(paths[i], &snaps[n], err, sizeof(err)) < 0)
            continue;
        if (strcmp(snaps[n].process, "ingest") == 0)
            continue; /* this process: its own series are above */
        n++;
    }
    if (snaps && n > 0)
        render_snapshots(snaps, n, out);
    free(snaps);
    free_names(paths, count);
}

int metrics_render(struct ingest *ingest, struct fce_buf *out)
{
    render_requests(&ingest->metrics, out);
    render_process(ingest, out);
    render_rings(ingest, out);
    render_stats_files(ingest, out);
    /* fce_buf appends fail only when memory runs out; check once. */
    return out->data ? 0 : -ENOMEM;
}

/* ---- the stats file ---- */

struct published {
    const char *name;
    size_t offset;
};

#define PUBLISHED(field)                                                       \
    {                                                                          \
#field, offsetof(struct ingest_metrics, field)                         \
    }
static const struct published published[] = {
    PUBLISHED(bytes_received),   PUBLISHED(bytes_sent),
    PUBLISHED(event_bytes),      PUBLISHED(connections_accepted),
    PUBLISHED(connections_open), PUBLISHED(stream_connections),
    PUBLISHED(idle_closed),
};
#define PUBLISHED_COUNT (sizeof(published) / sizeof(published[0]))

static uint64_t total_rejections(const struct ingest_metrics *m)
{
    uint64_t total = 0;
    for (size_t r = 0; r < REASON_COUNT; r++)
        total += m->rejections[r];
    return total;
}

void metrics_publish(struct ingest *ingest)
{
    static uint64_t *slots[PUBLISHED_COUNT + FCE_KIND_COUNT + 1];
    struct ingest_metrics *m = &ingest->metrics;
    if (!ingest->stats)
        return;
    if (!slots[0]) {
        for (size_t i = 0; i < PUBLISHED_COUNT; i++)
            slots[i] = fce_stats_counter(ingest->stats, published[i].name);
        slots[PUBLISHED_COUNT] =
            fce_stats_counter(ingest->stats, "events_workflow");
        slots[PUBLISHED_COUNT + 1] =
            fce_stats_counter(ingest->stats, "events_node");
        slots[PUBLISHED_COUNT + 2] =
            fce_stats_counter(ingest->stats, "events_task");
        slots[PUBLISHED_COUNT + 3] =
            fce_stats_counter(ingest->stats, "rejections");
    }
    for (size_t i = 0; i < PUBLISHED_COUNT; i++)
        fce_stats_set(slots[i], *(uint64_t *)((char *)m + published[i].offset));
    for (int kind = FCE_KIND_WORKFLOW; kind <= FCE_KIND_TASK; kind++)
        fce_stats_set(slots[PUBLISHED_COUNT + kind - 1], m->events[kind]);
    fce_stats_set(slots[PUBLISHED_COUNT + 3], total_rejections(m));
    fce_stats_touch(ingest->stats);
}
