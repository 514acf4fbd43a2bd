/* Unit tests of common/fce_event.c, common/fce_pbscan.c and the text
 * format of ids (common/fce_text.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corpus.h"
#include "fce_buf.h"
#include "fce_ce.h"
#include "fce_event.h"
#include "fce_text.h"
#include "flyteidl/admin/event.pb-c.h"

/* ---- helpers ---- */

static char *text_of(const char *input, size_t len)
{
    struct fce_buf buf = FCE_BUF_INIT;
    assert_int_equal(fce_text_append_string(&buf, input, len), 0);
    assert_int_equal(fce_buf_append(&buf, "", 1), 0);
    return buf.data;
}

static void expect_text(const char *input, size_t len, const char *expected)
{
    char *text = text_of(input, len);
    assert_string_equal(text, expected);
    free(text);
}

static uint8_t *pack(const ProtobufCMessage *message, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(message);
    uint8_t *data = malloc(*len ? *len : 1);
    assert_non_null(data);
    assert_int_equal(protobuf_c_message_pack(message, data), *len);
    return data;
}

static int parse(enum fce_kind kind, const uint8_t *data, size_t len,
                 struct fce_event *event, char *err, size_t err_size)
{
    memset(event, 0, sizeof(*event));
    return fce_event_parse(kind, data, len, event, err, err_size);
}

/* Expects data to be rejected with an error that contains reason. */
static void expect_reject(enum fce_kind kind, const uint8_t *data, size_t len,
                          const char *reason)
{
    struct fce_event event;
    char err[256] = "";
    int rc = parse(kind, data, len, &event, err, sizeof(err));
    if (rc != -EINVAL || !strstr(err, reason))
        fail_msg("expected rejection naming \"%s\", got rc=%d err=\"%s\"",
                 reason, rc, err);
    assert_null(event.id);
}

static char *accept_id(enum fce_kind kind, const uint8_t *data, size_t len)
{
    struct fce_event event;
    char err[256] = "";
    int rc = parse(kind, data, len, &event, err, sizeof(err));
    if (rc != 0)
        fail_msg("expected the request to be valid, got: %s", err);
    char *id = strdup(event.id);
    fce_event_clear(&event);
    return id;
}

/* A valid workflow request; callers change fields before packing. */
struct workflow_request {
    Flyteidl__Admin__WorkflowExecutionEventRequest request;
    Flyteidl__Event__WorkflowExecutionEvent event;
    Flyteidl__Core__WorkflowExecutionIdentifier execution;
    Google__Protobuf__Timestamp occurred_at;
    Flyteidl__Core__ExecutionError error;
    Google__Protobuf__Timestamp error_time;
};

static void workflow_init(struct workflow_request *w)
{
    flyteidl__admin__workflow_execution_event_request__init(&w->request);
    flyteidl__event__workflow_execution_event__init(&w->event);
    flyteidl__core__workflow_execution_identifier__init(&w->execution);
    google__protobuf__timestamp__init(&w->occurred_at);
    flyteidl__core__execution_error__init(&w->error);
    google__protobuf__timestamp__init(&w->error_time);
    w->request.event = &w->event;
    w->event.execution_id = &w->execution;
    w->event.occurred_at = &w->occurred_at;
    w->event.phase = FLYTEIDL__CORE__WORKFLOW_EXECUTION__PHASE__RUNNING;
    w->execution.project = "p";
    w->execution.domain = "d";
    w->execution.name = "n";
    w->occurred_at.seconds = 1714590000;
}

/* ---- the text format ---- */

static void text_plain_ascii(void **state)
{
    expect_text("abc XYZ 09-_.:/", 15, "\"abc XYZ 09-_.:/\"");
    expect_text("", 0, "\"\"");
}

static void text_backslash_escapes(void **state)
{
    expect_text("a\"b\\c\nd\re\tf", 11, "\"a\\\"b\\\\c\\nd\\re\\tf\"");
}

static void text_control_bytes_hex(void **state)
{
    expect_text("\x01\x1f\x7f\x00", 4, "\"\\x01\\x1f\\x7f\\x00\"");
    expect_text("\b\f\v", 3, "\"\\x08\\x0c\\x0b\"");
}

