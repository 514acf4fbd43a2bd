/* The stream protocol codec: preamble, varints, Frame and Ack messages. */
#include "fce_stream.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const uint8_t fce_stream_preamble[FCE_STREAM_PREAMBLE_LEN] = {
    0x00, 'F', 'C', 'E', 'S', 'T', 'R', FCE_STREAM_VERSION,
};

/* Protobuf wire types used by the envelopes. */
enum {
    WIRE_VARINT = 0,
    WIRE_FIXED64 = 1,
    WIRE_LEN = 2,
    WIRE_FIXED32 = 5,
};

const char *fce_stream_status_name(uint32_t status)
{
    switch (status) {
    case FCE_STREAM_OK:
        return "ok";
    case FCE_STREAM_REJECTED:
        return "rejected";
    case FCE_STREAM_BUSY:
        return "busy";
    case FCE_STREAM_ERROR:
        return "error";
    default:
        return "unknown";
    }
}

int fce_stream_preamble_check(const uint8_t *data, size_t len)
{
    size_t n = len < FCE_STREAM_PREAMBLE_LEN ? len : FCE_STREAM_PREAMBLE_LEN;
    size_t magic = FCE_STREAM_PREAMBLE_LEN - 1;

    if (memcmp(data, fce_stream_preamble, n < magic ? n : magic) != 0)
        return -EPROTO;
    if (n < FCE_STREAM_PREAMBLE_LEN)
        return 0;
    if (data[magic] != fce_stream_preamble[magic])
        return -EPROTONOSUPPORT;
    return 1;
}

