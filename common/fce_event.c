/*
 * Validation of event requests. fce_pb_scan() checks the wire bytes and
 * names any problem. Then protobuf-c decodes them into an arena, which
 * replaces one malloc per field with a few per request, and the id and
 * the partition key are built from the decoded identifiers.
 */
#include "fce_event.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fce_buf.h"
#include "fce_pbscan.h"
#include "fce_text.h"
#include "flyteidl/admin/event.pb-c.h"

/* ---- kinds ---- */

static const char *const kind_names[] = {NULL, "workflow", "node", "task"};
static const char *const request_names[] = {
    NULL,
    "flyteidl.admin.WorkflowExecutionEventRequest",
    "flyteidl.admin.NodeExecutionEventRequest",
    "flyteidl.admin.TaskExecutionEventRequest",
};

static bool kind_valid(enum fce_kind kind)
{
    return kind >= FCE_KIND_WORKFLOW && kind <= FCE_KIND_TASK;
}

const char *fce_kind_name(enum fce_kind kind)
{
    return kind_valid(kind) ? kind_names[kind] : NULL;
}

const char *fce_kind_request_name(enum fce_kind kind)
{
    return kind_valid(kind) ? request_names[kind] : NULL;
}

int fce_kind_parse(const char *text, enum fce_kind *kind)
{
    for (int k = FCE_KIND_WORKFLOW; k <= FCE_KIND_TASK; k++) {
        if (text && strcmp(text, kind_names[k]) == 0) {
            *kind = (enum fce_kind)k;
            return 0;
        }
    }
    return -EINVAL;
}

static const ProtobufCMessageDescriptor *request_descriptor(enum fce_kind kind)
{
    switch (kind) {
    case FCE_KIND_WORKFLOW:
        return &flyteidl__admin__workflow_execution_event_request__descriptor;
    case FCE_KIND_NODE:
        return &flyteidl__admin__node_execution_event_request__descriptor;
    case FCE_KIND_TASK:
        return &flyteidl__admin__task_execution_event_request__descriptor;
    }
    return NULL;
}

/* ---- an arena for protobuf-c ---- */

#define ARENA_INLINE 4096
#define ARENA_CHUNK  16384
#define ARENA_ALIGN  16

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    _Alignas(ARENA_ALIGN) unsigned char bytes[];
};

struct arena {
    struct arena_chunk *chunks; /* on the heap, newest first */
    size_t used;
    bool failed;
    _Alignas(ARENA_ALIGN) unsigned char bytes[ARENA_INLINE];
};