static void text_c1_controls_unicode(void **state)
{
    expect_text("\xc2\x80\xc2\x85\xc2\x9f", 6, "\"\\u0080\\u0085\\u009f\"");
    /* U+00A0 is the first code point after C1 and stays as it is. */
    expect_text("\xc2\xa0", 2, "\"\xc2\xa0\"");
}

static void text_utf8_unchanged(void **state)
{
    expect_text("\xc3\xa9t\xc3\xa2pe", 7, "\"\xc3\xa9t\xc3\xa2pe\"");
    expect_text("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
    expect_text("\xe2\x80\xa8", 3, "\"\xe2\x80\xa8\"");
}

static void text_invalid_bytes_hex(void **state)
{
    expect_text("\xff\xfe", 2, "\"\\xff\\xfe\"");
    expect_text("\xc3", 1, "\"\\xc3\"");
    expect_text("\xed\xa0\x80", 3, "\"\\xed\\xa0\\x80\"");
}

static void text_unknown_enum_decimal(void **state)
{
    struct fce_buf buf = FCE_BUF_INIT;
    const ProtobufCEnumDescriptor *phases =
        &flyteidl__core__workflow_execution__phase__descriptor;
    assert_int_equal(fce_text_append_enum(&buf, phases, 42), 0);
    assert_int_equal(fce_text_append_enum(&buf, phases, -3), 0);
    assert_int_equal(fce_text_append_enum(&buf, phases, 0), 0);
    assert_int_equal(fce_text_append_enum(&buf, phases, 9), 0);
    assert_int_equal(fce_buf_append(&buf, "", 1), 0);
    assert_string_equal(buf.data, "42-3UNDEFINEDABORTING");
    fce_buf_free(&buf);
}

/* ---- the corpus ---- */

static void corpus_accepts_match(void **state)
{
    cJSON *manifest = corpus_manifest();
    assert_non_null(manifest);
    const cJSON *entries = cJSON_GetObjectItem(manifest, "entries");
    const cJSON *entry;
    int accepted = 0;
    cJSON_ArrayForEach(entry, entries)
    {
        if (strcmp(corpus_string(entry, "expect"), "accept") != 0)
            continue;
        const char *file = corpus_string(entry, "file");
        const cJSON *attrs = cJSON_GetObjectItem(entry, "attributes");
        enum fce_kind kind;
        assert_int_equal(fce_kind_parse(corpus_string(entry, "kind"), &kind),
                         0);
        size_t len;
        uint8_t *data = corpus_read(file, &len);
        assert_non_null(data);

        struct fce_event event;
        char err[256] = "";
        if (parse(kind, data, len, &event, err, sizeof(err)) != 0)
            fail_msg("%s: rejected: %s", file, err);
        const char *id = corpus_string(attrs, "id");
        if (strcmp(event.id, id) != 0 || event.id_len != strlen(id))
            fail_msg("%s: id\n  got      %s\n  expected %s", file, event.id,
                     id);
        assert_string_equal(event.partition_key,
                            corpus_string(entry, "partition_key"));
        assert_int_equal(event.partition_key_len, strlen(event.partition_key));
        assert_int_equal(event.kind, kind);

        const char *time = corpus_string(attrs, "time");
        assert_int_equal(event.has_time, time != NULL);
        if (time) {
            char text[FCE_CE_TIME_MAX];
            fce_ce_format_time(event.seconds, event.nanos, text);
            if (strcmp(text, time) != 0)
                fail_msg("%s: time %s, expected %s", file, text, time);
        }
        fce_event_clear(&event);
        free(data);
        accepted++;
    }
    assert_int_equal(accepted, 54);
    cJSON_Delete(manifest);
}

static void corpus_rejects_name_reason(void **state)
{
    cJSON *manifest = corpus_manifest();
    assert_non_null(manifest);
    const cJSON *entry;
    int rejected = 0;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItem(manifest, "entries"))
    {
        if (strcmp(corpus_string(entry, "expect"), "reject") != 0)
            continue;
        const char *file = corpus_string(entry, "file");
        enum fce_kind kind;
        assert_int_equal(fce_kind_parse(corpus_string(entry, "kind"), &kind),
                         0);
        size_t len;
        uint8_t *data = corpus_read(file, &len);
        assert_non_null(data);
        struct fce_event event;
        char err[256] = "";
        int rc = parse(kind, data, len, &event, err, sizeof(err));
        const char *reason = corpus_string(entry, "reason");
        if (rc != -EINVAL || !strstr(err, reason))
            fail_msg("%s: expected a rejection naming \"%s\", got rc=%d "
                     "\"%s\"",
                     file, reason, rc, err);
        free(data);
        rejected++;
    }
    assert_int_equal(rejected, 8);
    cJSON_Delete(manifest);
}

