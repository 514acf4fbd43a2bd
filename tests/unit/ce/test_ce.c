/* Unit tests of common/fce_ce.c, common/fce_json.c and common/fce_base64.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../event/corpus.h"
#include "fce_base64.h"
#include "fce_buf.h"
#include "fce_ce.h"
#include "fce_event.h"
#include "fce_json.h"
#include "flyteidl/admin/event.pb-c.h"

static const char *const contract_order[] = {
    "specversion", "id",   "source",          "type",
    "subject",     "time", "datacontenttype", "jsonschemaurl",
    "data_base64",
};

/* ---- helpers ---- */

static char *json_of(const char *input, size_t len)
{
    struct fce_buf buf = FCE_BUF_INIT;
    assert_int_equal(fce_json_append_string(&buf, input, len), 0);
    assert_int_equal(fce_buf_append(&buf, "", 1), 0);
    return buf.data;
}

static void expect_json(const char *input, size_t len, const char *expected)
{
    char *json = json_of(input, len);
    assert_string_equal(json, expected);
    free(json);
}

static char *base64_of(const char *input, size_t len)
{
    char *out = malloc(fce_base64_encoded_size(len) + 1);
    assert_non_null(out);
    size_t n = fce_base64_encode((const uint8_t *)input, len, out);
    assert_int_equal(n, fce_base64_encoded_size(len));
    out[n] = '\0';
    return out;
}

/* Decodes with OpenSSL, independently of fce_base64_decode(). */
static uint8_t *openssl_decode(const char *text, size_t *len)
{
    size_t text_len = strlen(text);
    uint8_t *out = malloc(text_len / 4 * 3 + 3);
    assert_non_null(out);
    int n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)text_len);
    assert_true(n >= 0);
    size_t pad = 0;
    if (text_len >= 1 && text[text_len - 1] == '=')
        pad++;
    if (text_len >= 2 && text[text_len - 2] == '=')
        pad++;
    *len = (size_t)n - pad;
    return out;
}

/* ---- JSON strings ---- */

