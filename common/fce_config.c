/*
 * fce_config_load(): reads the YAML file with libyaml, applies the option
 * tables and turns the parsed blocks into struct fce_config. Every problem
 * goes to struct fce_diag with the file, line, column and key path; the
 * loader never logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fce_config_internal.h"
#include "fce_ring.h"

/* A configuration file larger than this is a mistake, not a config. */
#define CONFIG_FILE_MAX (4u << 20)

/* Room the ring record needs beyond the request body: header, id and
 * partition key, or the CloudEvent attributes. */
#define RECORD_OVERHEAD (64u << 10)

char *fce_config_join(const char *directory, const char *name,
                      const char *suffix)
{
    size_t len = strlen(directory) + strlen(name) + strlen(suffix) + 2;
    char *path = malloc(len);
    if (path)
        snprintf(path, len, "%s/%s%s", directory, name, suffix);
    return path;
}

/* Makes a relative directory absolute against the working directory and
 * drops trailing slashes. */
static char *absolute_directory(const char *directory)
{
    char cwd[PATH_MAX];
    char *path;

    if (directory[0] == '/') {
        path = strdup(directory);
    } else {
        if (!getcwd(cwd, sizeof(cwd)))
            return NULL;
        path = fce_config_join(cwd, directory, "");
    }
    for (size_t len = path ? strlen(path) : 0; len > 1 && path[len - 1] == '/';
         len--)
        path[len - 1] = '\0';
    return path;
}

static void load_rings(const struct fce_yaml *yaml, struct fce_config *cfg,
                       const struct fce_raw_rings *rings, yaml_node_t *node)
{
    const yaml_mark_t *mark = node ? &node->start_mark : NULL;

    if (!rings->directory) {
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                     "rings.directory",
                     "empty; set a folder such as /dev/shm/fce");
        return;
    }
    cfg->ring_directory = absolute_directory(rings->directory);
    cfg->stats_directory =
        cfg->ring_directory ? strdup(cfg->ring_directory) : NULL;
    cfg->ring_capacity = rings->capacity;
    cfg->max_record = rings->max_record;

    /* A value that did not parse was reported; its 0 would only add
     * knock-on errors. */
    if (fce_diag_has_error(yaml->diag, "rings.capacity") ||
        fce_diag_has_error(yaml->diag, "rings.maxRecord"))
        return;
    if (rings->max_record < 4096 ||
        rings->max_record > FCE_RING_MAX_RECORD_LIMIT)
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                     "rings.maxRecord",
                     "%llu bytes is out of range; use 4KiB..64MiB",
                     (unsigned long long)rings->max_record);
    else if (rings->capacity % 8 != 0)
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                     "rings.capacity",
                     "%llu bytes is not a multiple of 8, which rings need; "
                     "use a multiple of 8 such as 64MiB",
                     (unsigned long long)rings->capacity);
    else if (rings->capacity / 2 < rings->max_record)
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                     "rings.capacity",
                     "%llu bytes is less than twice rings.maxRecord (%llu); "
                     "raise capacity or lower maxRecord",
                     (unsigned long long)rings->capacity,
                     (unsigned long long)rings->max_record);
}

/* Parses "HOST:PORT", "[V6]:PORT" or "unix:/path" into listener. Returns 0
 * or -EINVAL with the reason in why. */