/* The schema reads every corpus file: protobuf-c decodes it and the
 * fields the service uses agree with the manifest. */
static void corpus_decodes_with_schema(void **state)
{
    cJSON *manifest = corpus_manifest();
    assert_non_null(manifest);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItem(manifest, "entries"))
    {
        if (strcmp(corpus_string(entry, "expect"), "accept") != 0)
            continue;
        const char *file = corpus_string(entry, "file");
        const char *kind = corpus_string(entry, "kind");
        char key[512];
        size_t len;
        uint8_t *data = corpus_read(file, &len);
        assert_non_null(data);
        const Flyteidl__Core__WorkflowExecutionIdentifier *execution = NULL;
        ProtobufCMessage *message = NULL;
        if (strcmp(kind, "workflow") == 0) {
            Flyteidl__Admin__WorkflowExecutionEventRequest *request =
                flyteidl__admin__workflow_execution_event_request__unpack(
                    NULL, len, data);
            assert_non_null(request);
            assert_non_null(request->event);
            execution = request->event->execution_id;
            message = &request->base;
        } else if (strcmp(kind, "node") == 0) {
            Flyteidl__Admin__NodeExecutionEventRequest *request =
                flyteidl__admin__node_execution_event_request__unpack(NULL, len,
                                                                      data);
            assert_non_null(request);
            assert_non_null(request->event);
            assert_non_null(request->event->id);
            assert_true(
                strstr(corpus_string(cJSON_GetObjectItem(entry, "attributes"),
                                     "id"),
                       "node_id:") != NULL);
            execution = request->event->id->execution_id;
            message = &request->base;
        } else {
            Flyteidl__Admin__TaskExecutionEventRequest *request =
                flyteidl__admin__task_execution_event_request__unpack(NULL, len,
                                                                      data);
            assert_non_null(request);
            assert_non_null(request->event);
            assert_non_null(request->event->task_id);
            assert_non_null(request->event->parent_node_execution_id);
            assert_int_equal(request->event->task_id->resource_type,
                             FLYTEIDL__CORE__RESOURCE_TYPE__TASK);
            execution = request->event->parent_node_execution_id->execution_id;
            message = &request->base;
        }
        assert_non_null(execution);
        snprintf(key, sizeof(key), "%s/%s/%s", execution->project,
                 execution->domain, execution->name);
        assert_string_equal(key, corpus_string(entry, "partition_key"));

        /* Re-encoding keeps every byte, unknown fields included, so the
         * schema knows every field with its right type. The big-input
         * file sets two members of the input_value oneof; the last one
         * wins, so the re-encoded request is shorter. */
        size_t packed_len = protobuf_c_message_get_packed_size(message);
        uint8_t *packed = malloc(packed_len + 1);
        assert_non_null(packed);
        protobuf_c_message_pack(message, packed);
        if (strstr(file, "052-task-big-input") == NULL) {
            if (packed_len != len)
                fail_msg("%s: re-encoded to %zu bytes, read %zu", file,
                         packed_len, len);
            assert_memory_equal(packed, data, len);
        }
        free(packed);
        protobuf_c_message_free_unpacked(message, NULL);
        free(data);
    }
    cJSON_Delete(manifest);
}

/* ---- validation edge cases ---- */

static void workflow_valid_baseline(void **state)
{
    struct workflow_request w;
    workflow_init(&w);
    size_t len;
    uint8_t *data = pack(&w.request.base, &len);
    char *id = accept_id(FCE_KIND_WORKFLOW, data, len);
    assert_string_equal(id, "project:\"p\" domain:\"d\" name:\"n\".RUNNING");
    free(id);
    free(data);
}