int fce_stream_varint_put(struct fce_buf *out, uint64_t value)
{
    uint8_t bytes[10];
    size_t n = 0;

    while (value >= 0x80) {
        bytes[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    bytes[n++] = (uint8_t)value;
    return fce_buf_append(out, bytes, n);
}

int fce_stream_varint_get(const uint8_t *data, size_t len, uint64_t *value)
{
    uint64_t result = 0;

    for (size_t i = 0; i < 10; i++) {
        if (i == len)
            return 0;
        uint64_t bits = data[i] & 0x7f;
        /* The tenth byte may carry only the top bit of a 64-bit value. */
        if (i == 9 && bits > 1)
            return -EPROTO;
        result |= bits << (7 * i);
        if (!(data[i] & 0x80)) {
            *value = result;
            return (int)i + 1;
        }
    }
    return -EPROTO;
}

static size_t varint_size(uint64_t value)
{
    size_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        n++;
    }
    return n;
}

static int put_tag(struct fce_buf *out, uint32_t field, uint32_t wire)
{
    return fce_stream_varint_put(out, (uint64_t)field << 3 | wire);
}

int fce_stream_frame_encode(struct fce_buf *out, uint64_t seq, uint32_t kind,
                            const void *request, size_t request_len)
{
    size_t body = 1 + varint_size(seq) + 1 + varint_size(kind) + 1 +
                  varint_size(request_len) + request_len;
    int rc = fce_buf_reserve(out, varint_size(body) + body);
    if (rc < 0)
        return rc;

    /* The reservation above makes every append below succeed. */
    fce_stream_varint_put(out, body);
    put_tag(out, 1, WIRE_VARINT);
    fce_stream_varint_put(out, seq);
    put_tag(out, 2, WIRE_VARINT);
    fce_stream_varint_put(out, kind);
    put_tag(out, 3, WIRE_LEN);
    fce_stream_varint_put(out, request_len);
    return fce_buf_append(out, request, request_len);
}

/* One field of an envelope message, as the walker below returns it. */
struct field {
    uint32_t number;
    uint32_t wire;
    uint64_t value;       /* WIRE_VARINT */
    const uint8_t *bytes; /* WIRE_LEN */
    size_t len;
};

/* Reads the field at *pos. Returns 0, or -EBADMSG with err set. */
static int next_field(const uint8_t *data, size_t end, size_t *pos,
                      struct field *field, char *err, size_t err_size)
{
    uint64_t tag, length;
    int n = fce_stream_varint_get(data + *pos, end - *pos, &tag);
    if (n <= 0)
        goto bad_varint;
    *pos += (size_t)n;
    field->number = (uint32_t)(tag >> 3);
    field->wire = (uint32_t)(tag & 7);
    if (field->number == 0 || tag >> 3 > 0x1fffffff) {
        snprintf(err, err_size, "invalid field number %llu",
                 (unsigned long long)(tag >> 3));
        return -EBADMSG;
    }

    switch (field->wire) {
    case WIRE_VARINT:
        n = fce_stream_varint_get(data + *pos, end - *pos, &field->value);
        if (n <= 0)
            goto bad_varint;
        *pos += (size_t)n;
        return 0;
    case WIRE_FIXED64:
    case WIRE_FIXED32: {
        size_t size = field->wire == WIRE_FIXED64 ? 8 : 4;
        if (end - *pos < size)
            goto truncated;
        *pos += size;
        return 0;
    }
    case WIRE_LEN:
        n = fce_stream_varint_get(data + *pos, end - *pos, &length);
        if (n <= 0)
            goto bad_varint;
        *pos += (size_t)n;
        if (length > end - *pos)
            goto truncated;
        field->bytes = data + *pos;
        field->len = (size_t)length;
        *pos += (size_t)length;
        return 0;
    default:
        snprintf(err, err_size, "field %u has unsupported wire type %u",
                 field->number, field->wire);
        return -EBADMSG;
    }

bad_varint:
    snprintf(err, err_size, "malformed varint in the envelope");
    return -EBADMSG;
truncated:
    snprintf(err, err_size, "field %u runs past the end of the envelope",
             field->number);
    return -EBADMSG;
}

static int wrong_wire(const struct field *field, uint32_t expected, char *err,
                      size_t err_size)
{
    if (field->wire == expected)
        return 0;
    snprintf(err, err_size, "field %u has wire type %u, expected %u",
             field->number, field->wire, expected);
    return -EBADMSG;
}

/*
 * Reads the length prefix of a delimited message. Returns 1 with the body
 * position and length, 0 when more bytes are needed, or a negative errno.
 */
static int read_prefix(const uint8_t *data, size_t len, size_t max_body,
                       size_t *start, size_t *body_len)
{
    uint64_t length;
    int n = fce_stream_varint_get(data, len, &length);
    if (n < 0)
        return -EPROTO;
    if (n == 0)
        return 0;
    if (length > max_body)
        return -EMSGSIZE;
    if (len - (size_t)n < length)
        return 0;
    *start = (size_t)n;
    *body_len = (size_t)length;
    return 1;
}

static int decode_frame_fields(const uint8_t *data, size_t pos, size_t end,
                               struct fce_stream_frame *frame, char *err,
                               size_t err_size)
{
    struct field field;
    while (pos < end) {
        int rc = next_field(data, end, &pos, &field, err, err_size);
        if (rc < 0)
            return rc;

        uint32_t expected = field.number == 3 ? WIRE_LEN : WIRE_VARINT;
        if (field.number <= 3 && wrong_wire(&field, expected, err, err_size))
            return -EBADMSG;
        if (field.number == 1)
            frame->seq = field.value;
        else if (field.number == 2 && field.value > UINT32_MAX)
            frame->kind = UINT32_MAX;
        else if (field.number == 2)
            frame->kind = (uint32_t)field.value;
        else if (field.number == 3) {
            frame->request = field.bytes;
            frame->request_len = field.len;
        }
        /* Other fields are skipped, so newer senders can add some. */
    }
    return 0;
}

int fce_stream_frame_decode(const uint8_t *data, size_t len, size_t max_frame,
                            struct fce_stream_frame *frame, size_t *consumed,
                            char *err, size_t err_size)
{
    size_t start = 0, body_len = 0;
    int rc = read_prefix(data, len, max_frame, &start, &body_len);
    if (rc == -EMSGSIZE)
        snprintf(err, err_size, "frame is longer than the limit of %zu bytes",
                 max_frame);
    else if (rc == -EPROTO)
        snprintf(err, err_size, "malformed frame length");
    if (rc <= 0)
        return rc;

    memset(frame, 0, sizeof(*frame));
    frame->request = data + start; /* an empty request when field 3 is unset */
    *consumed = start + body_len;
    rc = decode_frame_fields(data, start, start + body_len, frame, err,
                             err_size);
    return rc < 0 ? rc : 1;
}

int fce_stream_ack_encode(struct fce_buf *out, const struct fce_stream_ack *ack)
{
    size_t message_len = ack->message_len;
    if (ack->message && message_len == 0)
        message_len = strlen(ack->message);

    size_t body = 1 + varint_size(ack->seq) + 1 + varint_size(ack->status);
    if (message_len)
        body += 1 + varint_size(message_len) + message_len;
    if (ack->retry_after_ms)
        body += 1 + varint_size(ack->retry_after_ms);
    int rc = fce_buf_reserve(out, varint_size(body) + body);
    if (rc < 0)
        return rc;

    fce_stream_varint_put(out, body);
    put_tag(out, 1, WIRE_VARINT);
    fce_stream_varint_put(out, ack->seq);
    put_tag(out, 2, WIRE_VARINT);
    fce_stream_varint_put(out, ack->status);
    if (message_len) {
        put_tag(out, 3, WIRE_LEN);
        fce_stream_varint_put(out, message_len);
        fce_buf_append(out, ack->message, message_len);
    }
    if (ack->retry_after_ms) {
        put_tag(out, 4, WIRE_VARINT);
        fce_stream_varint_put(out, ack->retry_after_ms);
    }
    return 0;
}

static int decode_ack_field(const struct field *field,
                            struct fce_stream_ack *ack)
{
    uint32_t expected = field->number == 3 ? WIRE_LEN : WIRE_VARINT;
    if (field->number <= 4 && field->wire != expected)
        return -EPROTO;

    if (field->number == 1)
        ack->seq = field->value;
    else if (field->number == 2)
        ack->status = field->value > UINT32_MAX ? (uint32_t)UINT32_MAX
                                                : (uint32_t)field->value;
    else if (field->number == 3) {
        ack->message = (const char *)field->bytes;
        ack->message_len = field->len;
    } else if (field->number == 4)
        ack->retry_after_ms =
            field->value > UINT32_MAX ? UINT32_MAX : (uint32_t)field->value;
    return 0;
}

int fce_stream_ack_decode(const uint8_t *data, size_t len,
                          struct fce_stream_ack *ack, size_t *consumed)
{
    size_t start = 0, body_len = 0;
    int rc = read_prefix(data, len, FCE_STREAM_ACK_MAX, &start, &body_len);
    if (rc <= 0)
        return rc;

    memset(ack, 0, sizeof(*ack));
    ack->message = "";
    size_t pos = start, end = start + body_len;
    char err[128];
    while (pos < end) {
        struct field field;
        if (next_field(data, end, &pos, &field, err, sizeof(err)) < 0)
            return -EPROTO;
        if (decode_ack_field(&field, ack) < 0)
            return -EPROTO;
    }
    *consumed = end;
    return 1;
}

/* ---- the sending client ---- */

#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fce_value.h"

#define CLIENT_DEFAULT_WINDOW     256
#define CLIENT_DEFAULT_TIMEOUT_MS 30000
#define CLIENT_DEFAULT_RECONNECTS 5
#define CLIENT_DEFAULT_BUSY_MS    60000
#define CLIENT_HTTP_HEAD_MAX      16384

/* An event sent and not yet settled. */
struct pending {
    uint64_t seq;
    uint64_t tag;
    uint32_t kind;
    uint8_t *data;
    size_t len;
};

struct fce_client {
    struct fce_client_options opts;
    char *host; /* owned copy of opts.host */
    char *unix_path;
    int fd;
    struct pending *queue; /* FIFO of unsettled events, capacity window */
    size_t head, count, capacity;
    uint64_t next_seq;
    struct fce_buf out; /* bytes not yet written to the socket */
    size_t out_off;
    struct fce_buf in;       /* bytes read and not yet decoded */
    int reconnects;          /* since the last progress */
    uint64_t busy_since_ms;  /* first BUSY (or 503) since the last progress */
    uint32_t retry_after_ms; /* set by a busy ack: reconnect after this */
    uint64_t acks;           /* acks received, BUSY included */
    char busy_message[256];  /* the last BUSY ack's or 503's message */
    bool broken;             /* a protocol error: no more sending */
    size_t failed;           /* events reported FAILED */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int fce_client_parse_url(const char *url, struct fce_client_options *opts,
                         char *host_buf, size_t host_size, char *err,
                         size_t err_size)
{
    const char *rest = url;
    if (strncmp(rest, "http://", 7) == 0)
        rest += 7;
    else if (strncmp(rest, "tcp://", 6) == 0)
        rest += 6;
    else if (strstr(rest, "://")) {
        snprintf(err, err_size,
                 "unsupported URL scheme in '%s'; use http://HOST:PORT", url);
        return -EINVAL;
    }

    size_t end = strcspn(rest, "/");
    const char *host = rest, *colon = NULL;
    size_t host_len = end;
    if (rest[0] == '[') {
        const char *close = memchr(rest, ']', end);
        if (!close)
            goto bad;
        host = rest + 1;
        host_len = (size_t)(close - host);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(rest, ':', end);
        if (colon)
            host_len = (size_t)(colon - rest);
    }
    if (host_len == 0 || host_len >= host_size)
        goto bad;

    unsigned long port = 8089;
    if (colon) {
        char *port_end;
        errno = 0;
        port = strtoul(colon + 1, &port_end, 10);
        if (errno || port == 0 || port > 65535 || port_end == colon + 1 ||
            port_end != rest + end)
            goto bad;
    }
    if (rest[end] && strcmp(rest + end, "/") != 0)
        goto bad;

    memcpy(host_buf, host, host_len);
    host_buf[host_len] = '\0';
    opts->host = host_buf;
    opts->port = (uint16_t)port;
    return 0;

bad:
    snprintf(err, err_size,
             "invalid ingest address '%s'; expected HOST:PORT or "
             "http://HOST:PORT",
             url);
    return -EINVAL;
}

static void describe_address(const struct fce_client *client, char *out,
                             size_t size)
{
    if (client->unix_path)
        snprintf(out, size, "unix:%s", client->unix_path);
    else
        snprintf(out, size, "%s:%u", client->host, client->opts.port);
}

static int connect_unix(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return -ENAMETOOLONG;
    strcpy(addr.sun_path, path);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static int connect_tcp(const char *host, uint16_t port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *list, *ai;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    if (getaddrinfo(host, service, &hints, &list) != 0)
        return -EHOSTUNREACH;

    int rc = -ECONNREFUSED;
    for (ai = list; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            freeaddrinfo(list);
            return fd;
        }
        rc = -errno;
        close(fd);
    }
    freeaddrinfo(list);
    return rc;
}

/* Writes all of data, waiting up to the timeout. */
static int write_all(struct fce_client *client, const void *data, size_t len)
{
    const uint8_t *bytes = data;
    while (len > 0) {
        ssize_t n = send(client->fd, bytes, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads at least one byte into client->in, waiting up to the timeout.
 * Returns the bytes read, 0 at end of stream, or a negative errno. */
static ssize_t read_some(struct fce_client *client, int timeout_ms)
{
    struct pollfd pfd = {.fd = client->fd, .events = POLLIN};
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready < 0)
        return errno == EINTR ? -EINTR : -errno;
    if (ready == 0)
        return -ETIMEDOUT;

    int rc = fce_buf_reserve(&client->in, 65536);
    if (rc < 0)
        return rc;
    ssize_t n = recv(client->fd, client->in.data + client->in.len, 65536, 0);
    if (n < 0)
        return -errno;
    client->in.len += (size_t)n;
    return n;
}

/* Reads the server's preamble of a new stream connection. */
static int read_preamble(struct fce_client *client, char *err, size_t err_size)
{
    while (client->in.len < FCE_STREAM_PREAMBLE_LEN) {
        ssize_t n = read_some(client, client->opts.timeout_ms);
        if (n == -EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, err_size, "no stream preamble from ingest: %s",
                     n == 0 ? "connection closed" : strerror((int)-n));
            return n == 0 ? -ECONNRESET : (int)n;
        }
    }

    int rc =
        fce_stream_preamble_check((uint8_t *)client->in.data, client->in.len);
    if (rc <= 0) {
        snprintf(err, err_size,
                 "the server does not speak the stream protocol version %d "
                 "(it answered '%.16s'); use --http for an HTTP endpoint",
                 FCE_STREAM_VERSION, client->in.data + 1);
        return -EPROTO;
    }
    memmove(client->in.data, client->in.data + FCE_STREAM_PREAMBLE_LEN,
            client->in.len - FCE_STREAM_PREAMBLE_LEN);
    client->in.len -= FCE_STREAM_PREAMBLE_LEN;
    return 0;
}

static int client_connect(struct fce_client *client, char *err, size_t err_size)
{
    char address[160];
    describe_address(client, address, sizeof(address));
    int fd = client->unix_path ? connect_unix(client->unix_path)
                               : connect_tcp(client->host, client->opts.port);
    if (fd < 0) {
        snprintf(err, err_size,
                 "cannot connect to %s: %s; is fce-ingest "
                 "running and listening there?",
                 address, strerror(-fd));
        return fd;
    }
    client->fd = fd;
    fce_buf_reset(&client->in);
    fce_buf_reset(&client->out);
    client->out_off = 0;
    if (client->opts.transport == FCE_CLIENT_HTTP)
        return 0;

    int rc = write_all(client, fce_stream_preamble, FCE_STREAM_PREAMBLE_LEN);
    if (rc == 0)
        rc = read_preamble(client, err, err_size);
    else
        snprintf(err, err_size, "cannot write to %s: %s", address,
                 strerror(-rc));
    return rc;
}

static void client_disconnect(struct fce_client *client)
{
    if (client->fd >= 0)
        close(client->fd);
    client->fd = -1;
}

int fce_client_open(const struct fce_client_options *opts,
                    struct fce_client **client_out, char *err, size_t err_size)
{
    struct fce_client *client = calloc(1, sizeof(*client));
    if (!client)
        return -ENOMEM;
    client->opts = *opts;
    client->fd = -1;
    client->next_seq = 1;
    if (!client->opts.window)
        client->opts.window = CLIENT_DEFAULT_WINDOW;
    if (!client->opts.timeout_ms)
        client->opts.timeout_ms = CLIENT_DEFAULT_TIMEOUT_MS;
    if (!client->opts.max_reconnects)
        client->opts.max_reconnects = CLIENT_DEFAULT_RECONNECTS;
    if (!client->opts.busy_timeout_ms)
        client->opts.busy_timeout_ms = CLIENT_DEFAULT_BUSY_MS;
    if (client->opts.transport == FCE_CLIENT_HTTP)
        client->opts.window = 1;

    int rc = -ENOMEM;
    client->capacity = client->opts.window;
    client->queue = calloc(client->capacity, sizeof(*client->queue));
    client->host = opts->host ? strdup(opts->host) : strdup("127.0.0.1");
    client->unix_path = opts->unix_path ? strdup(opts->unix_path) : NULL;
    if (!client->queue || !client->host ||
        (opts->unix_path && !client->unix_path))
        goto fail;

    rc = client_connect(client, err, err_size);
    if (rc < 0)
        goto fail;
    *client_out = client;
    return 0;

fail:
    if (rc == -ENOMEM)
        snprintf(err, err_size, "out of memory");
    client_disconnect(client);
    free(client->queue);
    free(client->host);
    free(client->unix_path);
    free(client);
    return rc;
}

static struct pending *queue_at(struct fce_client *client, size_t i)
{
    return &client->queue[(client->head + i) % client->capacity];
}

/* Settles the oldest pending event and reports it. */
static void settle_front(struct fce_client *client,
                         enum fce_client_outcome outcome, const char *message)
{
    struct pending *p = queue_at(client, 0);
    if (outcome == FCE_CLIENT_FAILED)
        client->failed++;
    if (client->opts.on_result)
        client->opts.on_result(client->opts.ctx, p->tag, outcome, message);
    free(p->data);
    p->data = NULL;
    client->head = (client->head + 1) % client->capacity;
    client->count--;
    client->reconnects = 0;
}

static void fail_all(struct fce_client *client, const char *message)
{
    while (client->count > 0)
        settle_front(client, FCE_CLIENT_FAILED, message);
}

/* ---- stream transport ---- */

static int queue_frames(struct fce_client *client)
{
    for (size_t i = 0; i < client->count; i++) {
        struct pending *p = queue_at(client, i);
        int rc = fce_stream_frame_encode(&client->out, p->seq, p->kind, p->data,
                                         p->len);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Applies one ack; returns 0, or -EPROTO after a protocol error. */
static int apply_ack(struct fce_client *client,
                     const struct fce_stream_ack *ack, char *err,
                     size_t err_size)
{
    char message[FCE_STREAM_ACK_MAX + 1];
    snprintf(message, sizeof(message), "%.*s", (int)ack->message_len,
             ack->message);
    client->acks++;

    while (client->count > 0 && queue_at(client, 0)->seq < ack->seq)
        settle_front(client, FCE_CLIENT_ACCEPTED, NULL);
    /* BUSY and ERROR cover the oldest unsettled frame and all later ones,
     * even when the server could not name that frame's sequence. */
    bool covers_rest =
        ack->status == FCE_STREAM_BUSY || ack->status == FCE_STREAM_ERROR;
    if (client->count == 0 ||
        (queue_at(client, 0)->seq != ack->seq && !covers_rest)) {
        snprintf(err, err_size, "ingest acknowledged unknown sequence %llu",
                 (unsigned long long)ack->seq);
        return -EPROTO;
    }

    switch (ack->status) {
    case FCE_STREAM_OK:
        client->busy_since_ms = 0;
        settle_front(client, FCE_CLIENT_ACCEPTED, NULL);
        return 0;
    case FCE_STREAM_REJECTED:
        client->busy_since_ms = 0;
        settle_front(client, FCE_CLIENT_REJECTED, message);
        return 0;
    case FCE_STREAM_BUSY:
        if (!client->busy_since_ms)
            client->busy_since_ms = now_ms();
        snprintf(client->busy_message, sizeof(client->busy_message), "%.200s",
                 message);
        client->retry_after_ms =
            ack->retry_after_ms ? ack->retry_after_ms : 100;
        return 0;
    default:
        snprintf(err, err_size, "ingest reported a protocol error: %s",
                 message);
        return -EPROTO;
    }
}

static int decode_acks(struct fce_client *client, char *err, size_t err_size)
{
    size_t pos = 0;
    int rc = 0;
    while (rc == 0 && pos < client->in.len) {
        struct fce_stream_ack ack;
        size_t used;
        int got = fce_stream_ack_decode((uint8_t *)client->in.data + pos,
                                        client->in.len - pos, &ack, &used);
        if (got == 0)
            break;
        if (got < 0) {
            snprintf(err, err_size, "malformed ack from ingest");
            rc = -EPROTO;
            break;
        }
        rc = apply_ack(client, &ack, err, err_size);
        pos += used;
    }
    if (pos > 0) {
        memmove(client->in.data, client->in.data + pos, client->in.len - pos);
        client->in.len -= pos;
    }
    return rc;
}

/* Returns whether ingest has been busy (ring full or not ready) for the
 * busy timeout, with the message in err. answer names the response that
 * said so: "BUSY" on the stream or "503" over HTTP. */
static bool busy_expired(struct fce_client *client, const char *answer,
                         char *err, size_t err_size)
{
    uint64_t busy = now_ms() - client->busy_since_ms;
    if (!client->busy_since_ms || busy < (uint64_t)client->opts.busy_timeout_ms)
        return false;
    snprintf(err, err_size,
             "ingest answered %s for %llu ms, past the busy timeout of %d "
             "ms (its ring stayed full or not ready): %s",
             answer, (unsigned long long)busy, client->opts.busy_timeout_ms,
             client->busy_message);
    return true;
}

/* Reconnects after a busy ack or a lost connection and resends every
 * unsettled frame. Returns 0, or a negative errno after giving up. */
static int stream_reconnect(struct fce_client *client, const char *why,
                            char *err, size_t err_size)
{
    client_disconnect(client);
    for (;;) {
        uint32_t delay = client->retry_after_ms;
        if (delay) {
            if (busy_expired(client, "BUSY", err, err_size))
                return -EBUSY;
        } else {
            if (client->opts.max_reconnects < 0 ||
                client->reconnects >= client->opts.max_reconnects) {
                snprintf(err, err_size, "%s", why);
                return -ECONNRESET;
            }
            delay = 100u << (client->reconnects < 4 ? client->reconnects : 4);
            client->reconnects++;
        }
        client->retry_after_ms = 0;
        sleep_ms(delay);
        char connect_err[256];
        if (client_connect(client, connect_err, sizeof(connect_err)) == 0)
            return queue_frames(client);
        client_disconnect(client);
        if (client->busy_since_ms)
            client->retry_after_ms = 100;
    }
}

/* Moves bytes both ways once, waiting up to timeout_ms for the socket.
 * Returns 0, or a negative errno when the stream cannot go on. */
static int stream_pump(struct fce_client *client, int timeout_ms, char *err,
                       size_t err_size)
{
    struct pollfd pfd = {.fd = client->fd, .events = POLLIN};
    if (client->out.len > client->out_off)
        pfd.events |= POLLOUT;
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready < 0 && errno != EINTR)
        return -errno;
    if (ready <= 0)
        return ready == 0 ? -ETIMEDOUT : 0;

    const char *lost = NULL;
    if (pfd.revents & POLLOUT) {
        ssize_t n = send(client->fd, client->out.data + client->out_off,
                         client->out.len - client->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            lost = "connection to ingest lost while sending";
        if (n > 0)
            client->out_off += (size_t)n;
        if (client->out_off == client->out.len) {
            fce_buf_reset(&client->out);
            client->out_off = 0;
        }
    }
    if (!lost && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = read_some(client, 0);
        if (n == 0 || (n < 0 && n != -EINTR && n != -ETIMEDOUT))
            lost = "connection to ingest closed before every frame was "
                   "acknowledged";
    }

    int rc = decode_acks(client, err, err_size);
    if (rc < 0)
        return rc;
    if (client->retry_after_ms || (lost && client->count > 0))
        return stream_reconnect(client, lost ? lost : "ingest is busy", err,
                                err_size);
    if (lost) {
        client_disconnect(client);
        return client_connect(client, err, err_size);
    }
    return 0;
}

/* Pumps until fewer than limit events are unsettled. */
static int stream_wait(struct fce_client *client, size_t limit, char *err,
                       size_t err_size)
{
    uint64_t deadline = now_ms() + (uint64_t)client->opts.timeout_ms;
    size_t before = client->count;
    uint64_t acks_before = client->acks;
    while (client->count >= limit && client->count > 0) {
        int rc = stream_pump(client, 100, err, err_size);
        if (rc == -ETIMEDOUT) {
            /* Any ack, BUSY included, counts as progress. While ingest is
             * busy it holds a frame for a while before it acks, so the
             * busy timeout bounds the wait instead of the ack timeout. */
            if (client->count < before || client->acks != acks_before) {
                before = client->count;
                acks_before = client->acks;
                deadline = now_ms() + (uint64_t)client->opts.timeout_ms;
            } else if (client->busy_since_ms) {
                if (busy_expired(client, "BUSY", err, err_size))
                    return -EBUSY;
            } else if (now_ms() >= deadline) {
                snprintf(err, err_size, "no ack from ingest within %d ms",
                         client->opts.timeout_ms);
                return -ETIMEDOUT;
            }
            continue;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- HTTP transport ---- */

static const char *kind_path(uint32_t kind)
{
    switch (kind) {
    case 1:
        return "/api/v1/events/workflows";
    case 2:
        return "/api/v1/events/nodes";
    case 3:
        return "/api/v1/events/tasks";
    default:
        return NULL;
    }
}

struct http_response {
    int status;
    uint64_t retry_after_s;
    bool close;
    char message[512];
};

static uint64_t header_number(const char *head, size_t head_len,
                              const char *name, bool *found)
{
    size_t name_len = strlen(name);
    for (const char *line = memchr(head, '\n', head_len); line;
         line = memchr(line + 1, '\n', head_len - (size_t)(line + 1 - head))) {
        if ((size_t)(head + head_len - line - 1) > name_len &&
            strncasecmp(line + 1, name, name_len) == 0 &&
            line[1 + name_len] == ':') {
            *found = true;
            return strtoull(line + 2 + name_len, NULL, 10);
        }
    }
    *found = false;
    return 0;
}

/* Copies the "message" member of a JSON error body, unescaping quotes. */
static void json_message(const char *body, size_t len, char *out,
                         size_t out_size)
{
    static const char key[] = "\"message\":\"";
    const char *start = memmem(body, len, key, sizeof(key) - 1);
    size_t o = 0;
    if (start) {
        const char *p = start + sizeof(key) - 1, *end = body + len;
        while (p < end && *p != '"' && o + 1 < out_size) {
            if (*p == '\\' && p + 1 < end)
                p++;
            out[o++] = *p++;
        }
    } else {
        snprintf(out, out_size, "%.*s", (int)(len < 200 ? len : 200), body);
        return;
    }
    out[o] = '\0';
}

static int http_read_response(struct fce_client *client,
                              struct http_response *response, char *err,
                              size_t err_size)
{
    const char *end = NULL;
    while (!client->in.data ||
           !(end = memmem(client->in.data, client->in.len, "\r\n\r\n", 4))) {
        if (client->in.len > CLIENT_HTTP_HEAD_MAX) {
            snprintf(err, err_size, "response head from ingest is too long");
            return -EPROTO;
        }
        ssize_t n = read_some(client, client->opts.timeout_ms);
        if (n == 0 || (n < 0 && n != -EINTR))
            return n == 0 ? -ECONNRESET : (int)n;
    }

    size_t head_len = (size_t)(end - client->in.data) + 4;
    if (sscanf(client->in.data, "HTTP/1.%*d %d", &response->status) != 1) {
        snprintf(err, err_size, "malformed response line from ingest");
        return -EPROTO;
    }
    bool found;
    uint64_t body_len =
        header_number(client->in.data, head_len, "Content-Length", &found);
    response->retry_after_s =
        header_number(client->in.data, head_len, "Retry-After", &found);
    response->close =
        memmem(client->in.data, head_len, "Connection: close", 17) != NULL;
    while (client->in.len < head_len + body_len) {
        ssize_t n = read_some(client, client->opts.timeout_ms);
        if (n == 0 || (n < 0 && n != -EINTR))
            return n == 0 ? -ECONNRESET : (int)n;
    }

    json_message(client->in.data + head_len, (size_t)body_len,
                 response->message, sizeof(response->message));
    size_t used = head_len + (size_t)body_len;
    memmove(client->in.data, client->in.data + used, client->in.len - used);
    client->in.len -= used;
    return 0;
}

static int http_exchange(struct fce_client *client, const struct pending *p,
                         struct http_response *response, char *err,
                         size_t err_size)
{
    fce_buf_reset(&client->out);
    int rc = fce_buf_printf(&client->out,
                            "POST %s HTTP/1.1\r\nHost: %s\r\n"
                            "Content-Type: application/x-protobuf\r\n"
                            "Content-Length: %zu\r\n\r\n",
                            kind_path(p->kind), client->host, p->len);
    if (rc == 0)
        rc = fce_buf_append(&client->out, p->data, p->len);
    if (rc == 0)
        rc = write_all(client, client->out.data, client->out.len);
    if (rc == 0)
        rc = http_read_response(client, response, err, err_size);
    return rc;
}

/* Sends the one pending event over HTTP until it has a result. */
static int http_deliver(struct fce_client *client, char *err, size_t err_size)
{
    struct pending *p = queue_at(client, 0);
    client->busy_since_ms = 0;
    for (;;) {
        struct http_response response = {0};
        int rc = client->fd < 0 ? client_connect(client, err, err_size) : 0;
        if (rc == 0)
            rc = http_exchange(client, p, &response, err, err_size);
        if (rc == -EPROTO || rc == -ETIMEDOUT)
            goto failed;
        if (rc < 0) {
            client_disconnect(client);
            if (client->opts.max_reconnects < 0 ||
                client->reconnects++ >= client->opts.max_reconnects) {
                snprintf(err, err_size, "cannot send to ingest: %s",
                         strerror(-rc));
                goto failed;
            }
            sleep_ms(100u << (client->reconnects < 4 ? client->reconnects : 4));
            continue;
        }
        if (response.close)
            client_disconnect(client);

        if (response.status == 503) {
            if (!client->busy_since_ms)
                client->busy_since_ms = now_ms();
            snprintf(client->busy_message, sizeof(client->busy_message),
                     "%.200s", response.message);
            if (busy_expired(client, "503", err, err_size))
                goto failed;
            /* Follow Retry-After, capped at 5 s; 100 ms without one. */
            uint64_t wait = response.retry_after_s * 1000;
            if (wait == 0)
                wait = 100;
            if (wait > 5000)
                wait = 5000;
            sleep_ms((uint32_t)wait);
            continue;
        }
        if (response.status == 200)
            settle_front(client, FCE_CLIENT_ACCEPTED, NULL);
        else {
            char message[600];
            snprintf(message, sizeof(message), "HTTP %d: %s", response.status,
                     response.message);
            settle_front(client, FCE_CLIENT_REJECTED, message);
        }
        return 0;
    }

failed:
    client_disconnect(client);
    settle_front(client, FCE_CLIENT_FAILED, err);
    return 0;
}

/* ---- both transports ---- */

int fce_client_send(struct fce_client *client, uint32_t kind, const void *data,
                    size_t len, uint64_t tag, char *err, size_t err_size)
{
    if (client->broken) {
        snprintf(err, err_size, "the connection to ingest failed earlier");
        return -EPIPE;
    }
    if (!kind_path(kind)) {
        snprintf(err, err_size,
                 "invalid kind %u; expected 1 (workflow), "
                 "2 (node) or 3 (task)",
                 kind);
        return -EINVAL;
    }
    int rc = 0;
    if (client->opts.transport == FCE_CLIENT_STREAM)
        rc = stream_wait(client, client->capacity, err, err_size);
    if (rc < 0)
        goto broken;

    struct pending *p = queue_at(client, client->count);
    p->data = malloc(len ? len : 1);
    if (!p->data) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    if (len)
        memcpy(p->data, data, len);
    p->len = len;
    p->kind = kind;
    p->tag = tag;
    p->seq = client->next_seq++;
    client->count++;

    if (client->opts.transport == FCE_CLIENT_HTTP)
        return http_deliver(client, err, err_size);
    rc = fce_stream_frame_encode(&client->out, p->seq, kind, data, len);
    if (rc == 0)
        rc = stream_pump(client, 0, err, err_size);
    if (rc == 0 || rc == -ETIMEDOUT)
        return 0;

broken:
    client->broken = true;
    fail_all(client, err);
    return rc;
}

int fce_client_finish(struct fce_client *client, char *err, size_t err_size)
{
    int rc = 0;
    if (!client->broken && client->opts.transport == FCE_CLIENT_STREAM) {
        rc = stream_wait(client, 1, err, err_size);
        if (rc < 0) {
            client->broken = true;
            fail_all(client, err);
        }
    }
    if (rc == 0 && client->failed > 0) {
        snprintf(err, err_size, "%zu events were not delivered",
                 client->failed);
        rc = -EIO;
    }
    return rc;
}

int fce_client_parse_timeout(const char *text, int *ms, char *err,
                             size_t err_size)
{
    uint64_t value;
    if (text[strspn(text, " ")] == '-') {
        snprintf(err, err_size,
                 "'%s' is negative; give a duration such as 500ms or 10s",
                 text);
        return -EINVAL;
    }
    if (fce_parse_duration(text, &value) < 0 || value == 0 || value > INT_MAX) {
        snprintf(err, err_size,
                 "'%s' is not a duration from 1ms to 24 days; give one "
                 "such as 500ms, 10s or 1m (a bare number is milliseconds)",
                 text);
        return -EINVAL;
    }
    *ms = (int)value;
    return 0;
}

uint32_t fce_client_kind_from_name(const char *path)
{
    static const char *const words[] = {"workflow", "node", "task"};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;

    while (*base) {
        size_t len = 0;
        while (isalnum((unsigned char)base[len]))
            len++;
        for (uint32_t kind = 1; kind <= 3; kind++) {
            size_t word_len = strlen(words[kind - 1]);
            bool plural = len == word_len + 1 && base[word_len] == 's';
            if ((len == word_len || plural) &&
                strncmp(base, words[kind - 1], word_len) == 0)
                return kind;
        }
        base += len;
        while (*base && !isalnum((unsigned char)*base))
            base++;
    }
    return 0;
}

void fce_client_close(struct fce_client *client)
{
    if (!client)
        return;
    fail_all(client, "client closed before ingest acknowledged the event");
    client_disconnect(client);
    fce_buf_free(&client->in);
    fce_buf_free(&client->out);
    free(client->queue);
    free(client->host);
    free(client->unix_path);
    free(client);
}
