/* The epoll loop: level-triggered, non-blocking sockets, one thread. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fce_log.h"

#define EVENT_BATCH 256
#define READ_CHUNK  (64u << 10)
#define TICK_MS     100

/* epoll data: a listener is (index << 1) | 1; a connection is its pointer,
 * whose low bit is 0 because malloc aligns it. */
#define LISTENER_TAG(i)   (((uint64_t)(i) << 1) | 1)
#define IS_LISTENER(data) ((data)&1)

struct epoll_loop {
    struct ingest *ingest;
    struct ingest_listeners *listeners;
    int epfd;
    int spare_fd; /* closed to accept and drop a client when fds run out */
    char *read_buffer;
    bool draining; /* listeners removed: ignore their queued events */
};

static uint32_t registered(const struct conn *conn)
{
    return (uint32_t)(uintptr_t)conn->io;
}

static void close_conn(struct epoll_loop *loop, struct conn *conn)
{
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
    close(conn->fd);
    conn_free(conn);
}

/* Sends pending output until the socket is full. */
static void flush_output(struct conn *conn, uint64_t now_ms)
{
    const char *data;
    size_t len;
    bool sent = false;
    while ((len = conn_output(conn, &data)) > 0) {
        ssize_t n = send(conn->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errno != EAGAIN)
                conn->abort = true;
            break;
        }
        conn_output_done(conn, (size_t)n, now_ms);
        sent = true;
    }
    /* Draining the output may let buffered pipelined requests through. */
    if (sent && len == 0)
        conn_resume(conn, now_ms);
}

/* Flushes, then closes or re-registers the connection's interest. */
static void update(struct epoll_loop *loop, struct conn *conn, uint64_t now_ms)
{
    const char *data;
    flush_output(conn, now_ms);
    if (conn_needs_shutdown(conn)) {
        if (shutdown(conn->fd, SHUT_WR) < 0)
            conn->abort = true;
        conn_write_shut(conn, now_ms);
    }
    if (conn_finished(conn)) {
        close_conn(loop, conn);
        return;
    }

    uint32_t events = 0;
    if (conn_wants_input(conn))
        events |= EPOLLIN;
    if (conn_output(conn, &data) > 0)
        events |= EPOLLOUT;
    if (events != registered(conn)) {
        struct epoll_event ev = {.events = events, .data.ptr = conn};
        epoll_ctl(loop->epfd, EPOLL_CTL_MOD, conn->fd, &ev);
        conn->io = (void *)(uintptr_t)events;
    }
}

static void read_input(struct epoll_loop *loop, struct conn *conn,
                       uint64_t now_ms)
{
    /* A few reads per wakeup keep one busy client from starving others. */
    for (int i = 0; i < 4 && conn_wants_input(conn); i++) {
        ssize_t n = recv(conn->fd, loop->read_buffer, READ_CHUNK, 0);
        if (n > 0) {
            conn_input(conn, loop->read_buffer, (size_t)n, now_ms);
            if ((size_t)n < READ_CHUNK)
                break;
            continue;
        }
        if (n == 0)
            conn_peer_closed(conn, now_ms);
        else if (errno != EAGAIN && errno != EINTR)
            conn->abort = true;
        break;
    }
}

static void add_conn(struct epoll_loop *loop, int fd, uint64_t now_ms)
{
    struct ingest *ingest = loop->ingest;
    if (ingest->metrics.connections_open >= ingest->limits.max_connections) {
        ingest_refuse_connection(ingest, fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    struct conn *conn = conn_new(ingest, fd, now_ms);
    if (!conn) {
        close(fd);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = conn};
    conn->io = (void *)(uintptr_t)EPOLLIN;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        conn_free(conn);
    }
}

/* Accepts one client and drops it at once: the way out when the process
 * has no file descriptor left, instead of a busy loop on the listener. */
static void shed_client(struct epoll_loop *loop, int listen_fd)
{
    static struct fce_log_limit limit;
    fce_log_limited(&limit, 10000, FCE_LOG_ERROR, "ingest",
                    "out of file descriptors; dropping a new connection "
                    "(raise the open file limit or lower maxConnections)",
                    "error=%s", strerror(errno));
    if (loop->spare_fd >= 0)
        close(loop->spare_fd);
    int fd = accept(listen_fd, NULL, NULL);
    if (fd >= 0)
        close(fd);
    loop->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_all(struct epoll_loop *loop, int listen_fd, uint64_t now_ms)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            add_conn(loop, fd, now_ms);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE)
            shed_client(loop, listen_fd);
        else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            fce_warn("ingest", "accept failed", "error=%s", strerror(errno));
        if (errno == EAGAIN)
            return;
    }
}