static void timestamp_bounds(void **state)
{
    static const struct {
        int64_t seconds;
        int32_t nanos;
        const char *reason; /* NULL: valid */
    } cases[] = {
        {-62135596800LL, 0, NULL},         /* 0001-01-01T00:00:00Z */
        {253402300799LL, 999999999, NULL}, /* 9999-12-31T23:59:59.999... */
        {-62135596801LL, 0, "timestamp out of range"},
        {253402300800LL, 0, "timestamp out of range"},
        {0, -1, "timestamp out of range"},
        {0, 1000000000, "timestamp out of range"},
        {INT64_MIN, 0, "timestamp out of range"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct workflow_request w;
        workflow_init(&w);
        w.occurred_at.seconds = cases[i].seconds;
        w.occurred_at.nanos = cases[i].nanos;
        size_t len;
        uint8_t *data = pack(&w.request.base, &len);
        if (cases[i].reason)
            expect_reject(FCE_KIND_WORKFLOW, data, len, cases[i].reason);
        else
            free(accept_id(FCE_KIND_WORKFLOW, data, len));
        free(data);
    }
}

static void nested_timestamp_checked(void **state)
{
    struct workflow_request w;
    workflow_init(&w);
    w.event.output_result_case =
        FLYTEIDL__EVENT__WORKFLOW_EXECUTION_EVENT__OUTPUT_RESULT_ERROR;
    w.event.error = &w.error;
    w.error.message = "boom";
    w.error.timestamp = &w.error_time;
    w.error_time.nanos = -5;
    size_t len;
    uint8_t *data = pack(&w.request.base, &len);
    expect_reject(FCE_KIND_WORKFLOW, data, len, "event.error.timestamp");
    expect_reject(FCE_KIND_WORKFLOW, data, len, "timestamp out of range");
    free(data);
}

static void nested_string_utf8_checked(void **state)
{
    struct workflow_request w;
    workflow_init(&w);
    w.event.output_result_case =
        FLYTEIDL__EVENT__WORKFLOW_EXECUTION_EVENT__OUTPUT_RESULT_ERROR;
    w.event.error = &w.error;
    w.error.message = "ok \xed\xa0\x80 surrogate";
    size_t len;
    uint8_t *data = pack(&w.request.base, &len);
    expect_reject(FCE_KIND_WORKFLOW, data, len,
                  "invalid UTF-8 in a string field: event.error.message");
    free(data);

    static const char *const bad[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\x80",             /* lone continuation */
        "\xe2\x82",         /* cut-off sequence */
        "\xf8\x88\x80\x80\x80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        workflow_init(&w);
        w.execution.name = (char *)bad[i];
        data = pack(&w.request.base, &len);
        expect_reject(FCE_KIND_WORKFLOW, data, len, "event.execution_id.name");
        free(data);
    }
}

static void bytes_fields_not_utf8_checked(void **state)
{
    struct workflow_request w;
    workflow_init(&w);
    uint8_t opaque[] = {0xff, 0xfe, 0x00, 0x80};
    w.event.output_result_case =
        FLYTEIDL__EVENT__WORKFLOW_EXECUTION_EVENT__OUTPUT_RESULT_OUTPUT_DATA;
    w.event.output_data.data = opaque;
    w.event.output_data.len = sizeof(opaque);
    size_t len;
    uint8_t *data = pack(&w.request.base, &len);
    free(accept_id(FCE_KIND_WORKFLOW, data, len));
    free(data);
}

static void wire_errors_named(void **state)
{
    static const struct {
        const char *name;
        uint8_t bytes[16];
        size_t len;
        const char *reason;
    } cases[] = {
        {"field number 0", {0x02, 0x00}, 2, "invalid field number 0"},
        {"group wire type", {0x13, 0x14}, 2, "unsupported wire type"},
        {"wire type 7", {0x17}, 1, "unsupported wire type"},
        {"tag cut off", {0x80}, 1, "truncated message"},
        {"varint cut off", {0x28, 0x80}, 2, "truncated message"},
        {"fixed64 cut off", {0x29, 1, 2, 3}, 4, "truncated message"},
        {"tenth byte too big",
         {0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
         11,
         "malformed varint"},
        {"request_id as varint",
         {0x08, 0x01},
         2,
         "field 1 has the wrong wire type"},
        {"nested length past parent",
         {0x12, 0x04, 0x0a, 0x05, 0x0a, 0x01, 0x70, 0x00},
         8,
         "length exceeds message"},
        {"string cut off", {0x0a, 0x05, 'a', 'b'}, 4, "truncated message"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("# case: %s\n", cases[i].name);
        expect_reject(FCE_KIND_WORKFLOW, cases[i].bytes, cases[i].len,
                      cases[i].reason);
    }
}

static void unknown_fields_accepted(void **state)
{
    struct workflow_request w;
    workflow_init(&w);
    size_t len;
    uint8_t *data = pack(&w.request.base, &len);
    /* Append unknown field 99 of every supported wire type. */
    uint8_t extra[] = {0x98, 0x06, 0x01,                            /* varint */
                       0x99, 0x06, 1,    2,    3,    4, 5, 6, 7, 8, /* 64-bit */
                       0x9a, 0x06, 0x02, 0xff, 0xfe,                /* bytes */
                       0x9d, 0x06, 1,    2,    3,    4};            /* 32-bit */
    uint8_t *full = malloc(len + sizeof(extra));
    assert_non_null(full);
    memcpy(full, data, len);
    memcpy(full + len, extra, sizeof(extra));
    char *id = accept_id(FCE_KIND_WORKFLOW, full, len + sizeof(extra));
    assert_string_equal(id, "project:\"p\" domain:\"d\" name:\"n\".RUNNING");
    free(id);
    free(full);
    free(data);
}

static void missing_fields_named(void **state)
{
    /* Workflow without event, without execution id. */
    expect_reject(FCE_KIND_WORKFLOW, (const uint8_t *)"", 0, "event missing");
    struct workflow_request w;
    workflow_init(&w);
    w.event.execution_id = NULL;
    size_t len;
    uint8_t *data = pack(&w.request.base, &len);
    expect_reject(FCE_KIND_WORKFLOW, data, len, "execution id missing");
    free(data);

    /* Node without id, and with an id without execution. */
    Flyteidl__Admin__NodeExecutionEventRequest node =
        FLYTEIDL__ADMIN__NODE_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__NodeExecutionEvent node_event =
        FLYTEIDL__EVENT__NODE_EXECUTION_EVENT__INIT;
    Flyteidl__Core__NodeExecutionIdentifier node_id =
        FLYTEIDL__CORE__NODE_EXECUTION_IDENTIFIER__INIT;
    node.event = &node_event;
    data = pack(&node.base, &len);
    expect_reject(FCE_KIND_NODE, data, len, "node id missing");
    free(data);
    node_event.id = &node_id;
    node_id.node_id = "n0";
    data = pack(&node.base, &len);
    expect_reject(FCE_KIND_NODE, data, len, "execution id missing");
    free(data);

    /* Task without task id, then without parent node execution id. */
    Flyteidl__Admin__TaskExecutionEventRequest task =
        FLYTEIDL__ADMIN__TASK_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__TaskExecutionEvent task_event;
    flyteidl__event__task_execution_event__init(&task_event);
    Flyteidl__Core__Identifier task_id = FLYTEIDL__CORE__IDENTIFIER__INIT;
    task.event = &task_event;
    data = pack(&task.base, &len);
    expect_reject(FCE_KIND_TASK, data, len, "task id missing");
    free(data);
    task_event.task_id = &task_id;
    data = pack(&task.base, &len);
    expect_reject(FCE_KIND_TASK, data, len, "parent node execution id missing");
    free(data);
    task_event.parent_node_execution_id = &node_id;
    data = pack(&task.base, &len);
    expect_reject(FCE_KIND_TASK, data, len, "execution id missing");
    free(data);

    expect_reject((enum fce_kind)7, (const uint8_t *)"", 0, "invalid kind 7");
}

/* Packs w as a workflow request and expects it rejected naming reason. */
static void expect_workflow_reject(struct workflow_request *w,
                                   const char *reason)
{
    size_t len;
    uint8_t *data = pack(&w->request.base, &len);
    expect_reject(FCE_KIND_WORKFLOW, data, len, reason);
    free(data);
}

static void workflow_identity_checked(void **state)
{
    /* event {execution_id {} phase: QUEUED}: present but empty. */
    static const uint8_t empty_id[] = {0x12, 0x04, 0x0a, 0x00, 0x18, 0x01};
    expect_reject(FCE_KIND_WORKFLOW, empty_id, sizeof(empty_id),
                  "event.execution_id.project is empty");

    struct workflow_request w;
    workflow_init(&w);
    w.execution.project = "";
    expect_workflow_reject(&w, "event.execution_id.project is empty");
    workflow_init(&w);
    w.execution.domain = "";
    expect_workflow_reject(&w, "event.execution_id.domain is empty");
    workflow_init(&w);
    w.execution.name = "";
    expect_workflow_reject(&w, "event.execution_id.name is empty");

    static const struct {
        const char *value;
        size_t part; /* 0 project, 1 domain, 2 name, 3 org */
        const char *reason;
    } controls[] = {
        {"a\x01", 0, "event.execution_id.project contains a control"},
        {"a\tb", 1, "event.execution_id.domain contains a control"},
        {"a\x7f", 2, "event.execution_id.name contains a control"},
        {"a\xc2\x85", 3, "event.execution_id.org contains a control"},
        {"\xc2\x9f", 0, "event.execution_id.project contains a control"},
    };
    for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
        workflow_init(&w);
        char **parts[] = {&w.execution.project, &w.execution.domain,
                          &w.execution.name, &w.execution.org};
        *parts[controls[i].part] = (char *)controls[i].value;
        expect_workflow_reject(&w, controls[i].reason);
    }

    /* A NUL would end protobuf-c's decoded name, so the wire scan rejects
     * it: event {execution_id {project "p" domain "d" name "a\0b"}}. */
    static const uint8_t nul_name[] = {0x12, 0x0f, 0x0a, 0x0b, 0x0a, 0x01,
                                       'p',  0x12, 0x01, 'd',  0x22, 0x03,
                                       'a',  0x00, 'b',  0x18, 0x01};
    expect_reject(FCE_KIND_WORKFLOW, nul_name, sizeof(nul_name),
                  "event.execution_id.name contains a control character");

    /* U+00A0 follows the C1 range and is an ordinary character. */
    workflow_init(&w);
    w.execution.name = "a\xc2\xa0\xc3\xa9";
    size_t len;
    uint8_t *data = pack(&w.request.base, &len);
    free(accept_id(FCE_KIND_WORKFLOW, data, len));
    free(data);
}

static void node_request_as_workflow_rejected(void **state)
{
    Flyteidl__Admin__NodeExecutionEventRequest node =
        FLYTEIDL__ADMIN__NODE_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__NodeExecutionEvent event =
        FLYTEIDL__EVENT__NODE_EXECUTION_EVENT__INIT;
    Flyteidl__Core__NodeExecutionIdentifier id =
        FLYTEIDL__CORE__NODE_EXECUTION_IDENTIFIER__INIT;
    Flyteidl__Core__WorkflowExecutionIdentifier execution =
        FLYTEIDL__CORE__WORKFLOW_EXECUTION_IDENTIFIER__INIT;
    node.event = &event;
    event.id = &id;
    id.node_id = "start-node";
    id.execution_id = &execution;
    execution.project = "p";
    execution.domain = "d";
    execution.name = "n";

    size_t len;
    uint8_t *data = pack(&node.base, &len);
    free(accept_id(FCE_KIND_NODE, data, len));
    /* As a workflow request, node_id reads as the project and the nested
     * execution id's bytes as the domain. */
    expect_reject(FCE_KIND_WORKFLOW, data, len,
                  "event.execution_id.domain contains a control character");
    free(data);
}

static void node_and_task_identity_checked(void **state)
{
    Flyteidl__Admin__NodeExecutionEventRequest node =
        FLYTEIDL__ADMIN__NODE_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__NodeExecutionEvent node_event =
        FLYTEIDL__EVENT__NODE_EXECUTION_EVENT__INIT;
    Flyteidl__Core__NodeExecutionIdentifier node_id =
        FLYTEIDL__CORE__NODE_EXECUTION_IDENTIFIER__INIT;
    Flyteidl__Core__WorkflowExecutionIdentifier execution =
        FLYTEIDL__CORE__WORKFLOW_EXECUTION_IDENTIFIER__INIT;
    node.event = &node_event;
    node_event.id = &node_id;
    node_id.execution_id = &execution;
    node_id.node_id = "";
    execution.project = "p";
    execution.domain = "d";
    execution.name = "n";
    size_t len;
    uint8_t *data = pack(&node.base, &len);
    expect_reject(FCE_KIND_NODE, data, len, "event.id.node_id is empty");
    free(data);

    /* node_id is free text: quotes, backslashes and tabs are accepted. */
    node_id.node_id = "n\"\\\t";
    execution.name = "";
    data = pack(&node.base, &len);
    expect_reject(FCE_KIND_NODE, data, len,
                  "event.id.execution_id.name is empty");
    free(data);
    execution.name = "n";
    data = pack(&node.base, &len);
    free(accept_id(FCE_KIND_NODE, data, len));
    free(data);

    Flyteidl__Admin__TaskExecutionEventRequest task =
        FLYTEIDL__ADMIN__TASK_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__TaskExecutionEvent task_event;
    flyteidl__event__task_execution_event__init(&task_event);
    Flyteidl__Core__Identifier task_id = FLYTEIDL__CORE__IDENTIFIER__INIT;
    task.event = &task_event;
    task_event.task_id = &task_id;
    task_event.parent_node_execution_id = &node_id;
    task_id.project = "p";
    task_id.domain = "d";
    task_id.name = "t";
    task_id.version = "";
    data = pack(&task.base, &len);
    expect_reject(FCE_KIND_TASK, data, len, "event.task_id.version is empty");
    free(data);
    task_id.version = "v";
    task_id.project = "";
    data = pack(&task.base, &len);
    expect_reject(FCE_KIND_TASK, data, len, "event.task_id.project is empty");
    free(data);
    task_id.project = "p";
    node_id.node_id = "";
    data = pack(&task.base, &len);
    expect_reject(FCE_KIND_TASK, data, len,
                  "event.parent_node_execution_id.node_id is empty");
    free(data);
    node_id.node_id = "n0";
    execution.domain = "d\x1b";
    data = pack(&task.base, &len);
    expect_reject(FCE_KIND_TASK, data, len,
                  "event.parent_node_execution_id.execution_id.domain "
                  "contains a control character");
    free(data);
    execution.domain = "d";
    data = pack(&task.base, &len);
    free(accept_id(FCE_KIND_TASK, data, len));
    free(data);
}

static void task_id_format(void **state)
{
    Flyteidl__Admin__TaskExecutionEventRequest task =
        FLYTEIDL__ADMIN__TASK_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__TaskExecutionEvent ev;
    flyteidl__event__task_execution_event__init(&ev);
    Flyteidl__Core__Identifier task_id = FLYTEIDL__CORE__IDENTIFIER__INIT;
    Flyteidl__Core__NodeExecutionIdentifier node =
        FLYTEIDL__CORE__NODE_EXECUTION_IDENTIFIER__INIT;
    Flyteidl__Core__WorkflowExecutionIdentifier execution =
        FLYTEIDL__CORE__WORKFLOW_EXECUTION_IDENTIFIER__INIT;
    task.event = &ev;
    ev.task_id = &task_id;
    ev.parent_node_execution_id = &node;
    node.execution_id = &execution;
    node.node_id = "n\x01";
    execution.project = "p";
    execution.domain = "d";
    execution.name = "x";
    execution.org = "o";
    task_id.resource_type = (Flyteidl__Core__ResourceType)17;
    task_id.project = "tp";
    task_id.domain = "td";
    task_id.name = "tn";
    task_id.version = "v";
    ev.retry_attempt = 3;
    ev.phase = FLYTEIDL__CORE__TASK_EXECUTION__PHASE__RETRYABLE_FAILED;
    ev.phase_version = 12;

    size_t len;
    uint8_t *data = pack(&task.base, &len);
    struct fce_event event;
    char err[256];
    assert_int_equal(parse(FCE_KIND_TASK, data, len, &event, err, sizeof(err)),
                     0);
    assert_string_equal(event.id, "task_id:{resource_type:17 project:\"tp\" "
                                  "domain:\"td\" name:\"tn\" version:\"v\"} "
                                  "node_execution_id:{node_id:\"n\\x01\" "
                                  "execution_id:{project:\"p\" domain:\"d\" "
                                  "name:\"x\" org:\"o\"}} "
                                  "retry_attempt:3.RETRYABLE_FAILED.12");
    assert_string_equal(event.partition_key, "p/d/x");
    assert_false(event.has_time);
    assert_int_equal(event.phase, 8);
    fce_event_clear(&event);
    free(data);
}

/* ---- the ingest record ---- */

static void record_round_trip(void **state)
{
    struct fce_event event = {
        .kind = FCE_KIND_NODE,
        .phase = -2,
        .has_time = true,
        .seconds = -62135596800LL,
        .nanos = 999999999,
        .id = "id-1",
        .id_len = 4,
        .partition_key = "p/d/n",
        .partition_key_len = 5,
    };
    const uint8_t payload[] = {1, 2, 3, 0, 255};
    size_t size = fce_event_record_size(&event, sizeof(payload));
    uint8_t *record = malloc(size);
    assert_non_null(record);
    fce_event_record_write(record, &event, payload, sizeof(payload));

    struct fce_event_view view;
    assert_int_equal(fce_event_record_read(record, size, FCE_KIND_NODE, &view),
                     0);
    assert_int_equal(view.kind, FCE_KIND_NODE);
    assert_int_equal(view.phase, -2);
    assert_true(view.has_time);
    assert_int_equal(view.seconds, -62135596800LL);
    assert_int_equal(view.nanos, 999999999);
    assert_int_equal(view.id_len, 4);
    assert_memory_equal(view.id, "id-1", 4);
    assert_int_equal(view.partition_key_len, 5);
    assert_memory_equal(view.partition_key, "p/d/n", 5);
    assert_int_equal(view.data_len, sizeof(payload));
    assert_memory_equal(view.data, payload, sizeof(payload));

    /* Every shorter length, a longer one and a bad kind are malformed. */
    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal(
            fce_event_record_read(record, cut, FCE_KIND_NODE, &view), -EPROTO);
    assert_int_equal(fce_event_record_read(record, size, 0, &view), -EPROTO);
    record[0] ^= 1;
    assert_int_equal(fce_event_record_read(record, size, FCE_KIND_NODE, &view),
                     -EPROTO);
    record[0] ^= 1;
    record[16] = 0xff; /* nanos 0x3b9ac9ff -> out of range */
    record[17] = 0xff;
    record[18] = 0xff;
    record[19] = 0x7f;
    assert_int_equal(fce_event_record_read(record, size, FCE_KIND_NODE, &view),
                     -EPROTO);
    free(record);
}

static void kind_names(void **state)
{
    enum fce_kind kind;
    assert_int_equal(fce_kind_parse("task", &kind), 0);
    assert_int_equal(kind, FCE_KIND_TASK);
    assert_int_equal(fce_kind_parse("Task", &kind), -EINVAL);
    assert_int_equal(fce_kind_parse("", &kind), -EINVAL);
    assert_string_equal(fce_kind_name(FCE_KIND_WORKFLOW), "workflow");
    assert_null(fce_kind_name((enum fce_kind)0));
    assert_string_equal(fce_kind_request_name(FCE_KIND_NODE),
                        "flyteidl.admin.NodeExecutionEventRequest");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_plain_ascii),
        cmocka_unit_test(text_backslash_escapes),
        cmocka_unit_test(text_control_bytes_hex),
        cmocka_unit_test(text_c1_controls_unicode),
        cmocka_unit_test(text_utf8_unchanged),
        cmocka_unit_test(text_invalid_bytes_hex),
        cmocka_unit_test(text_unknown_enum_decimal),
        cmocka_unit_test(corpus_accepts_match),
        cmocka_unit_test(corpus_rejects_name_reason),
        cmocka_unit_test(corpus_decodes_with_schema),
        cmocka_unit_test(workflow_valid_baseline),
        cmocka_unit_test(timestamp_bounds),
        cmocka_unit_test(nested_timestamp_checked),
        cmocka_unit_test(nested_string_utf8_checked),
        cmocka_unit_test(bytes_fields_not_utf8_checked),
        cmocka_unit_test(wire_errors_named),
        cmocka_unit_test(unknown_fields_accepted),
        cmocka_unit_test(missing_fields_named),
        cmocka_unit_test(workflow_identity_checked),
        cmocka_unit_test(node_request_as_workflow_rejected),
        cmocka_unit_test(node_and_task_identity_checked),
        cmocka_unit_test(task_id_format),
        cmocka_unit_test(record_round_trip),
        cmocka_unit_test(kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