static void json_plain_and_quotes(void **state)
{
    expect_json("abc", 3, "\"abc\"");
    expect_json("", 0, "\"\"");
    expect_json("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"");
}

static void json_control_characters(void **state)
{
    expect_json("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
    expect_json("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
    expect_json("a\0b", 3, "\"a\\u0000b\"");
    expect_json("\xc2\x80\xc2\x9f", 4, "\"\\u0080\\u009f\"");
}

static void json_utf8_kept(void **state)
{
    expect_json("\xc2\xa0\xc3\xa9\xe2\x82\xac", 7,
                "\"\xc2\xa0\xc3\xa9\xe2\x82\xac\"");
    expect_json("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
}

static void json_line_separators_escaped(void **state)
{
    expect_json("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"");
}

static void json_noncharacters_escaped(void **state)
{
    expect_json("\xef\xbf\xbe\xef\xbf\xbf", 6, "\"\\ufffe\\uffff\"");
    expect_json("\xef\xb7\x90", 3, "\"\\ufdd0\"");
    /* U+1FFFE and U+10FFFF as surrogate pairs. */
    expect_json("\xf0\x9f\xbf\xbe", 4, "\"\\ud83f\\udffe\"");
    expect_json("\xf4\x8f\xbf\xbf", 4, "\"\\udbff\\udfff\"");
}

static void json_invalid_bytes_replaced(void **state)
{
    expect_json("\xff", 1, "\"\\ufffd\"");
    expect_json("a\xc3", 2, "\"a\\ufffd\"");
    expect_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
    expect_json("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
}

static void json_worst_case_fits(void **state)
{
    /* Every byte value, twice, never writes past the promised size. */
    char input[512];
    for (int i = 0; i < 512; i++)
        input[i] = (char)(i & 0xff);
    size_t max = fce_json_string_size_max(sizeof(input));
    char *out = malloc(max + 16);
    assert_non_null(out);
    memset(out, 0x55, max + 16);
    char *end = fce_json_write_string(out, input, sizeof(input));
    assert_true((size_t)(end - out) <= max);
    for (size_t i = max; i < max + 16; i++)
        assert_int_equal((unsigned char)out[i], 0x55);
    free(out);
}

/* ---- base64 ---- */

static void base64_rfc4648_vectors(void **state)
{
    static const char *const vectors[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char *encoded = base64_of(vectors[i][0], strlen(vectors[i][0]));
        assert_string_equal(encoded, vectors[i][1]);
        free(encoded);

        uint8_t decoded[16];
        size_t bad = 0;
        long long n = fce_base64_decode(vectors[i][1], strlen(vectors[i][1]),
                                        decoded, &bad);
        assert_int_equal(n, (long long)strlen(vectors[i][0]));
        assert_memory_equal(decoded, vectors[i][0], (size_t)n);
    }
}

static void base64_all_bytes_match_openssl(void **state)
{
    uint8_t input[1000];
    for (size_t i = 0; i < sizeof(input); i++)
        input[i] = (uint8_t)(i * 7 + 3);
    /* Every length up to 200 meets each end of the 12-byte vector loop. */
    for (size_t len = 0; len <= sizeof(input); len += len < 200 ? 1 : 37) {
        char ours[1400];
        unsigned char theirs[1400];
        size_t n = fce_base64_encode(input, len, ours);
        int m = EVP_EncodeBlock(theirs, input, (int)len);
        assert_int_equal(n, (size_t)m);
        assert_memory_equal(ours, theirs, n);
    }
}

static void base64_decode_rejects(void **state)
{
    static const struct {
        const char *text;
        size_t bad_offset;
    } cases[] = {
        {"Zg=", 3},  {"Zm9v!A==", 4}, {"Z===", 1},
        {"Zh==", 1}, {"Zm9=", 2},     {"Zg==Zg==", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t out[16];
        size_t bad = 99;
        long long n =
            fce_base64_decode(cases[i].text, strlen(cases[i].text), out, &bad);
        if (n != -EINVAL || bad != cases[i].bad_offset)
            fail_msg("\"%s\": got %lld at offset %zu, expected -EINVAL at "
                     "%zu",
                     cases[i].text, n, bad, cases[i].bad_offset);
    }
}

/* ---- time ---- */

static void expect_time(int64_t seconds, int32_t nanos, const char *expected)
{
    char text[FCE_CE_TIME_MAX];
    size_t len = fce_ce_format_time(seconds, nanos, text);
    assert_string_equal(text, expected);
    assert_int_equal(len, strlen(expected));
}

static void time_whole_seconds(void **state)
{
    expect_time(0, 0, "1970-01-01T00:00:00Z");
    expect_time(1714564800, 0, "2024-05-01T12:00:00Z");
    expect_time(951782400, 0, "2000-02-29T00:00:00Z");
    expect_time(-1, 0, "1969-12-31T23:59:59Z");
}

static void time_fraction_trimmed(void **state)
{
    expect_time(1714564800, 500000000, "2024-05-01T12:00:00.5Z");
    expect_time(1714564800, 120000000, "2024-05-01T12:00:00.12Z");
    expect_time(1714564800, 5, "2024-05-01T12:00:00.000000005Z");
    expect_time(1714564800, 123456000, "2024-05-01T12:00:00.123456Z");
    expect_time(1714564800, 999999999, "2024-05-01T12:00:00.999999999Z");
}

static void time_year_limits(void **state)
{
    expect_time(-62135596800LL, 0, "0001-01-01T00:00:00Z");
    expect_time(253402300799LL, 999999999, "9999-12-31T23:59:59.999999999Z");
    expect_time(-62135596800LL + 59 * 86400, 0, "0001-03-01T00:00:00Z");
    expect_time(-12219292800LL, 0, "1582-10-15T00:00:00Z");
}

static void time_out_of_range_fits(void **state)
{
    char text[FCE_CE_TIME_MAX];
    assert_true(fce_ce_format_time(INT64_MIN, -1, text) < FCE_CE_TIME_MAX);
    assert_true(fce_ce_format_time(INT64_MAX, 2000000000, text) <
                FCE_CE_TIME_MAX);
}

/* ---- attributes, records, headers ---- */

static void event_of(struct fce_event_view *view, enum fce_kind kind,
                     bool has_time)
{
    memset(view, 0, sizeof(*view));
    view->kind = kind;
    view->has_time = has_time;
    view->seconds = 1714564800;
    view->nanos = 250000000;
    view->id = "project:\"p\".RUNNING";
    view->id_len = strlen(view->id);
    view->partition_key = "p/d/n";
    view->partition_key_len = 5;
    view->data = (const uint8_t *)"\x12\x00";
    view->data_len = 2;
}

static void attrs_default_profile(void **state)
{
    struct fce_event_view view;
    struct fce_ce ce;
    event_of(&view, FCE_KIND_NODE, true);
    fce_ce_from_event(&view, &fce_ce_default_profile, &ce);
    assert_int_equal(ce.attr_count, 8);
    for (size_t i = 0; i < ce.attr_count; i++) {
        assert_int_equal(ce.attrs[i].name_len, strlen(contract_order[i]));
        assert_memory_equal(ce.attrs[i].name, contract_order[i],
                            ce.attrs[i].name_len);
    }
    size_t len;
    const char *value = fce_ce_attr(&ce, "type", &len);
    assert_non_null(value);
    assert_int_equal(len, strlen("com.flyte.resource.node"));
    assert_memory_equal(value, "com.flyte.resource.node", len);
    value = fce_ce_attr(&ce, "time", &len);
    assert_non_null(value);
    assert_memory_equal(value, "2024-05-01T12:00:00.25Z", len);
    assert_null(fce_ce_attr(&ce, "partitionkey", &len));

    event_of(&view, FCE_KIND_TASK, false);
    struct fce_ce_profile profile = {"urn:flyte:test", NULL};
    fce_ce_from_event(&view, &profile, &ce);
    assert_int_equal(ce.attr_count, 7);
    assert_null(fce_ce_attr(&ce, "time", &len));
    value = fce_ce_attr(&ce, "source", &len);
    assert_memory_equal(value, "urn:flyte:test", len);
    value = fce_ce_attr(&ce, "jsonschemaurl", &len);
    assert_memory_equal(value, fce_ce_default_profile.jsonschemaurl, len);
}

static void record_round_trip(void **state)
{
    struct fce_event_view view;
    struct fce_ce ce, back;
    event_of(&view, FCE_KIND_WORKFLOW, true);
    fce_ce_from_event(&view, NULL, &ce);
    size_t size = fce_ce_record_size(&ce);
    uint8_t *record = malloc(size);
    assert_non_null(record);
    fce_ce_record_write(record, &ce);
    assert_int_equal(fce_ce_record_read(record, size, &back), 0);
    assert_int_equal(back.kind, FCE_KIND_WORKFLOW);
    assert_int_equal(back.attr_count, ce.attr_count);
    for (size_t i = 0; i < ce.attr_count; i++) {
        assert_int_equal(back.attrs[i].name_len, ce.attrs[i].name_len);
        assert_memory_equal(back.attrs[i].name, ce.attrs[i].name,
                            ce.attrs[i].name_len);
        assert_int_equal(back.attrs[i].value_len, ce.attrs[i].value_len);
        assert_memory_equal(back.attrs[i].value, ce.attrs[i].value,
                            ce.attrs[i].value_len);
    }
    assert_int_equal(back.partition_key_len, 5);
    assert_memory_equal(back.partition_key, "p/d/n", 5);
    assert_int_equal(back.data_len, 2);
    assert_memory_equal(back.data, "\x12\x00", 2);

    struct fce_buf a = FCE_BUF_INIT, b = FCE_BUF_INIT;
    assert_int_equal(fce_ce_render_json(&ce, &a), 0);
    assert_int_equal(fce_ce_render_json(&back, &b), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    fce_buf_free(&a);
    fce_buf_free(&b);

    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal(fce_ce_record_read(record, cut, &back), -EPROTO);
    record[20 + 8] = 'A'; /* first attribute name: upper case */
    assert_int_equal(fce_ce_record_read(record, size, &back), -EPROTO);
    free(record);
}

static void binary_headers_bindings(void **state)
{
    struct fce_event_view view;
    struct fce_ce ce;
    struct fce_ce_headers headers;
    event_of(&view, FCE_KIND_WORKFLOW, true);
    fce_ce_from_event(&view, NULL, &ce);

    static const char *const kafka[] = {
        "ce_specversion", "ce_id",   "ce_source",    "ce_type",
        "ce_subject",     "ce_time", "content-type", "ce_jsonschemaurl",
    };
    fce_ce_binary_headers(&ce, FCE_CE_BINDING_KAFKA, &headers);
    assert_int_equal(headers.count, 8);
    for (size_t i = 0; i < headers.count; i++) {
        assert_string_equal(headers.items[i].name, kafka[i]);
        assert_ptr_equal(headers.items[i].value, ce.attrs[i].value);
        assert_int_equal(headers.items[i].value_len, ce.attrs[i].value_len);
    }
    assert_memory_equal(headers.items[6].value, "application/protobuf", 20);

    fce_ce_binary_headers(&ce, FCE_CE_BINDING_PUBSUB, &headers);
    assert_int_equal(headers.count, 8);
    assert_string_equal(headers.items[0].name, "ce-specversion");
    assert_string_equal(headers.items[5].name, "ce-time");
    assert_string_equal(headers.items[6].name, "content-type");
    assert_string_equal(headers.items[7].name, "ce-jsonschemaurl");
}

static void event_types_values(void **state)
{
    unsigned mask = 0;
    assert_int_equal(fce_event_types_add("node", &mask), 0);
    assert_int_equal(mask, FCE_EVENT_TYPE_BIT(FCE_KIND_NODE));
    assert_int_equal(fce_event_types_add("task", &mask), 0);
    assert_int_equal(mask, FCE_EVENT_TYPE_BIT(FCE_KIND_NODE) |
                               FCE_EVENT_TYPE_BIT(FCE_KIND_TASK));
    mask = 0;
    assert_int_equal(fce_event_types_add("*", &mask), 0);
    assert_int_equal(mask, FCE_EVENT_TYPES_ALL);
    mask = 0;
    assert_int_equal(fce_event_types_add("all", &mask), 0);
    assert_int_equal(mask, FCE_EVENT_TYPES_ALL);
    static const char *const bad[] = {"Node",  "workflows", "",
                                      " task", "ALL",       NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mask = 0;
        assert_int_equal(fce_event_types_add(bad[i], &mask), -EINVAL);
        assert_int_equal(mask, 0);
    }
}

/* ---- JSON over the corpus ---- */

static void check_json_event(const char *file, const char *json, size_t len,
                             const cJSON *entry)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        fail_msg("%s: rendered JSON does not parse: %.*s", file, (int)len,
                 json);
    const cJSON *attrs = cJSON_GetObjectItem(entry, "attributes");
    size_t position = 0;
    const cJSON *member;
    cJSON_ArrayForEach(member, root)
    {
        while (position < 9 &&
               strcmp(contract_order[position], member->string) != 0)
            position++;
        if (position == 9)
            fail_msg("%s: member %s out of the contract's order", file,
                     member->string);
        assert_true(cJSON_IsString(member));
        const char *expected = strcmp(member->string, "data_base64") == 0
                                   ? corpus_string(entry, "data_base64")
                                   : corpus_string(attrs, member->string);
        if (!expected || strcmp(expected, member->valuestring) != 0)
            fail_msg("%s: %s is \"%s\", expected \"%s\"", file, member->string,
                     member->valuestring, expected ? expected : "(absent)");
    }
    /* Every expected attribute is there. */
    cJSON_ArrayForEach(member, attrs)
    {
        if (!cJSON_GetObjectItemCaseSensitive(root, member->string))
            fail_msg("%s: member %s missing", file, member->string);
    }
    assert_non_null(cJSON_GetObjectItemCaseSensitive(root, "data_base64"));
    cJSON_Delete(root);
}

static void corpus_renders_expected(void **state)
{
    cJSON *manifest = corpus_manifest();
    assert_non_null(manifest);
    const cJSON *entry;
    int rendered = 0;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItem(manifest, "entries"))
    {
        if (strcmp(corpus_string(entry, "expect"), "accept") != 0)
            continue;
        const char *file = corpus_string(entry, "file");
        enum fce_kind kind;
        assert_int_equal(fce_kind_parse(corpus_string(entry, "kind"), &kind),
                         0);
        size_t len;
        uint8_t *data = corpus_read(file, &len);
        assert_non_null(data);

        /* The path the pipeline takes: parse, ingest record, view, CE,
         * neutral record, CE again, JSON. */
        struct fce_event event = {0};
        char err[256];
        assert_int_equal(
            fce_event_parse(kind, data, len, &event, err, sizeof(err)), 0);
        size_t record_size = fce_event_record_size(&event, len);
        uint8_t *record = malloc(record_size);
        assert_non_null(record);
        fce_event_record_write(record, &event, data, len);
        struct fce_event_view view;
        assert_int_equal(
            fce_event_record_read(record, record_size, kind, &view), 0);
        struct fce_ce ce, out;
        fce_ce_from_event(&view, &fce_ce_default_profile, &ce);
        size_t ce_size = fce_ce_record_size(&ce);
        uint8_t *ce_record = malloc(ce_size);
        assert_non_null(ce_record);
        fce_ce_record_write(ce_record, &ce);
        assert_int_equal(fce_ce_record_read(ce_record, ce_size, &out), 0);
        assert_int_equal(out.partition_key_len,
                         strlen(corpus_string(entry, "partition_key")));
        assert_memory_equal(out.partition_key,
                            corpus_string(entry, "partition_key"),
                            out.partition_key_len);

        struct fce_buf json = FCE_BUF_INIT;
        assert_int_equal(fce_ce_render_json(&out, &json), 0);
        assert_true(json.len <= fce_ce_json_size_max(&out));
        check_json_event(file, json.data, json.len, entry);

        fce_buf_free(&json);
        free(ce_record);
        free(record);
        fce_event_clear(&event);
        free(data);
        rendered++;
    }
    assert_int_equal(rendered, 54);
    cJSON_Delete(manifest);
}

/* ---- random requests ---- */

/* xorshift64*: reproducible across runs and machines. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Pieces of nasty strings, each valid UTF-8. */
static const char *const pieces[] = {
    "a",
    "Z",
    "0",
    "-",
    ".",
    " ",
    "\"",
    "\\",
    "\n",
    "\r",
    "\t",
    "\x01",
    "\x1f",
    "\x7f",
    "\xc2\x80",
    "\xc2\x9f",
    "\xc2\xa0",
    "\xc3\xa9",
    "\xe2\x82\xac",
    "\xe2\x80\xa8",
    "\xef\xbf\xbe",
    "\xf0\x9f\x98\x80",
    "\xf4\x8f\xbf\xbf",
    "{",
    "}",
    ":",
    "/",
    "x",
};

static char *random_string(bool may_be_empty)
{
    size_t count = rng() % 12 + (may_be_empty ? 0 : 1);
    char *text = malloc(count * 4 + 1);
    assert_non_null(text);
    text[0] = '\0';
    for (size_t i = 0; i < count; i++)
        strcat(text, pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))]);
    return text;
}

/* True for a piece that an execution identifier field may contain: the
 * validator rejects C0 controls, DEL and C1 controls there. */
static bool is_identifier_piece(const char *piece)
{
    unsigned char c = (unsigned char)piece[0];
    unsigned char next = (unsigned char)piece[1];
    if (c < 0x20 || c == 0x7f)
        return false;
    return !(c == 0xc2 && next >= 0x80 && next <= 0x9f);
}

/* A non-empty random string without control characters, for the project,
 * domain, name and org of an execution identifier. */
static char *random_identifier(void)
{
    size_t count = rng() % 12 + 1;
    char *text = malloc(count * 4 + 1);
    assert_non_null(text);
    text[0] = '\0';
    for (size_t i = 0; i < count;) {
        const char *piece =
            pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
        if (!is_identifier_piece(piece))
            continue;
        strcat(text, piece);
        i++;
    }
    return text;
}

/* An escaper written apart from common/fce_text.c, from the rules: quote
 * and backslash and \n \r \t escaped, other bytes below 0x20 and 0x7F as
 * \xNN, U+0080..U+009F as \u00NN, other UTF-8 as it is. */
static void expect_quoted(struct fce_buf *out, const char *text)
{
    fce_buf_append(out, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fce_buf_printf(out, "\\%c", c);
            p++;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            fce_buf_printf(out, "\\%c",
                           c == '\n'   ? 'n'
                           : c == '\r' ? 'r'
                                       : 't');
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            fce_buf_printf(out, "\\x%02x", c);
            p++;
        } else if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            fce_buf_printf(out, "\\u%04x", p[1]);
            p += 2;
        } else {
            size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
            fce_buf_append(out, p, n);
            p += n;
        }
    }
    fce_buf_append(out, "\"", 1);
}

static void expect_field(struct fce_buf *out, const char *name,
                         const char *value, bool *first)
{
    if (!value[0])
        return;
    fce_buf_printf(out, "%s%s:", *first ? "" : " ", name);
    expect_quoted(out, value);
    *first = false;
}

static const char *const node_phases[] = {
    "UNDEFINED", "QUEUED",          "RUNNING",   "SUCCEEDED",
    "FAILING",   "FAILED",          "ABORTED",   "SKIPPED",
    "TIMED_OUT", "DYNAMIC_RUNNING", "RECOVERED",
};

/* Builds a random node request, packs it, and returns the id the rules
 * give for it. */
static uint8_t *random_node_request(size_t *len, char **expected_id,
                                    char **expected_key)
{
    Flyteidl__Admin__NodeExecutionEventRequest request =
        FLYTEIDL__ADMIN__NODE_EXECUTION_EVENT_REQUEST__INIT;
    Flyteidl__Event__NodeExecutionEvent ev =
        FLYTEIDL__EVENT__NODE_EXECUTION_EVENT__INIT;
    Flyteidl__Core__NodeExecutionIdentifier id =
        FLYTEIDL__CORE__NODE_EXECUTION_IDENTIFIER__INIT;
    Flyteidl__Core__WorkflowExecutionIdentifier execution =
        FLYTEIDL__CORE__WORKFLOW_EXECUTION_IDENTIFIER__INIT;
    Google__Protobuf__Timestamp occurred_at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    request.event = &ev;
    ev.id = &id;
    id.execution_id = &execution;
    char *strings[8];
    /* node_id is free text but not empty; the execution identifier takes
     * no control characters and needs project, domain and name. */
    id.node_id = strings[0] = random_string(false);
    execution.project = strings[1] = random_identifier();
    execution.domain = strings[2] = random_identifier();
    execution.name = strings[3] = random_identifier();
    execution.org = strings[4] = rng() % 2 ? random_identifier() : strdup("");
    ev.retry_group = strings[5] = random_string(true);
    request.request_id = strings[6] = random_string(true);
    ev.producer_id = strings[7] = random_string(true);
    ev.phase = (Flyteidl__Core__NodeExecution__Phase)(rng() % 14);
    if (rng() % 4) {
        ev.occurred_at = &occurred_at;
        occurred_at.seconds = (int64_t)(rng() % 253402300799ull);
        occurred_at.nanos = (int32_t)(rng() % 1000000000);
    }

    *len = protobuf_c_message_get_packed_size(&request.base);
    uint8_t *data = malloc(*len + 1);
    assert_non_null(data);
    protobuf_c_message_pack(&request.base, data);

    struct fce_buf want = FCE_BUF_INIT;
    bool first = true;
    expect_field(&want, "node_id", id.node_id, &first);
    fce_buf_printf(&want, "%sexecution_id:{", first ? "" : " ");
    first = true;
    expect_field(&want, "project", execution.project, &first);
    expect_field(&want, "domain", execution.domain, &first);
    expect_field(&want, "name", execution.name, &first);
    expect_field(&want, "org", execution.org, &first);
    fce_buf_append(&want, "}", 1);
    first = false;
    expect_field(&want, "retry_group", ev.retry_group, &first);
    if (ev.phase < 11)
        fce_buf_printf(&want, ".%s", node_phases[ev.phase]);
    else
        fce_buf_printf(&want, ".%d", (int)ev.phase);
    fce_buf_append(&want, "", 1);
    *expected_id = want.data;

    struct fce_buf key = FCE_BUF_INIT;
    fce_buf_printf(&key, "%s/%s/%s", execution.project, execution.domain,
                   execution.name);
    *expected_key = key.data;
    for (size_t i = 0; i < 8; i++)
        free(strings[i]);
    return data;
}

static char *render(const uint8_t *data, size_t len, char **id)
{
    struct fce_event event = {0};
    char err[256];
    if (fce_event_parse(FCE_KIND_NODE, data, len, &event, err, sizeof(err)) !=
        0)
        fail_msg("random request rejected: %s", err);
    size_t record_size = fce_event_record_size(&event, len);
    uint8_t *record = malloc(record_size);
    assert_non_null(record);
    fce_event_record_write(record, &event, data, len);
    struct fce_event_view view;
    assert_int_equal(
        fce_event_record_read(record, record_size, FCE_KIND_NODE, &view), 0);
    struct fce_ce ce;
    fce_ce_from_event(&view, NULL, &ce);
    struct fce_buf json = FCE_BUF_INIT;
    assert_int_equal(fce_ce_render_json(&ce, &json), 0);
    assert_int_equal(fce_buf_append(&json, "", 1), 0);
    *id = strdup(event.id);
    free(record);
    fce_event_clear(&event);
    return json.data;
}

static void random_requests_round_trip(void **state)
{
    for (int round = 0; round < 2000; round++) {
        size_t len;
        char *expected_id, *expected_key;
        uint8_t *data = random_node_request(&len, &expected_id, &expected_key);

        char *id, *again_id;
        char *json = render(data, len, &id);
        char *again = render(data, len, &again_id);
        assert_string_equal(json, again); /* stable */
        if (strcmp(id, expected_id) != 0)
            fail_msg("round %d: id\n  got      %s\n  expected %s", round, id,
                     expected_id);

        cJSON *root = cJSON_Parse(json);
        if (!root)
            fail_msg("round %d: JSON does not parse: %s", round, json);
        const char *json_id = corpus_string(root, "id");
        assert_non_null(json_id);
        assert_string_equal(json_id, expected_id);
        size_t decoded_len;
        uint8_t *decoded =
            openssl_decode(corpus_string(root, "data_base64"), &decoded_len);
        assert_int_equal(decoded_len, len);
        assert_memory_equal(decoded, data, len);

        free(decoded);
        cJSON_Delete(root);
        free(json);
        free(again);
        free(id);
        free(again_id);
        free(expected_id);
        free(expected_key);
        free(data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_plain_and_quotes),
        cmocka_unit_test(json_control_characters),
        cmocka_unit_test(json_utf8_kept),
        cmocka_unit_test(json_line_separators_escaped),
        cmocka_unit_test(json_noncharacters_escaped),
        cmocka_unit_test(json_invalid_bytes_replaced),
        cmocka_unit_test(json_worst_case_fits),
        cmocka_unit_test(base64_rfc4648_vectors),
        cmocka_unit_test(base64_all_bytes_match_openssl),
        cmocka_unit_test(base64_decode_rejects),
        cmocka_unit_test(time_whole_seconds),
        cmocka_unit_test(time_fraction_trimmed),
        cmocka_unit_test(time_year_limits),
        cmocka_unit_test(time_out_of_range_fits),
        cmocka_unit_test(attrs_default_profile),
        cmocka_unit_test(record_round_trip),
        cmocka_unit_test(binary_headers_bindings),
        cmocka_unit_test(event_types_values),
        cmocka_unit_test(corpus_renders_expected),
        cmocka_unit_test(random_requests_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
