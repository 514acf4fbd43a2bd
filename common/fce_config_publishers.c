/*
 * The publishers of a configuration: FlyteAdmin's cloudEvents block, which
 * becomes one publisher named after its backend type, and the entries of
 * publishers:. Both end in the same checks (name, topic, eventTypes).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fce_ce.h"
#include "fce_config_internal.h"

/* Names a publisher may not take: ingest.ring and encoder.stats are the
 * files of those processes. */
static const char *const reserved_names[] = {"ingest", "encoder", NULL};

static void report(const struct fce_yaml *yaml, const yaml_node_t *node,
                   const char *path, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void report(const struct fce_yaml *yaml, const yaml_node_t *node,
                   const char *path, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fce_diag_vadd(yaml->diag, FCE_SEV_ERROR, yaml->name,
                  node ? &node->start_mark : NULL, path, format, args);
    va_end(args);
}

static void warn(const struct fce_yaml *yaml, const yaml_node_t *node,
                 const char *path, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void warn(const struct fce_yaml *yaml, const yaml_node_t *node,
                 const char *path, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fce_diag_vadd(yaml->diag, FCE_SEV_WARNING, yaml->name,
                  node ? &node->start_mark : NULL, path, format, args);
    va_end(args);
}

/* The node at key inside mapping, or the mapping itself for positions. */
static yaml_node_t *where(const struct fce_yaml *yaml, yaml_node_t *mapping,
                          const char *key)
{
    yaml_node_t *node = fce_yaml_lookup(yaml, mapping, key, NULL);
    return node ? node : mapping;
}

static void linked_types(char *out, size_t size)
{
    size_t used = 0;
    const struct fce_backend_type *type;
    out[0] = '\0';
    for (size_t i = 0; (type = fce_backend_type_at(i)) && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                                 type->name);
    if (!out[0])
        snprintf(out, size, "none: no backend is linked into this program");
}

static bool valid_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > FCE_PUBLISHER_NAME_MAX || name[0] == '-')
        return false;
    for (const char *p = name; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
            *p != '-')
            return false;
    return true;
}

static void check_name(const struct fce_yaml *yaml,
                       const struct fce_config *cfg, const char *name,
                       yaml_node_t *node, const char *path)
{
    if (!valid_name(name)) {
        report(yaml, node, path,
               "'%s' is not a valid name; use 1..%d lowercase letters, digits "
               "and '-', not starting with '-'",
               name, FCE_PUBLISHER_NAME_MAX);
        return;
    }
    for (const char *const *r = reserved_names; *r; r++)
        if (strcmp(name, *r) == 0)
            report(yaml, node, path,
                   "'%s' is reserved for the %s process's files; choose "
                   "another name",
                   name, *r);
    for (size_t i = 0; i < cfg->publisher_count; i++)
        if (strcmp(cfg->publishers[i].name, name) == 0)
            report(yaml, node, path,
                   "'%s' is already the name of the publisher from %s; "
                   "choose another name",
                   name, cfg->publishers[i].origin);
}

/* Adds one eventTypes value to *mask. FlyteAdmin matches these exactly. */
static int add_event_type(const char *value, unsigned *mask)
{
    if (strcmp(value, "all") == 0 || strcmp(value, "*") == 0)
        *mask |= FCE_EVENT_TYPES_ALL;
    else if (strcmp(value, "workflow") == 0)
        *mask |= FCE_EVENT_TYPE_BIT(FCE_KIND_WORKFLOW);
    else if (strcmp(value, "node") == 0)
        *mask |= FCE_EVENT_TYPE_BIT(FCE_KIND_NODE);
    else if (strcmp(value, "task") == 0)
        *mask |= FCE_EVENT_TYPE_BIT(FCE_KIND_TASK);
    else
        return -EINVAL;
    return 0;
}