static size_t align_up(size_t size)
{
    return (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static void *arena_alloc(void *data, size_t size)
{
    struct arena *arena = data;
    size = align_up(size ? size : 1);
    if (size <= ARENA_INLINE - arena->used) {
        void *p = arena->bytes + arena->used;
        arena->used += size;
        return p;
    }

    struct arena_chunk *chunk = arena->chunks;
    if (chunk && size <= chunk->size - chunk->used) {
        void *p = chunk->bytes + chunk->used;
        chunk->used += size;
        return p;
    }

    size_t chunk_size = size > ARENA_CHUNK ? size : ARENA_CHUNK;
    chunk = malloc(sizeof(*chunk) + chunk_size);
    if (!chunk) {
        arena->failed = true;
        return NULL;
    }
    chunk->size = chunk_size;
    chunk->used = size;
    chunk->next = arena->chunks;
    arena->chunks = chunk;
    return chunk->bytes;
}

/* Memory is given back all at once by arena_release(). */
static void arena_free(void *data, void *pointer) {}

static void arena_release(struct arena *arena)
{
    while (arena->chunks) {
        struct arena_chunk *next = arena->chunks->next;
        free(arena->chunks);
        arena->chunks = next;
    }
}

/* ---- attributes ---- */

__attribute__((format(printf, 3, 4))) static int
reject(char *err, size_t err_size, const char *format, ...)
{
    if (err_size) {
        va_list args;
        va_start(args, format);
        vsnprintf(err, err_size, format, args);
        va_end(args);
    }
    return -EINVAL;
}

/* ---- identity checks ---- */

/*
 * Whether text holds a C0 control character, DEL or a C1 control
 * character (U+0080..U+009F, encoded as C2 80..C2 9F). The wire scan has
 * already checked that strings are valid UTF-8.
 */
static bool has_control(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return true;
    }
    return false;
}

static bool is_empty(const char *text)
{
    return !text || !text[0];
}

/*
 * Checks an execution identifier as FlyteAdmin does: project, domain and
 * name are set, and no part holds control characters, which no Flyte name
 * contains and which would end up in the id and the partition key.
 */
static int
check_execution(const Flyteidl__Core__WorkflowExecutionIdentifier *id,
                const char *path, char *err, size_t err_size)
{
    const char *const parts[] = {"project", "domain", "name", "org"};
    const char *const values[] = {id->project, id->domain, id->name, id->org};

    for (size_t i = 0; i < 4; i++) {
        /* org is optional: deployments without organizations leave it. */
        if (i < 3 && is_empty(values[i]))
            return reject(err, err_size, "%s.%s is empty", path, parts[i]);
        if (values[i] && has_control(values[i]))
            return reject(err, err_size, "%s.%s contains a control character",
                          path, parts[i]);
    }
    return 0;
}

static int
check_node_execution(const Flyteidl__Core__NodeExecutionIdentifier *id,
                     const char *path, char *err, size_t err_size)
{
    char sub[96];

    if (is_empty(id->node_id))
        return reject(err, err_size, "%s.node_id is empty", path);
    snprintf(sub, sizeof(sub), "%s.execution_id", path);
    return check_execution(id->execution_id, sub, err, err_size);
}

static int check_task(const Flyteidl__Core__Identifier *id, char *err,
                      size_t err_size)
{
    const char *const parts[] = {"project", "domain", "name", "version"};
    const char *const values[] = {id->project, id->domain, id->name,
                                  id->version};

    for (size_t i = 0; i < 4; i++)
        if (is_empty(values[i]))
            return reject(err, err_size, "event.task_id.%s is empty", parts[i]);
    return 0;
}

static void set_time(struct fce_event *event,
                     const Google__Protobuf__Timestamp *occurred_at)
{
    event->has_time = occurred_at != NULL;
    event->seconds = occurred_at ? occurred_at->seconds : 0;
    event->nanos = occurred_at ? occurred_at->nanos : 0;
}

static int append_phase(struct fce_buf *id,
                        const ProtobufCEnumDescriptor *phases, int phase)
{
    int rc = fce_buf_append(id, ".", 1);
    return rc < 0 ? rc : fce_text_append_enum(id, phases, phase);
}

/* Appends NUL, then project/domain/name and NUL, after the id in buf. */
static int append_partition_key(
    struct fce_buf *buf,
    const Flyteidl__Core__WorkflowExecutionIdentifier *execution,
    size_t *key_offset)
{
    int rc = fce_buf_append(buf, "", 1);
    *key_offset = buf->len;
    if (rc == 0)
        rc = fce_buf_printf(buf, "%s/%s/%s", execution->project,
                            execution->domain, execution->name);
    if (rc == 0)
        rc = fce_buf_append(buf, "", 1);
    return rc;
}

static int
workflow_id(const Flyteidl__Admin__WorkflowExecutionEventRequest *request,
            struct fce_event *event, struct fce_buf *id, size_t *key_offset,
            char *err, size_t err_size)
{
    const Flyteidl__Event__WorkflowExecutionEvent *ev = request->event;
    if (!ev)
        return reject(err, err_size,
                      "event missing: the request has no event (field 2)");
    if (!ev->execution_id)
        return reject(err, err_size,
                      "execution id missing: event.execution_id is not set");
    int rc =
        check_execution(ev->execution_id, "event.execution_id", err, err_size);
    if (rc < 0)
        return rc;

    event->phase = ev->phase;
    set_time(event, ev->occurred_at);
    rc = fce_text_append_message(id, &ev->execution_id->base);
    if (rc == 0)
        rc = append_phase(
            id, &flyteidl__core__workflow_execution__phase__descriptor,
            ev->phase);
    if (rc == 0)
        rc = append_partition_key(id, ev->execution_id, key_offset);
    return rc;
}

static int node_id(const Flyteidl__Admin__NodeExecutionEventRequest *request,
                   struct fce_event *event, struct fce_buf *id,
                   size_t *key_offset, char *err, size_t err_size)
{
    const Flyteidl__Event__NodeExecutionEvent *ev = request->event;
    if (!ev)
        return reject(err, err_size,
                      "event missing: the request has no event (field 2)");
    if (!ev->id)
        return reject(err, err_size,
                      "node id missing: event.id (the node execution id) is "
                      "not set");
    if (!ev->id->execution_id)
        return reject(err, err_size,
                      "execution id missing: event.id.execution_id is not "
                      "set");
    int rc = check_node_execution(ev->id, "event.id", err, err_size);
    if (rc < 0)
        return rc;

    event->phase = ev->phase;
    set_time(event, ev->occurred_at);
    rc = fce_text_append_message(id, &ev->id->base);
    if (rc == 0 && ev->retry_group && ev->retry_group[0]) {
        rc = fce_buf_append_str(id, " retry_group:");
        if (rc == 0)
            rc = fce_text_append_string(id, ev->retry_group,
                                        strlen(ev->retry_group));
    }
    if (rc == 0)
        rc = append_phase(
            id, &flyteidl__core__node_execution__phase__descriptor, ev->phase);
    if (rc == 0)
        rc = append_partition_key(id, ev->id->execution_id, key_offset);
    return rc;
}

static int task_id(const Flyteidl__Admin__TaskExecutionEventRequest *request,
                   struct fce_event *event, struct fce_buf *id,
                   size_t *key_offset, char *err, size_t err_size)
{
    const Flyteidl__Event__TaskExecutionEvent *ev = request->event;
    if (!ev)
        return reject(err, err_size,
                      "event missing: the request has no event (field 2)");
    if (!ev->task_id)
        return reject(err, err_size,
                      "task id missing: event.task_id is not set");
    if (!ev->parent_node_execution_id)
        return reject(err, err_size,
                      "parent node execution id missing: "
                      "event.parent_node_execution_id is not set");
    if (!ev->parent_node_execution_id->execution_id)
        return reject(err, err_size,
                      "execution id missing: "
                      "event.parent_node_execution_id.execution_id is not "
                      "set");
    int rc = check_task(ev->task_id, err, err_size);
    if (rc == 0)
        rc = check_node_execution(ev->parent_node_execution_id,
                                  "event.parent_node_execution_id", err,
                                  err_size);
    if (rc < 0)
        return rc;

    event->phase = ev->phase;
    set_time(event, ev->occurred_at);

    /* The identity is a TaskExecutionIdentifier built from three fields of
     * the event, printed as that message would print. */
    Flyteidl__Core__TaskExecutionIdentifier identity;
    flyteidl__core__task_execution_identifier__init(&identity);
    identity.task_id = ev->task_id;
    identity.node_execution_id = ev->parent_node_execution_id;
    identity.retry_attempt = ev->retry_attempt;

    rc = fce_text_append_message(id, &identity.base);
    if (rc == 0)
        rc = append_phase(
            id, &flyteidl__core__task_execution__phase__descriptor, ev->phase);
    if (rc == 0 && ev->phase_version)
        rc = fce_buf_printf(id, ".%u", (unsigned)ev->phase_version);
    if (rc == 0)
        rc = append_partition_key(
            id, ev->parent_node_execution_id->execution_id, key_offset);
    return rc;
}

static int extract(enum fce_kind kind, const ProtobufCMessage *request,
                   struct fce_event *event, struct fce_buf *id,
                   size_t *key_offset, char *err, size_t err_size)
{
    switch (kind) {
    case FCE_KIND_WORKFLOW:
        return workflow_id(
            (const Flyteidl__Admin__WorkflowExecutionEventRequest *)request,
            event, id, key_offset, err, err_size);
    case FCE_KIND_NODE:
        return node_id(
            (const Flyteidl__Admin__NodeExecutionEventRequest *)request, event,
            id, key_offset, err, err_size);
    case FCE_KIND_TASK:
        return task_id(
            (const Flyteidl__Admin__TaskExecutionEventRequest *)request, event,
            id, key_offset, err, err_size);
    }
    return -EINVAL;
}

int fce_event_parse(enum fce_kind kind, const uint8_t *data, size_t len,
                    struct fce_event *event, char *err, size_t err_size)
{
    const ProtobufCMessageDescriptor *descriptor = request_descriptor(kind);
    if (!descriptor)
        return reject(err, err_size,
                      "invalid kind %d: expected workflow (1), node (2) or "
                      "task (3)",
                      (int)kind);
    int rc = fce_pb_scan(descriptor, data, len, err, err_size);
    if (rc < 0)
        return rc;

    struct arena arena;
    arena.chunks = NULL;
    arena.used = 0;
    arena.failed = false;
    ProtobufCAllocator allocator = {arena_alloc, arena_free, &arena};
    struct fce_buf id = FCE_BUF_INIT;
    size_t key_offset = 0;

    ProtobufCMessage *request =
        protobuf_c_message_unpack(descriptor, &allocator, len, data);
    if (!request) {
        rc = arena.failed ? -ENOMEM
                          : reject(err, err_size,
                                   "malformed message: protobuf-c could not "
                                   "decode the %s",
                                   request_names[kind]);
        if (rc == -ENOMEM)
            reject(err, err_size, "out of memory decoding the request");
        goto cleanup;
    }

    memset(event, 0, sizeof(*event));
    event->kind = kind;
    rc = extract(kind, request, event, &id, &key_offset, err, err_size);
    if (rc == -ENOMEM)
        reject(err, err_size, "out of memory building the event id");
    if (rc < 0)
        goto cleanup;

    /* One allocation contains the id, a NUL, the partition key and a NUL. */
    event->id = id.data;
    event->id_len = key_offset - 1;
    event->partition_key = id.data + key_offset;
    event->partition_key_len = id.len - key_offset - 1;
    id = (struct fce_buf)FCE_BUF_INIT;

cleanup:
    if (rc < 0)
        memset(event, 0, sizeof(*event));
    fce_buf_free(&id);
    arena_release(&arena);
    return rc;
}

void fce_event_clear(struct fce_event *event)
{
    /* partition_key lives in the same allocation as id. */
    free(event->id);
    memset(event, 0, sizeof(*event));
}

/* ---- the ingest record ---- */

/*
 * Layout, little-endian:
 *   0  u32 magic "FEV1"     4  i32 phase        8  i64 seconds
 *   16 i32 nanos            20 u32 flags (bit 0: has_time)
 *   24 u32 id_len           28 u32 partition_key_len
 *   32 u32 data_len         36 u32 reserved (0)
 *   40 id, partition key, request bytes
 */
#define RECORD_MAGIC    0x31564546u /* "FEV1" read as little-endian */
#define RECORD_HEADER   40u
#define RECORD_HAS_TIME 1u

static void put_u32(unsigned char *p, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(value >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t value)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(value >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

size_t fce_event_record_size(const struct fce_event *event, size_t data_len)
{
    return RECORD_HEADER + event->id_len + event->partition_key_len + data_len;
}

void fce_event_record_write(void *dst, const struct fce_event *event,
                            const uint8_t *data, size_t data_len)
{
    unsigned char *p = dst;
    put_u32(p, RECORD_MAGIC);
    put_u32(p + 4, (uint32_t)event->phase);
    put_u64(p + 8, (uint64_t)event->seconds);
    put_u32(p + 16, (uint32_t)event->nanos);
    put_u32(p + 20, event->has_time ? RECORD_HAS_TIME : 0);
    put_u32(p + 24, (uint32_t)event->id_len);
    put_u32(p + 28, (uint32_t)event->partition_key_len);
    put_u32(p + 32, (uint32_t)data_len);
    put_u32(p + 36, 0);

    p += RECORD_HEADER;
    memcpy(p, event->id, event->id_len);
    p += event->id_len;
    memcpy(p, event->partition_key, event->partition_key_len);
    p += event->partition_key_len;
    if (data_len)
        memcpy(p, data, data_len);
}

int fce_event_record_read(const void *src, size_t len, enum fce_kind kind,
                          struct fce_event_view *view)
{
    const unsigned char *p = src;
    if (!kind_valid(kind) || len < RECORD_HEADER || get_u32(p) != RECORD_MAGIC)
        return -EPROTO;

    uint32_t flags = get_u32(p + 20);
    uint64_t id_len = get_u32(p + 24);
    uint64_t key_len = get_u32(p + 28);
    uint64_t data_len = get_u32(p + 32);
    int32_t nanos = (int32_t)get_u32(p + 16);
    int64_t seconds = (int64_t)get_u64(p + 8);
    if (flags & ~RECORD_HAS_TIME || id_len == 0 ||
        RECORD_HEADER + id_len + key_len + data_len != len)
        return -EPROTO;
    if (nanos < 0 || nanos > 999999999 || seconds < FCE_TIMESTAMP_SECONDS_MIN ||
        seconds > FCE_TIMESTAMP_SECONDS_MAX)
        return -EPROTO;

    view->kind = kind;
    view->phase = (int32_t)get_u32(p + 4);
    view->has_time = flags & RECORD_HAS_TIME;
    view->seconds = seconds;
    view->nanos = nanos;
    view->id = (const char *)p + RECORD_HEADER;
    view->id_len = id_len;
    view->partition_key = view->id + id_len;
    view->partition_key_len = key_len;
    view->data = (const uint8_t *)view->partition_key + key_len;
    view->data_len = data_len;
    return 0;
}