static void tick(struct epoll_loop *loop, uint64_t now_ms)
{
    struct conn *conn = loop->ingest->conns;
    while (conn) {
        struct conn *next = conn->next;
        conn_tick(conn, now_ms);
        update(loop, conn, now_ms);
        conn = next;
    }
}

/* Stops accepting and asks every connection to finish its output. */
static void begin_drain(struct epoll_loop *loop)
{
    /* main() closes the listening sockets after the loop. */
    for (size_t i = 0; i < loop->listeners->count; i++)
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, loop->listeners->fds[i], NULL);
    loop->draining = true;
    for (struct conn *conn = loop->ingest->conns; conn; conn = conn->next)
        conn->close_after_flush = true;
}

static void handle_event(struct epoll_loop *loop, struct epoll_event *ev,
                         uint64_t now_ms)
{
    if (IS_LISTENER(ev->data.u64)) {
        size_t index = (size_t)(ev->data.u64 >> 1);
        if (!loop->draining && index < loop->listeners->count)
            accept_all(loop, loop->listeners->fds[index], now_ms);
        return;
    }
    struct conn *conn = ev->data.ptr;
    if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        read_input(loop, conn, now_ms);
    if ((ev->events & (EPOLLHUP | EPOLLERR)) && !(ev->events & EPOLLIN))
        conn->abort = true;
    update(loop, conn, now_ms);
}

static void run(struct epoll_loop *loop)
{
    struct ingest *ingest = loop->ingest;
    struct epoll_event events[EVENT_BATCH];
    uint64_t next_tick = 0, next_publish = 0, drain_deadline = 0;

    while (!drain_deadline ||
           (ingest->conns && ingest_now_ms() < drain_deadline)) {
        int timeout = ingest->paused_count ? 5 : TICK_MS;
        int n = epoll_wait(loop->epfd, events, EVENT_BATCH, timeout);
        uint64_t now = ingest_now_ms();
        for (int i = 0; i < n; i++)
            handle_event(loop, &events[i], now);

        if (ingest->stopping && !drain_deadline) {
            begin_drain(loop);
            drain_deadline = now + 1000;
        }
        if (now >= next_tick || ingest->paused_count) {
            ingest_try_attach(ingest, now);
            tick(loop, now);
            next_tick = now + TICK_MS;
        }
        if (now >= next_publish) {
            metrics_publish(ingest);
            next_publish = now + 1000;
        }
    }
}

int ingest_run_epoll(struct ingest *ingest, struct ingest_listeners *ls)
{
    struct epoll_loop loop = {.ingest = ingest, .listeners = ls};
    int rc = 0;
    loop.epfd = epoll_create1(EPOLL_CLOEXEC);
    loop.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    loop.read_buffer = malloc(READ_CHUNK);
    if (loop.epfd < 0 || !loop.read_buffer) {
        rc = loop.epfd < 0 ? -errno : -ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < ls->count; i++) {
        struct epoll_event ev = {.events = EPOLLIN,
                                 .data.u64 = LISTENER_TAG(i)};
        if (epoll_ctl(loop.epfd, EPOLL_CTL_ADD, ls->fds[i], &ev) < 0) {
            rc = -errno;
            goto cleanup;
        }
    }

    ingest->io_name = "epoll";
    run(&loop);
    while (ingest->conns)
        close_conn(&loop, ingest->conns);

cleanup:
    free(loop.read_buffer);
    if (loop.spare_fd >= 0)
        close(loop.spare_fd);
    if (loop.epfd >= 0)
        close(loop.epfd);
    return rc;
}