static unsigned event_mask(const struct fce_yaml *yaml,
                           const struct fce_strlist *list, yaml_node_t *node,
                           const char *path)
{
    unsigned mask = 0;
    if (list->count == 0)
        report(yaml, node, path,
               "empty list: nothing would be published; list all, workflow, "
               "node or task, or remove the key to publish every kind");
    for (size_t i = 0; i < list->count; i++)
        if (add_event_type(list->items[i], &mask) != 0)
            report(yaml, node, path,
                   "'%s' is not an event type; use all, *, workflow, node or "
                   "task (lowercase, as FlyteAdmin matches them exactly)",
                   list->items[i]);
    return mask;
}

static bool kafka_topic_ok(const char *topic)
{
    size_t len = strlen(topic);
    if (len > 249 || strcmp(topic, ".") == 0 || strcmp(topic, "..") == 0)
        return false;
    for (const char *p = topic; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
            return false;
    return true;
}

static bool pubsub_topic_ok(const char *topic)
{
    size_t len = strlen(topic);
    if (len < 3 || len > 255 || !isalpha((unsigned char)topic[0]) ||
        strncasecmp(topic, "goog", 4) == 0)
        return false;
    for (const char *p = topic; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_.~+%", *p))
            return false;
    return true;
}

static bool sns_arn_ok(const char *topic)
{
    /* arn:PARTITION:sns:REGION:ACCOUNT:NAME */
    if (strncmp(topic, "arn:", 4) != 0)
        return false;
    const char *service = strchr(topic + 4, ':');
    if (!service || strncmp(service + 1, "sns:", 4) != 0)
        return false;
    const char *region = service + 5;
    const char *account = strchr(region, ':');
    const char *name = account ? strchr(account + 1, ':') : NULL;
    return name && name[1] != '\0' && account > region;
}

/* Checks topicName against the rules of the backend type. */
static void check_topic(const struct fce_yaml *yaml, const char *type,
                        const char *topic, yaml_node_t *node, const char *path)
{
    if (strcmp(type, "file") == 0) {
        if (topic)
            warn(yaml, node, path,
                 "not used by type file; the file backend "
                 "takes its path from file.path");
        return;
    }
    if (!topic) {
        report(yaml, node, path,
               "missing; set the %s, required when type is %s",
               strcmp(type, "kafka") == 0    ? "Kafka topic"
               : strcmp(type, "sns") == 0    ? "SNS topic ARN"
               : strcmp(type, "sqs") == 0    ? "SQS queue URL"
               : strcmp(type, "pubsub") == 0 ? "Pub/Sub topic id"
                                             : "destination",
               type);
        return;
    }
    if (strcmp(type, "kafka") == 0 && !kafka_topic_ok(topic))
        report(yaml, node, path,
               "'%s' is not a Kafka topic name; use up to 249 letters, "
               "digits, '.', '_' and '-'",
               topic);
    else if (strcmp(type, "sns") == 0 && !sns_arn_ok(topic))
        report(yaml, node, path,
               "'%s' is not an SNS topic ARN; give the full ARN, such as "
               "arn:aws:sns:us-east-2:123456789012:flyte-events",
               topic);
    else if (strcmp(type, "sqs") == 0 && strncmp(topic, "https://", 8) != 0 &&
             strncmp(topic, "http://", 7) != 0)
        report(yaml, node, path,
               "'%s' is not an SQS queue URL; give the URL, such as "
               "https://sqs.us-east-2.amazonaws.com/123456789012/flyte-events",
               topic);
    else if (strcmp(type, "pubsub") == 0 && strncmp(topic, "projects/", 9) == 0)
        report(yaml, node, path,
               "'%s' is a topic path; give the topic id (the part after "
               "topics/) and the project in gcp.projectId",
               topic);
    else if (strcmp(type, "pubsub") == 0 && !pubsub_topic_ok(topic))
        report(yaml, node, path,
               "'%s' is not a Pub/Sub topic id; use 3..255 letters, digits and "
               "-_.~+%%, starting with a letter and not with goog",
               topic);
}

static int grow(struct fce_config_impl *impl)
{
    struct fce_config *cfg = &impl->pub;
    if (cfg->publisher_count < impl->publisher_room)
        return 0;

    size_t room = impl->publisher_room ? impl->publisher_room * 2 : 4;
    struct fce_publisher_config *pubs =
        realloc(cfg->publishers, room * sizeof(*pubs));
    if (!pubs)
        return -ENOMEM;
    cfg->publishers = pubs;
    struct fce_raw_publisher *raws =
        realloc(impl->raw_publishers, room * sizeof(*raws));
    if (!raws)
        return -ENOMEM;
    impl->raw_publishers = raws;
    impl->publisher_room = room;
    return 0;
}

static void check_retry(const struct fce_yaml *yaml, yaml_node_t *mapping,
                        const char *path, const struct fce_retry_policy *retry)
{
    char initial[32], max[32], key[FCE_PATH_MAX];

    fce_path_join(key, path, "initialBackoff");
    if (fce_diag_has_error(yaml->diag, key))
        return;
    fce_path_join(key, path, "maxBackoff");
    if (fce_diag_has_error(yaml->diag, key))
        return;
    if (retry->initial_ms != 0 && retry->max_ms >= retry->initial_ms)
        return;
    fce_format_duration(retry->initial_ms, initial, sizeof(initial));
    fce_format_duration(retry->max_ms, max, sizeof(max));
    report(yaml, mapping, path,
           "initialBackoff (%s) must be above 0 and at most maxBackoff (%s)",
           initial, max);
}

/* The file.path of a publisher of type file, or NULL. */
static const char *file_path(const struct fce_publisher_config *p)
{
    if (strcmp(p->type, "file") != 0 || !p->settings)
        return NULL;
    const struct fce_option *option =
        fce_option_find(p->backend_type->options, "path");
    if (!option || option->type != FCE_OPT_STRING)
        return NULL;
    return *(char *const *)((const char *)p->settings + option->offset);
}

/*
 * Reports a file that two writers would share: the file.path of two
 * publishers, or one publisher's file.path and another's (or its own)
 * deadLetter. Paths are compared as written.
 */
static void check_paths(const struct fce_yaml *yaml,
                        const struct fce_config *cfg,
                        const struct fce_publisher_config *p,
                        yaml_node_t *mapping)
{
    const char *own_file = file_path(p);
    const char *own_dead = p->dead_letter_path;
    char file_key[FCE_PATH_MAX], dead_key[FCE_PATH_MAX];

    fce_path_join(file_key, p->origin, "file.path");
    fce_path_join(dead_key, p->origin, "deadLetter");
    if (own_file && own_dead && strcmp(own_file, own_dead) == 0)
        report(yaml, mapping, dead_key,
               "'%s' is also this publisher's file.path; give dead letters "
               "their own file",
               own_dead);
    for (size_t i = 0; i + 1 < cfg->publisher_count; i++) {
        const struct fce_publisher_config *other = &cfg->publishers[i];
        const char *file = file_path(other);
        if (own_file && file && strcmp(own_file, file) == 0)
            report(yaml, mapping, file_key,
                   "'%s' is also the file.path of the publisher from %s; give "
                   "each publisher its own file",
                   own_file, other->origin);
        if (own_dead && file && strcmp(own_dead, file) == 0)
            report(yaml, mapping, dead_key,
                   "'%s' is the file.path of the publisher from %s; give dead "
                   "letters their own file",
                   own_dead, other->origin);
        if (own_file && other->dead_letter_path &&
            strcmp(own_file, other->dead_letter_path) == 0)
            report(yaml, mapping, file_key,
                   "'%s' is the deadLetter of the publisher from %s; give "
                   "each file one writer",
                   own_file, other->origin);
    }
}

static void check_ring_capacity(const struct fce_yaml *yaml,
                                yaml_node_t *mapping, const char *path,
                                uint64_t capacity, uint64_t max_record)
{
    if (capacity % 8 != 0)
        report(yaml, mapping, path,
               "%llu bytes is not a multiple of 8, which rings need; use a "
               "multiple of 8 such as 64MiB",
               (unsigned long long)capacity);
    else if (capacity / 2 < max_record)
        report(yaml, mapping, path,
               "%llu bytes is less than twice rings.maxRecord (%llu); raise "
               "it",
               (unsigned long long)capacity, (unsigned long long)max_record);
}

/*
 * Turns a parsed publisher into an entry of impl. raw and settings move
 * into impl, on failure too. mapping is where the publisher was written.
 */
static void add_publisher(const struct fce_yaml *yaml,
                          struct fce_config_impl *impl,
                          struct fce_raw_publisher *raw,
                          const struct fce_backend_type *type, void *settings,
                          yaml_node_t *mapping, const char *origin)
{
    struct fce_config *cfg = &impl->pub;
    char path[FCE_PATH_MAX];

    if (grow(impl) != 0) {
        fce_option_free(fce_publisher_options, raw);
        fce_option_free(type->options, settings);
        free(settings);
        report(yaml, mapping, origin, "out of memory");
        return;
    }
    struct fce_publisher_config *p = &cfg->publishers[cfg->publisher_count];
    memset(p, 0, sizeof(*p));
    p->origin = strdup(origin);
    p->name = strdup(raw->name);
    p->type = strdup(type->name);
    p->backend_type = type;
    p->settings = settings;
    p->topic = raw->topic ? strdup(raw->topic) : NULL;
    p->content_mode = (enum fce_content_mode)raw->content_mode;
    p->retry = raw->retry;
    p->batch = raw->batch;
    /* An inherited rings.capacity was checked (and reported) there. */
    bool own_capacity = raw->ring_capacity != 0;
    p->ring_capacity =
        raw->ring_capacity ? raw->ring_capacity : cfg->ring_capacity;
    p->ring_path = fce_config_join(cfg->ring_directory, raw->name, ".ring");
    p->stats_path = fce_config_join(cfg->ring_directory, raw->name, ".stats");
    p->dead_letter_path =
        raw->dead_letter
            ? strdup(raw->dead_letter)
            : fce_config_join(cfg->ring_directory, raw->name, ".dead.jsonl");
    /* The dump shows the values in effect, not the empty defaults. */
    raw->ring_capacity = p->ring_capacity;
    if (!raw->dead_letter && p->dead_letter_path)
        raw->dead_letter = strdup(p->dead_letter_path);
    impl->raw_publishers[cfg->publisher_count] = *raw;
    cfg->publisher_count++;

    fce_path_join(path, origin, "ringCapacity");
    if (own_capacity)
        check_ring_capacity(yaml, mapping, path, p->ring_capacity,
                            cfg->max_record);
    /* A policy inherited from a top-level retry: in error was reported
     * there. */
    bool inherited = p->retry.initial_ms == impl->root.retry.initial_ms &&
                     p->retry.max_ms == impl->root.retry.max_ms;
    fce_path_join(path, origin, "retry");
    bool root_failed = fce_diag_has_error(yaml->diag, "retry") ||
                       fce_diag_has_error(yaml->diag, "retry.initialBackoff") ||
                       fce_diag_has_error(yaml->diag, "retry.maxBackoff");
    if (!inherited || !root_failed)
        check_retry(yaml, mapping, path, &p->retry);
    fce_path_join(path, origin, "contentMode");
    if (strcmp(type->name, "file") == 0 &&
        p->content_mode == FCE_CONTENT_BINARY)
        warn(yaml, where(yaml, mapping, "contentMode"), path,
             "binary has no effect on type file, which writes structured "
             "JSON lines; remove the key");
    check_paths(yaml, cfg, p, mapping);
    if (type->validate && p->settings)
        type->validate(p->settings, p, yaml->diag);
}

/* FlyteAdmin's type values and the backend each one means here. */
static const char *flyte_backend(const struct fce_yaml *yaml, const char *type,
                                 yaml_node_t *node)
{
    if (strcmp(type, "aws") == 0)
        return "sns";
    if (strcmp(type, "gcp") == 0)
        return "pubsub";
    if (strcmp(type, "kafka") == 0)
        return "kafka";
    if (strcmp(type, "local") == 0 || strcmp(type, "sandbox") == 0 ||
        strcmp(type, "nats") == 0)
        report(yaml, node, "cloudEvents.type",
               "'%s' is not supported by this service; use aws (SNS), gcp "
               "(Pub/Sub) or kafka here, or add a publisher of type file "
               "under publishers to write events to a file",
               type);
    else
        report(yaml, node, "cloudEvents.type",
               "'%s' is not a type; use aws, gcp or kafka", type);
    return NULL;
}

/* Applies the backend's block of the FlyteAdmin section. */
static void *flyte_settings(const struct fce_yaml *yaml,
                            const struct fce_backend_type *type,
                            const char *flyte_type, yaml_node_t *block)
{
    char path[FCE_PATH_MAX], note[64];
    yaml_node_t *key = NULL;
    yaml_node_t *node = fce_yaml_lookup(yaml, block, type->config_key, &key);
    const char *skip[] = {NULL, NULL};

    /* FlyteAdmin's Helm values once showed gcp.region, which nothing reads. */
    yaml_node_t *region_key = NULL;
    if (strcmp(flyte_type, "gcp") == 0 &&
        fce_yaml_lookup(yaml, node, "region", &region_key) &&
        !fce_option_find(type->options, "region")) {
        warn(yaml, region_key, "cloudEvents.gcp.region",
             "not a key of type gcp; the project is gcp.projectId");
        skip[0] = "region";
    }

    void *settings = calloc(1, type->options_size ? type->options_size : 1);
    if (!settings)
        return NULL;
    fce_path_join(path, "cloudEvents", type->config_key);
    snprintf(note, sizeof(note), "required when type is %s", flyte_type);
    struct fce_yaml scoped = *yaml;
    scoped.required_note = note;
    fce_option_apply(&scoped, type->options, settings, node,
                     node ? &node->start_mark : &block->start_mark, path, skip,
                     FCE_UNKNOWN_WARN);
    return settings;
}

static void lower(char *text)
{
    for (; text && *text; text++)
        *text = (char)tolower((unsigned char)*text);
}

/* Moves the FlyteAdmin block's values into a publisher entry. */
static void flyte_to_publisher(struct fce_raw_flyte *flyte,
                               struct fce_raw_publisher *raw,
                               const char *backend)
{
    memset(raw, 0, sizeof(*raw));
    raw->name = strdup(backend);
    raw->type = strdup(backend);
    raw->topic = flyte->events_publisher.topic;
    flyte->events_publisher.topic = NULL;
    raw->event_types = flyte->events_publisher.event_types;
    memset(&flyte->events_publisher.event_types, 0,
           sizeof(flyte->events_publisher.event_types));
    if (flyte->content_mode == FCE_FLYTE_CONTENT_AUTO)
        raw->content_mode = strcmp(backend, "kafka") == 0
                                ? FCE_CONTENT_BINARY
                                : FCE_CONTENT_STRUCTURED;
    else
        raw->content_mode = flyte->content_mode - 1;
    raw->batch = flyte->batch;
    raw->retry = flyte->retry;
    raw->dead_letter = flyte->dead_letter;
    flyte->dead_letter = NULL;
    raw->ring_capacity = flyte->ring_capacity;
}

static const char *const flyte_skip[] = {"aws", "gcp", "kafka", NULL};

void fce_config_load_flyte(const struct fce_yaml *yaml,
                           struct fce_config_impl *impl, yaml_node_t *block,
                           yaml_node_t *key_node)
{
    struct fce_raw_flyte flyte = {0};
    struct fce_raw_publisher raw;

    if (block->type != YAML_MAPPING_NODE) {
        if (!fce_yaml_is_null(block))
            report(yaml, block, "cloudEvents", "expected a mapping, found %s",
                   fce_yaml_kind(block));
        return;
    }
    flyte.retry = impl->root.retry;
    fce_option_apply(yaml, fce_flyte_options, &flyte, block,
                     &key_node->start_mark, "cloudEvents", flyte_skip,
                     FCE_UNKNOWN_WARN);
    lower(flyte.type);

    const char *type = flyte.type ? flyte.type : "local";
    if (!flyte.enable) {
        if (strcmp(type, "local") != 0)
            warn(yaml, where(yaml, block, "enable"), "cloudEvents.enable",
                 "false, so the type %s block adds no publisher; set enable: "
                 "true to publish through it",
                 type);
        goto cleanup;
    }
    if (flyte.version == 1)
        report(yaml, where(yaml, block, "cloudEventVersion"),
               "cloudEvents.cloudEventVersion",
               "v2 is not supported: its enrichment reads FlyteAdmin's "
               "database; use v1");

    const char *backend = flyte_backend(yaml, type, where(yaml, block, "type"));
    if (!backend)
        goto cleanup;
    const struct fce_backend_type *bt = fce_backend_type_find(backend);
    if (!bt) {
        char linked[256];
        linked_types(linked, sizeof(linked));
        report(yaml, where(yaml, block, "type"), "cloudEvents.type",
               "type %s needs the %s backend, which is not part of this "
               "build (linked: %s)",
               type, backend, linked);
        goto cleanup;
    }

    yaml_node_t *ep = fce_yaml_lookup(yaml, block, "eventsPublisher", NULL);
    yaml_node_t *ep_where = ep ? where(yaml, ep, "topicName") : block;
    check_topic(yaml, backend, flyte.events_publisher.topic, ep_where,
                "cloudEvents.eventsPublisher.topicName");
    unsigned mask = event_mask(yaml, &flyte.events_publisher.event_types,
                               ep ? where(yaml, ep, "eventTypes") : block,
                               "cloudEvents.eventsPublisher.eventTypes");

    void *settings = flyte_settings(yaml, bt, type, block);
    if (!settings)
        goto cleanup;
    flyte_to_publisher(&flyte, &raw, backend);
    add_publisher(yaml, impl, &raw, bt, settings, block, "cloudEvents");
    if (impl->pub.publisher_count)
        impl->pub.publishers[impl->pub.publisher_count - 1].event_types = mask;

cleanup:
    fce_option_free(fce_flyte_options, &flyte);
}

/* Reports backend blocks that belong to another type than the entry's. */
static void check_foreign_blocks(const struct fce_yaml *yaml, yaml_node_t *item,
                                 const struct fce_backend_type *own,
                                 const char *path)
{
    const struct fce_backend_type *type;
    char sub[FCE_PATH_MAX];

    for (size_t i = 0; (type = fce_backend_type_at(i)); i++) {
        if (own && strcmp(type->config_key, own->config_key) == 0)
            continue;
        yaml_node_t *key = NULL;
        if (!fce_yaml_lookup(yaml, item, type->config_key, &key))
            continue;
        fce_path_join(sub, path, type->config_key);
        report(yaml, key, sub,
               "the block of type %s, but this publisher has type %s; remove "
               "it or change type",
               type->name, own ? own->name : "(none)");
        /* sns and sqs share one block key: report it once. */
        while (fce_backend_type_at(i + 1) &&
               strcmp(fce_backend_type_at(i + 1)->config_key,
                      type->config_key) == 0)
            i++;
    }
}

static const struct fce_backend_type *
publisher_type(const struct fce_yaml *yaml, const char *name, yaml_node_t *node,
               const char *path)
{
    const struct fce_backend_type *type = fce_backend_type_find(name);
    if (type)
        return type;

    char linked[256];
    linked_types(linked, sizeof(linked));
    if (strcmp(name, "aws") == 0 || strcmp(name, "gcp") == 0)
        report(yaml, node, path,
               "'%s' is a FlyteAdmin type; under publishers use %s (linked: "
               "%s)",
               name, strcmp(name, "aws") == 0 ? "sns or sqs" : "pubsub",
               linked);
    else
        report(yaml, node, path,
               "'%s' is not a backend type of this build; "
               "use one of: %s",
               name, linked);
    return NULL;
}

static void load_one(const struct fce_yaml *yaml, struct fce_config_impl *impl,
                     yaml_node_t *item, size_t index)
{
    char path[FCE_PATH_MAX], sub[FCE_PATH_MAX];
    const char *skip[FCE_PUBLISHERS_MAX + 1] = {NULL};
    const struct fce_backend_type *bt;
    struct fce_raw_publisher raw = {0};

    snprintf(path, sizeof(path), "publishers[%zu]", index);
    if (item->type != YAML_MAPPING_NODE) {
        report(yaml, item, path,
               "expected a mapping with name and type, "
               "found %s",
               fce_yaml_kind(item));
        return;
    }
    for (size_t i = 0; (bt = fce_backend_type_at(i)) && i < FCE_PUBLISHERS_MAX;
         i++)
        skip[i] = bt->config_key;

    raw.retry = impl->root.retry;
    fce_option_apply(yaml, fce_publisher_options, &raw, item, &item->start_mark,
                     path, skip, FCE_UNKNOWN_ERROR);
    if (!raw.name || !raw.type)
        goto fail;

    fce_path_join(sub, path, "name");
    check_name(yaml, &impl->pub, raw.name, where(yaml, item, "name"), sub);
    fce_path_join(sub, path, "type");
    bt = publisher_type(yaml, raw.type, where(yaml, item, "type"), sub);
    if (!bt)
        goto fail;
    check_foreign_blocks(yaml, item, bt, path);

    fce_path_join(sub, path, "topicName");
    check_topic(yaml, bt->name, raw.topic, where(yaml, item, "topicName"), sub);
    fce_path_join(sub, path, "eventTypes");
    unsigned mask = event_mask(yaml, &raw.event_types,
                               where(yaml, item, "eventTypes"), sub);

    yaml_node_t *block = fce_yaml_lookup(yaml, item, bt->config_key, NULL);
    void *settings = calloc(1, bt->options_size ? bt->options_size : 1);
    if (!settings)
        goto fail;
    fce_path_join(sub, path, bt->config_key);
    char note[64];
    snprintf(note, sizeof(note), "required when type is %s", bt->name);
    struct fce_yaml scoped = *yaml;
    scoped.required_note = note;
    fce_option_apply(&scoped, bt->options, settings, block,
                     block ? &block->start_mark : &item->start_mark, sub, NULL,
                     FCE_UNKNOWN_ERROR);

    add_publisher(yaml, impl, &raw, bt, settings, item, path);
    if (impl->pub.publisher_count)
        impl->pub.publishers[impl->pub.publisher_count - 1].event_types = mask;
    return;

fail:
    fce_option_free(fce_publisher_options, &raw);
}

void fce_config_load_publishers(const struct fce_yaml *yaml,
                                struct fce_config_impl *impl, yaml_node_t *list,
                                yaml_node_t *key_node)
{
    if (fce_yaml_is_null(list))
        return;
    if (list->type != YAML_SEQUENCE_NODE) {
        report(yaml, list, "publishers",
               "expected a list of publishers (- name: ...), found %s",
               fce_yaml_kind(list));
        return;
    }

    size_t count = (size_t)(list->data.sequence.items.top -
                            list->data.sequence.items.start);
    if (count > FCE_PUBLISHERS_MAX) {
        report(yaml, key_node, "publishers",
               "%zu entries; at most %d publishers fit one pipeline", count,
               FCE_PUBLISHERS_MAX);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(
            yaml->doc, list->data.sequence.items.start[i]);
        load_one(yaml, impl, item, i);
    }
}