static int parse_listener(const char *text, struct fce_listener *listener,
                          const char **why)
{
    if (strncmp(text, "unix:", 5) == 0) {
        const char *path = text + 5;
        if (!*path) {
            *why = "the socket path after unix: is empty";
            return -EINVAL;
        }
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            *why = "the socket path is longer than 107 bytes";
            return -EINVAL;
        }
        listener->type = FCE_LISTEN_UNIX;
        listener->path = strdup(path);
        return listener->path ? 0 : -ENOMEM;
    }

    const char *colon = strrchr(text, ':');
    if (!colon) {
        *why = "expected HOST:PORT, [IPv6]:PORT or unix:/path";
        return -EINVAL;
    }
    char host[INET6_ADDRSTRLEN + 2];
    size_t host_len = (size_t)(colon - text);
    if (host_len >= sizeof(host)) {
        *why = "the host is not a numeric address";
        return -EINVAL;
    }
    memcpy(host, text, host_len);
    host[host_len] = '\0';

    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
        *why = "the port must be a number 1..65535";
        return -EINVAL;
    }

    unsigned char addr[16];
    char *bare = host;
    if (host[0] == '[' && host_len > 2 && host[host_len - 1] == ']') {
        host[host_len - 1] = '\0';
        bare = host + 1;
        if (inet_pton(AF_INET6, bare, addr) != 1) {
            *why = "the address in brackets is not a numeric IPv6 address";
            return -EINVAL;
        }
    } else if (host_len == 0 || strcmp(host, "*") == 0) {
        bare = "0.0.0.0";
    } else if (strcmp(host, "localhost") == 0) {
        bare = "127.0.0.1"; /* the one name accepted: no resolver needed */
    } else if (inet_pton(AF_INET, host, addr) != 1) {
        *why = "the host must be localhost or a numeric IPv4 address (or "
               "[IPv6] in brackets), such as 127.0.0.1";
        return -EINVAL;
    }

    listener->type = FCE_LISTEN_TCP;
    listener->host = strdup(bare);
    listener->port = (uint16_t)port;
    return listener->host ? 0 : -ENOMEM;
}

static bool same_listener(const struct fce_listener *a,
                          const struct fce_listener *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == FCE_LISTEN_UNIX)
        return strcmp(a->path, b->path) == 0;
    return a->port == b->port && strcmp(a->host, b->host) == 0;
}

static void load_listeners(const struct fce_yaml *yaml, struct fce_config *cfg,
                           const struct fce_strlist *listen,
                           const yaml_mark_t *mark)
{
    struct fce_ingest_config *ingest = &cfg->ingest;

    if (listen->count == 0 || listen->count > FCE_LISTENERS_MAX) {
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                     "ingest.listen",
                     "%zu addresses; give 1..%d, such as 127.0.0.1:8089",
                     listen->count, FCE_LISTENERS_MAX);
        return;
    }
    ingest->listeners = calloc(listen->count, sizeof(*ingest->listeners));
    if (!ingest->listeners)
        return;

    for (size_t i = 0; i < listen->count; i++) {
        struct fce_listener *l = &ingest->listeners[ingest->listener_count];
        const char *why = "out of memory";
        if (parse_listener(listen->items[i], l, &why) != 0) {
            fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                         "ingest.listen", "'%s': %s", listen->items[i], why);
            continue;
        }
        ingest->listener_count++;
        for (size_t j = 0; j + 1 < ingest->listener_count; j++)
            if (same_listener(&ingest->listeners[j], l))
                fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                             "ingest.listen", "'%s' is listed twice",
                             listen->items[i]);
    }
}

/* Reports a duration of 0, unless the key's value failed to parse. */
static void check_nonzero(const struct fce_yaml *yaml, uint64_t ms,
                          const char *path, const yaml_mark_t *mark)
{
    if (ms == 0 && !fce_diag_has_error(yaml->diag, path))
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark, path,
                     "0 is not allowed; give a duration such as 30s");
}

