/*
 * Fuzzes fce_event_parse() for each kind (the first input byte picks it),
 * then, for valid input, the path a request takes through the pipeline:
 * ingest record, CloudEvent, neutral record, JSON and binary headers. The
 * rest of the input is also read as an ingest record, a neutral record and
 * a JSON object, which must be rejected cleanly when malformed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fce_ce.h"
#include "fce_event.h"
#include "fce_json.h"
#include "fce_utf8.h"

static int ignore_member(void *context, const char *name, size_t name_len,
                         const char *value, size_t value_len, bool is_string)
{
    return 0;
}

static void render(const struct fce_ce *ce)
{
    struct fce_buf json = FCE_BUF_INIT;
    if (fce_ce_render_json(ce, &json) == 0) {
        if (json.len > fce_ce_json_size_max(ce))
            abort();
        if (!fce_utf8_valid((const uint8_t *)json.data, json.len))
            abort();
        char err[128];
        if (fce_json_parse_object(json.data, json.len, ignore_member, NULL, err,
                                  sizeof(err)) != 0)
            abort();
    }
    fce_buf_free(&json);
    struct fce_ce_headers headers;
    fce_ce_binary_headers(ce, FCE_CE_BINDING_KAFKA, &headers);
    fce_ce_binary_headers(ce, FCE_CE_BINDING_PUBSUB, &headers);
}

static void through_pipeline(const struct fce_event *event, const uint8_t *data,
                             size_t len)
{
    size_t size = fce_event_record_size(event, len);
    uint8_t *record = malloc(size);
    if (!record)
        return;
    fce_event_record_write(record, event, data, len);
    struct fce_event_view view;
    if (fce_event_record_read(record, size, event->kind, &view) != 0)
        abort();

    struct fce_ce ce, back;
    fce_ce_from_event(&view, &fce_ce_default_profile, &ce);
    size_t ce_size = fce_ce_record_size(&ce);
    uint8_t *ce_record = malloc(ce_size);
    if (ce_record) {
        fce_ce_record_write(ce_record, &ce);
        if (fce_ce_record_read(ce_record, ce_size, &back) != 0)
            abort();
        render(&back);
        free(ce_record);
    }
    free(record);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    if (size == 0)
        return 0;
    enum fce_kind kind = (enum fce_kind)(input[0] % 3 + 1);
    const uint8_t *data = input + 1;
    size_t len = size - 1;

    struct fce_event event = {0};
    char err[256];
    if (fce_event_parse(kind, data, len, &event, err, sizeof(err)) == 0) {
        if (!fce_utf8_valid((const uint8_t *)event.id, event.id_len))
            abort();
        through_pipeline(&event, data, len);
        fce_event_clear(&event);
    } else if (err[0] == '\0') {
        abort(); /* every rejection names its reason */
    }

    struct fce_event_view view;
    (void)fce_event_record_read(data, len, kind, &view);
    struct fce_ce ce;
    if (fce_ce_record_read(data, len, &ce) == 0)
        render(&ce);
    (void)fce_json_parse_object((const char *)data, len, ignore_member, NULL,
                                err, sizeof(err));
    return 0;
}