static void load_ingest(const struct fce_yaml *yaml, struct fce_config *cfg,
                        const struct fce_raw_ingest *raw, yaml_node_t *node)
{
    struct fce_ingest_config *ingest = &cfg->ingest;
    const yaml_mark_t *mark = node ? &node->start_mark : NULL;

    load_listeners(yaml, cfg, &raw->listen, mark);
    ingest->max_connections = raw->max_connections;
    ingest->max_header_bytes = raw->max_header_bytes;
    ingest->max_body_bytes = raw->max_body_bytes;
    ingest->idle_timeout_ms = raw->idle_timeout_ms;
    ingest->request_timeout_ms = raw->request_timeout_ms;
    ingest->io = (enum fce_io_mode)raw->io;
    ingest->ring_capacity = cfg->ring_capacity;

    if ((raw->max_header_bytes < 1024 || raw->max_header_bytes > (1u << 20)) &&
        !fce_diag_has_error(yaml->diag, "ingest.maxHeaderBytes"))
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                     "ingest.maxHeaderBytes",
                     "%llu bytes is out of range; use 1KiB..1MiB",
                     (unsigned long long)raw->max_header_bytes);
    if ((raw->max_body_bytes == 0 ||
         raw->max_body_bytes + RECORD_OVERHEAD > cfg->max_record) &&
        !fce_diag_has_error(yaml->diag, "ingest.maxBodyBytes") &&
        !fce_diag_has_error(yaml->diag, "rings.maxRecord"))
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                     "ingest.maxBodyBytes",
                     "%llu bytes does not fit rings.maxRecord (%llu) with "
                     "64KiB for the attributes; lower maxBodyBytes or raise "
                     "rings.maxRecord",
                     (unsigned long long)raw->max_body_bytes,
                     (unsigned long long)cfg->max_record);
    check_nonzero(yaml, raw->idle_timeout_ms, "ingest.idleTimeout", mark);
    check_nonzero(yaml, raw->request_timeout_ms, "ingest.requestTimeout", mark);

    if (cfg->ring_directory) {
        ingest->ring_path =
            fce_config_join(cfg->ring_directory, "ingest", ".ring");
        ingest->stats_path =
            fce_config_join(cfg->ring_directory, "ingest", ".stats");
        cfg->encoder_stats_path =
            fce_config_join(cfg->ring_directory, "encoder", ".stats");
    }
}

static void check_retry(const struct fce_yaml *yaml,
                        const struct fce_retry_policy *retry, const char *path,
                        const yaml_mark_t *mark)
{
    char initial[32], max[32];

    if (fce_diag_has_error(yaml->diag, "retry.initialBackoff") ||
        fce_diag_has_error(yaml->diag, "retry.maxBackoff"))
        return;
    if (retry->initial_ms == 0 || retry->max_ms < retry->initial_ms) {
        fce_format_duration(retry->initial_ms, initial, sizeof(initial));
        fce_format_duration(retry->max_ms, max, sizeof(max));
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark, path,
                     "initialBackoff (%s) must be above 0 and at most "
                     "maxBackoff (%s)",
                     initial, max);
    }
}

static void load_supervisor(const struct fce_yaml *yaml, struct fce_config *cfg,
                            const struct fce_supervisor_config *raw,
                            yaml_node_t *node)
{
    const yaml_mark_t *mark = node ? &node->start_mark : NULL;

    char initial[32], max[32];

    cfg->supervisor = *raw;
    fce_format_duration(raw->restart_initial_ms, initial, sizeof(initial));
    fce_format_duration(raw->restart_max_ms, max, sizeof(max));
    if ((raw->restart_initial_ms == 0 ||
         raw->restart_max_ms < raw->restart_initial_ms) &&
        !fce_diag_has_error(yaml->diag, "supervisor.restartBackoff") &&
        !fce_diag_has_error(yaml->diag, "supervisor.restartBackoffMax"))
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, mark,
                     "supervisor.restartBackoff",
                     "%s must be above 0 and at most restartBackoffMax (%s)",
                     initial, max);
    check_nonzero(yaml, raw->drain_timeout_ms, "supervisor.drainTimeout", mark);
}

static const char *const root_skip[] = {"cloudEvents", "publishers", NULL};

/* Finds a top-level block, reporting a second spelling of the same key. */
static yaml_node_t *root_block(const struct fce_yaml *yaml, yaml_node_t *root,
                               const char *key, yaml_node_t **key_node)
{
    yaml_node_t *found = NULL;
    yaml_node_pair_t *pair = root->data.mapping.pairs.start;
    for (; pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(yaml->doc, pair->key);
        if (k->type != YAML_SCALAR_NODE ||
            k->data.scalar.length != strlen(key) ||
            strncasecmp((const char *)k->data.scalar.value, key,
                        k->data.scalar.length) != 0)
            continue;
        if (found) {
            fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, &k->start_mark,
                         key,
                         "given twice (keys are compared without case); "
                         "keep one");
            continue;
        }
        found = yaml_document_get_node(yaml->doc, pair->value);
        *key_node = k;
    }
    return found;
}

static void build(const struct fce_yaml *yaml, struct fce_config_impl *impl,
                  yaml_node_t *root)
{
    struct fce_config *cfg = &impl->pub;
    struct fce_raw_root *raw = &impl->root;
    yaml_node_t *key_node = NULL;

    fce_option_apply(yaml, fce_root_options, raw, root, &root->start_mark, "",
                     root_skip, FCE_UNKNOWN_ERROR);
    load_rings(yaml, cfg, &raw->rings,
               fce_yaml_lookup(yaml, root, "rings", NULL));
    load_ingest(yaml, cfg, &raw->ingest,
                fce_yaml_lookup(yaml, root, "ingest", NULL));
    load_supervisor(yaml, cfg, &raw->supervisor,
                    fce_yaml_lookup(yaml, root, "supervisor", NULL));
    check_retry(yaml, &raw->retry, "retry", &root->start_mark);

    cfg->profile.source = raw->cloudevent.source;
    cfg->profile.jsonschemaurl = raw->cloudevent.jsonschemaurl;
    if (!cfg->profile.source)
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, &root->start_mark,
                     "cloudevent.source",
                     "empty; CloudEvents need a source, such as "
                     "https://github.com/flyteorg/flyteadmin");
    if (!cfg->ring_directory)
        return;

    yaml_node_t *flyte = root_block(yaml, root, "cloudEvents", &key_node);
    if (flyte)
        fce_config_load_flyte(yaml, impl, flyte, key_node);
    yaml_node_t *list = root_block(yaml, root, "publishers", &key_node);
    if (list)
        fce_config_load_publishers(yaml, impl, list, key_node);

    if (cfg->publisher_count == 0 && yaml->diag->error_count == 0)
        fce_diag_add(yaml->diag, FCE_SEV_ERROR, yaml->name, &root->start_mark,
                     NULL,
                     "no publisher is configured; set cloudEvents.enable: "
                     "true with a type, or add an entry under publishers");
}

static void report_parser_error(const yaml_parser_t *parser,
                                struct fce_diag *diag, const char *name)
{
    const char *problem = parser->problem ? parser->problem : "invalid YAML";
    if (parser->context)
        fce_diag_add(diag, FCE_SEV_ERROR, name, &parser->problem_mark, NULL,
                     "YAML syntax error: %s %s", problem, parser->context);
    else
        fce_diag_add(diag, FCE_SEV_ERROR, name, &parser->problem_mark, NULL,
                     "YAML syntax error: %s", problem);
}

/* Loads the first document and rejects a second one. */
static int load_document(yaml_parser_t *parser, yaml_document_t *doc,
                         bool *loaded, struct fce_diag *diag, const char *name)
{
    if (!yaml_parser_load(parser, doc)) {
        report_parser_error(parser, diag, name);
        return -EINVAL;
    }
    *loaded = true;

    yaml_document_t extra;
    if (!yaml_parser_load(parser, &extra)) {
        report_parser_error(parser, diag, name);
        return -EINVAL;
    }
    bool more = yaml_document_get_root_node(&extra) != NULL;
    yaml_document_delete(&extra);
    if (more) {
        fce_diag_add(diag, FCE_SEV_ERROR, name, NULL, NULL,
                     "more than one YAML document ('---'); keep one");
        return -EINVAL;
    }
    return 0;
}

int fce_config_load_string(const char *text, size_t len, const char *name,
                           struct fce_config **config, struct fce_diag *diag)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct fce_config_impl *impl = NULL;
    bool have_doc = false;
    int rc = -EINVAL;

    *config = NULL;
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (load_document(&parser, &doc, &have_doc, diag, name) != 0)
        goto cleanup;

    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        fce_diag_add(diag, FCE_SEV_ERROR, name, root ? &root->start_mark : NULL,
                     NULL, "expected a mapping of keys at the top, found %s",
                     fce_yaml_kind(root));
        goto cleanup;
    }

    impl = calloc(1, sizeof(*impl));
    if (!impl) {
        rc = -ENOMEM;
        goto cleanup;
    }
    impl->pub.path = strdup(name);
    struct fce_yaml yaml = {&doc, name, diag, NULL};
    const char *outer_source = diag->source;
    diag->source = name;
    build(&yaml, impl, root);
    diag->source = outer_source;
    rc = diag->error_count ? -EINVAL : 0;

cleanup:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc == 0) {
        *config = &impl->pub;
    } else if (impl) {
        fce_config_free(&impl->pub);
    }
    return rc;
}

int fce_config_load(const char *path, struct fce_config **config,
                    struct fce_diag *diag)
{
    char *text = NULL;
    int rc;

    *config = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        fce_diag_add(diag, FCE_SEV_ERROR, path, NULL, NULL, "cannot open: %s",
                     strerror(errno));
        return rc;
    }

    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        fce_diag_add(diag, FCE_SEV_ERROR, path, NULL, NULL, "cannot stat: %s",
                     strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        fce_diag_add(diag, FCE_SEV_ERROR, path, NULL, NULL,
                     "not a regular file; give the path of a YAML file");
        rc = -EINVAL;
        goto cleanup;
    }
    if (st.st_size > CONFIG_FILE_MAX) {
        fce_diag_add(diag, FCE_SEV_ERROR, path, NULL, NULL,
                     "too large: %lld bytes, more than the 4MiB a "
                     "configuration file may have",
                     (long long)st.st_size);
        rc = -EINVAL;
        goto cleanup;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        rc = -ENOMEM;
        goto cleanup;
    }
    ssize_t got = read(fd, text, (size_t)st.st_size);
    if (got != st.st_size) {
        rc = got < 0 ? -errno : -EIO;
        fce_diag_add(diag, FCE_SEV_ERROR, path, NULL, NULL, "read failed: %s",
                     strerror(-rc));
        goto cleanup;
    }
    rc = fce_config_load_string(text, (size_t)got, path, config, diag);

cleanup:
    free(text);
    close(fd);
    return rc;
}

static void free_publisher(struct fce_publisher_config *p)
{
    free(p->name);
    free(p->type);
    free(p->topic);
    free(p->dead_letter_path);
    free(p->ring_path);
    free(p->origin);
    free(p->stats_path);
    if (p->settings && p->backend_type)
        fce_option_free(p->backend_type->options, p->settings);
    free(p->settings);
}

void fce_config_free(struct fce_config *config)
{
    if (!config)
        return;
    struct fce_config_impl *impl = (struct fce_config_impl *)config;

    for (size_t i = 0; i < config->publisher_count; i++) {
        free_publisher(&config->publishers[i]);
        fce_option_free(fce_publisher_options, &impl->raw_publishers[i]);
    }
    free(config->publishers);
    free(impl->raw_publishers);

    for (size_t i = 0; i < config->ingest.listener_count; i++) {
        free(config->ingest.listeners[i].host);
        free(config->ingest.listeners[i].path);
    }
    free(config->ingest.listeners);
    free(config->ingest.ring_path);
    free(config->ingest.stats_path);
    free(config->encoder_stats_path);
    free(config->stats_directory);
    free(config->ring_directory);
    free(config->path);
    fce_option_free(fce_root_options, &impl->root);
    free(impl);
}

const struct fce_publisher_config *
fce_config_publisher(const struct fce_config *config, const char *name)
{
    for (size_t i = 0; i < config->publisher_count; i++)
        if (strcmp(config->publishers[i].name, name) == 0)
            return &config->publishers[i];
    return NULL;
}
