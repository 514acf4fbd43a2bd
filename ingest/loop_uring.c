/*
 * The io_uring loop: multishot accept, multishot receive into a provided
 * buffer ring, and one send in flight per connection.
 *
 * Each feature is probed and has a fallback: single-shot accept when the
 * kernel rejects multishot accept (before 5.19), and single-shot receive
 * into a per-connection buffer when the buffer ring cannot be registered
 * or multishot receive is rejected (before 6.0). liburing 2.3 (Debian 12)
 * has no io_uring_setup_buf_ring(), so the buffer ring is mapped and
 * registered here by hand.
 *
 * A connection's memory is freed only once no operation of it is in
 * flight, so every completion's user_data points to live memory.
 */
#include "ingest.h"

#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fce_log.h"

#define QUEUE_DEPTH 4096
#define BUF_GROUP   1
#define BUF_COUNT   512 /* power of two, as the buffer ring requires */
#define BUF_SIZE    (16u << 10)
#define SINGLE_RECV (16u << 10)
#define TICK_MS     100
#define CQE_BATCH   256

/* user_data = pointer | operation; pointers are 8-byte aligned. */
enum op {
    OP_ACCEPT = 1,
    OP_RECV = 2,
    OP_SEND = 3,
    OP_IGNORE = 4, /* cancellations: their own completions carry nothing */
};
#define OP_MASK 7u

struct uring_listener {
    int fd;
    bool armed;
    bool closed;
} __attribute__((aligned(8)));

struct uring_conn {
    struct fce_buf sending; /* owned by the send in flight */
    size_t send_off;
    char *recv_buffer; /* single-shot receive only */
    bool recv_armed;
    bool recv_cancelled;
    bool send_inflight;
    bool closing;
};

struct uring_loop {
    struct ingest *ingest;
    struct io_uring ring;
    struct uring_listener *listeners;
    size_t listener_count;
    bool multishot_accept;
    bool multishot_recv;
    struct io_uring_buf_ring *buf_ring; /* NULL: single-shot receive */
    size_t buf_ring_size;
    char *buf_base;
};

static struct io_uring_sqe *get_sqe(struct uring_loop *loop)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);
    if (!sqe) {
        io_uring_submit(&loop->ring);
        sqe = io_uring_get_sqe(&loop->ring);
    }
    return sqe;
}

static void set_data(struct io_uring_sqe *sqe, void *ptr, enum op op)
{
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)ptr | op);
}

/* ---- buffer ring ---- */

static int setup_buf_ring(struct uring_loop *loop)
{
    size_t ring_size = BUF_COUNT * sizeof(struct io_uring_buf);
    void *ring_mem = mmap(NULL, ring_size, PROT_READ | PROT_WRITE,
                          MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ring_mem == MAP_FAILED)
        return -errno;
    loop->buf_base = malloc((size_t)BUF_COUNT * BUF_SIZE);
    if (!loop->buf_base) {
        munmap(ring_mem, ring_size);
        return -ENOMEM;
    }

    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)ring_mem,
        .ring_entries = BUF_COUNT,
        .bgid = BUF_GROUP,
    };
    int rc = io_uring_register_buf_ring(&loop->ring, &reg, 0);
    if (rc < 0) {
        munmap(ring_mem, ring_size);
        free(loop->buf_base);
        loop->buf_base = NULL;
        return rc;
    }

    loop->buf_ring = ring_mem;
    loop->buf_ring_size = ring_size;
    io_uring_buf_ring_init(loop->buf_ring);
    int mask = io_uring_buf_ring_mask(BUF_COUNT);
    for (unsigned i = 0; i < BUF_COUNT; i++)
        io_uring_buf_ring_add(loop->buf_ring, loop->buf_base + i * BUF_SIZE,
                              BUF_SIZE, (unsigned short)i, mask, (int)i);
    io_uring_buf_ring_advance(loop->buf_ring, BUF_COUNT);
    return 0;
}

static void return_buffer(struct uring_loop *loop, unsigned id)
{
    io_uring_buf_ring_add(loop->buf_ring, loop->buf_base + id * BUF_SIZE,
                          BUF_SIZE, (unsigned short)id,
                          io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(loop->buf_ring, 1);
}

/* ---- submissions ---- */

static void arm_accept(struct uring_loop *loop, struct uring_listener *l)
{
    struct io_uring_sqe *sqe = get_sqe(loop);
    if (!sqe || l->closed)
        return;
    if (loop->multishot_accept)
        io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_CLOEXEC);
    else
        io_uring_prep_accept(sqe, l->fd, NULL, NULL, SOCK_CLOEXEC);
    set_data(sqe, l, OP_ACCEPT);
    l->armed = true;
}

static void arm_recv(struct uring_loop *loop, struct conn *conn)
{
    struct uring_conn *u = conn->io;
    struct io_uring_sqe *sqe = get_sqe(loop);
    if (!sqe)
        return;
    if (loop->buf_ring && loop->multishot_recv) {
        io_uring_prep_recv_multishot(sqe, conn->fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = BUF_GROUP;
    } else if (loop->buf_ring) {
        io_uring_prep_recv(sqe, conn->fd, NULL, BUF_SIZE, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = BUF_GROUP;
    } else {
        if (!u->recv_buffer)
            u->recv_buffer = malloc(SINGLE_RECV);
        if (!u->recv_buffer) {
            conn->abort = true;
            io_uring_prep_nop(sqe);
            set_data(sqe, NULL, OP_IGNORE);
            return;
        }
        io_uring_prep_recv(sqe, conn->fd, u->recv_buffer, SINGLE_RECV, 0);
    }
    set_data(sqe, conn, OP_RECV);
    u->recv_armed = true;
    u->recv_cancelled = false;
}

static void cancel_recv(struct uring_loop *loop, struct conn *conn)
{
    struct uring_conn *u = conn->io;
    struct io_uring_sqe *sqe = get_sqe(loop);
    if (!sqe)
        return;
    io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)conn | OP_RECV, 0);
    set_data(sqe, NULL, OP_IGNORE);
    u->recv_cancelled = true;
}

static void submit_send(struct uring_loop *loop, struct conn *conn)
{
    struct uring_conn *u = conn->io;
    struct io_uring_sqe *sqe = get_sqe(loop);
    if (!sqe)
        return;
    io_uring_prep_send(sqe, conn->fd, u->sending.data + u->send_off,
                       u->sending.len - u->send_off, MSG_NOSIGNAL);
    set_data(sqe, conn, OP_SEND);
    u->send_inflight = true;
}

/* ---- connection life ---- */

static void free_conn(struct conn *conn)
{
    struct uring_conn *u = conn->io;
    close(conn->fd);
    fce_buf_free(&u->sending);
    free(u->recv_buffer);
    free(u);
    conn_free(conn);
}

/* Brings the connection's operations in line with its state; frees it
 * once it is closed and nothing of it is in flight. */
static void update(struct uring_loop *loop, struct conn *conn, uint64_t now_ms)
{
    struct uring_conn *u = conn->io;
    if (!u->closing && conn_finished(conn)) {
        u->closing = true;
        /* Wakes the pending receive, which then completes with 0. */
        shutdown(conn->fd, SHUT_RDWR);
        if (u->recv_armed && !u->recv_cancelled)
            cancel_recv(loop, conn);
    }
    if (u->closing) {
        if (!u->recv_armed && !u->send_inflight)
            free_conn(conn);
        return;
    }

    if (conn_needs_shutdown(conn)) {
        if (shutdown(conn->fd, SHUT_WR) < 0)
            conn->abort = true;
        conn_write_shut(conn, now_ms);
    }
    if (!u->send_inflight && conn_take_output(conn, &u->sending) > 0) {
        u->send_off = 0;
        submit_send(loop, conn);
    }
    bool wants = conn_wants_input(conn);
    if (wants && !u->recv_armed)
        arm_recv(loop, conn);
    else if (!wants && u->recv_armed && !u->recv_cancelled)
        cancel_recv(loop, conn);
}

static void add_conn(struct uring_loop *loop, int fd, uint64_t now_ms)
{
    struct ingest *ingest = loop->ingest;
    if (ingest->metrics.connections_open >= ingest->limits.max_connections) {
        ingest_refuse_connection(ingest, fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    struct uring_conn *u = calloc(1, sizeof(*u));
    struct conn *conn = u ? conn_new(ingest, fd, now_ms) : NULL;
    if (!conn) {
        free(u);
        close(fd);
        return;
    }
    conn->io = u;
    update(loop, conn, now_ms);
}

/* ---- completions ---- */

static void on_accept(struct uring_loop *loop, struct uring_listener *l,
                      struct io_uring_cqe *cqe, uint64_t now_ms)
{
    if (!(cqe->flags & IORING_CQE_F_MORE))
        l->armed = false;
    if (cqe->res >= 0) {
        add_conn(loop, cqe->res, now_ms);
    } else if (cqe->res == -EINVAL && loop->multishot_accept) {
        fce_info("ingest",
                 "multishot accept is not supported; using "
                 "single-shot accept",
                 NULL);
        loop->multishot_accept = false;
    } else if (cqe->res != -ECANCELED) {
        static struct fce_log_limit limit;
        fce_log_limited(&limit, 10000, FCE_LOG_ERROR, "ingest",
                        "accept failed (raise the open file limit when it "
                        "is EMFILE)",
                        "error=%s", strerror(-cqe->res));
        /* Re-armed by the next tick, not now: no busy loop on EMFILE. */
        return;
    }
    if (!l->armed && !l->closed)
        arm_accept(loop, l);
}

static void on_recv(struct uring_loop *loop, struct conn *conn,
                    struct io_uring_cqe *cqe, uint64_t now_ms)
{
    struct uring_conn *u = conn->io;
    bool more = loop->multishot_recv && loop->buf_ring &&
                (cqe->flags & IORING_CQE_F_MORE);
    if (!more)
        u->recv_armed = false;

    const char *data = u->recv_buffer;
    unsigned id = 0;
    bool has_buffer = cqe->flags & IORING_CQE_F_BUFFER;
    if (has_buffer) {
        id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        data = loop->buf_base + (size_t)id * BUF_SIZE;
    }

    if (cqe->res > 0 && !u->closing)
        conn_input(conn, data, (size_t)cqe->res, now_ms);
    else if (cqe->res == 0 && !u->closing)
        conn_peer_closed(conn, now_ms);
    else if (cqe->res == -EINVAL && loop->multishot_recv) {
        fce_info("ingest",
                 "multishot receive is not supported; using "
                 "single-shot receive",
                 NULL);
        loop->multishot_recv = false;
    } else if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED &&
               !u->closing)
        conn->abort = true;

    if (has_buffer)
        return_buffer(loop, id);
}

static void on_send(struct conn *conn, struct io_uring_cqe *cqe,
                    uint64_t now_ms, struct uring_loop *loop)
{
    struct uring_conn *u = conn->io;
    u->send_inflight = false;
    if (cqe->res < 0) {
        conn->abort = true;
        conn_output_done(conn, u->sending.len - u->send_off, now_ms);
        return;
    }
    u->send_off += (size_t)cqe->res;
    conn_output_done(conn, (size_t)cqe->res, now_ms);
    if (u->send_off < u->sending.len && !u->closing) {
        submit_send(loop, conn);
        return;
    }
    fce_buf_reset(&u->sending);
    /* Draining the output may let buffered pipelined requests through. */
    if (!u->closing)
        conn_resume(conn, now_ms);
}

static void handle_cqe(struct uring_loop *loop, struct io_uring_cqe *cqe,
                       uint64_t now_ms)
{
    uint64_t data = io_uring_cqe_get_data64(cqe);
    enum op op = (enum op)(data & OP_MASK);
    void *ptr = (void *)(uintptr_t)(data & ~(uint64_t)OP_MASK);
    if (op == OP_ACCEPT) {
        on_accept(loop, ptr, cqe, now_ms);
        return;
    }
    if (op != OP_RECV && op != OP_SEND)
        return;
    struct conn *conn = ptr;
    if (op == OP_RECV)
        on_recv(loop, conn, cqe, now_ms);
    else
        on_send(conn, cqe, now_ms, loop);
    update(loop, conn, now_ms);
}

/* ---- the loop ---- */

static void tick(struct uring_loop *loop, uint64_t now_ms)
{
    for (size_t i = 0; i < loop->listener_count; i++)
        if (!loop->listeners[i].armed && !loop->listeners[i].closed)
            arm_accept(loop, &loop->listeners[i]);

    struct conn *conn = loop->ingest->conns;
    while (conn) {
        struct conn *next = conn->next;
        conn_tick(conn, now_ms);
        update(loop, conn, now_ms);
        conn = next;
    }
}

static void begin_drain(struct uring_loop *loop)
{
    for (size_t i = 0; i < loop->listener_count; i++) {
        struct uring_listener *l = &loop->listeners[i];
        struct io_uring_sqe *sqe = get_sqe(loop);
        if (sqe) {
            io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)l | OP_ACCEPT, 0);
            set_data(sqe, NULL, OP_IGNORE);
        }
        l->closed = true;
    }
    for (struct conn *conn = loop->ingest->conns; conn; conn = conn->next)
        conn->close_after_flush = true;
}

static void wait_and_handle(struct uring_loop *loop, int timeout_ms)
{
    struct __kernel_timespec ts = {.tv_sec = 0,
                                   .tv_nsec = (long long)timeout_ms * 1000000};
    struct io_uring_cqe *cqe;
    int rc = io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1, &ts, NULL);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) {
        static struct fce_log_limit limit;
        fce_log_limited(&limit, 10000, FCE_LOG_ERROR, "ingest",
                        "io_uring wait failed", "error=%s", strerror(-rc));
    }

    uint64_t now = ingest_now_ms();
    struct io_uring_cqe *batch[CQE_BATCH];
    unsigned count;
    while ((count = io_uring_peek_batch_cqe(&loop->ring, batch, CQE_BATCH))) {
        for (unsigned i = 0; i < count; i++)
            handle_cqe(loop, batch[i], now);
        io_uring_cq_advance(&loop->ring, count);
    }
}

static void run(struct uring_loop *loop)
{
    struct ingest *ingest = loop->ingest;
    uint64_t next_tick = 0, next_publish = 0, drain_deadline = 0;

    for (size_t i = 0; i < loop->listener_count; i++)
        arm_accept(loop, &loop->listeners[i]);
    while (!drain_deadline ||
           (ingest->conns && ingest_now_ms() < drain_deadline)) {
        wait_and_handle(loop, ingest->paused_count ? 5 : TICK_MS);
        uint64_t now = ingest_now_ms();
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

/* Closes what is left after the drain deadline, waiting briefly for the
 * kernel to finish each connection's operations. */
static void close_remaining(struct uring_loop *loop)
{
    for (struct conn *conn = loop->ingest->conns; conn; conn = conn->next)
        conn->abort = true;
    uint64_t deadline = ingest_now_ms() + 500;
    while (loop->ingest->conns && ingest_now_ms() < deadline) {
        struct conn *conn = loop->ingest->conns;
        while (conn) {
            struct conn *next = conn->next;
            update(loop, conn, ingest_now_ms());
            conn = next;
        }
        wait_and_handle(loop, 10);
    }
}

static int init_ring(struct uring_loop *loop)
{
    struct io_uring_params params = {
        .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    };
    int rc = io_uring_queue_init_params(QUEUE_DEPTH, &loop->ring, &params);
    if (rc == -EINVAL) {
        /* Kernels before 6.1 lack DEFER_TASKRUN. */
        memset(&params, 0, sizeof(params));
        rc = io_uring_queue_init_params(QUEUE_DEPTH, &loop->ring, &params);
    }
    if (rc < 0)
        return rc;

    struct io_uring_probe *probe = io_uring_get_probe_ring(&loop->ring);
    bool ok = probe && io_uring_opcode_supported(probe, IORING_OP_ACCEPT) &&
              io_uring_opcode_supported(probe, IORING_OP_RECV) &&
              io_uring_opcode_supported(probe, IORING_OP_SEND);
    if (probe)
        io_uring_free_probe(probe);
    if (!ok) {
        io_uring_queue_exit(&loop->ring);
        return -ENOSYS;
    }
    return 0;
}

int ingest_run_uring(struct ingest *ingest, struct ingest_listeners *ls)
{
    struct uring_loop loop = {
        .ingest = ingest,
        .multishot_accept = true,
        .multishot_recv = true,
    };
    int rc = init_ring(&loop);
    if (rc < 0)
        return rc;

    loop.listener_count = ls->count;
    loop.listeners = calloc(ls->count ? ls->count : 1, sizeof(*loop.listeners));
    if (!loop.listeners) {
        rc = -ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < ls->count; i++)
        loop.listeners[i].fd = ls->fds[i];

    rc = setup_buf_ring(&loop);
    if (rc < 0)
        fce_info("ingest",
                 "provided buffer rings are not available; using "
                 "single-shot receive",
                 "error=%s", strerror(-rc));
    fce_info("ingest", "using io_uring", "multishot_recv=%s buffer_ring=%s",
             loop.buf_ring ? "yes" : "no", loop.buf_ring ? "yes" : "no");
    ingest->io_name = "io_uring";
    rc = 0;
    run(&loop);
    close_remaining(&loop);

cleanup:
    io_uring_queue_exit(&loop.ring);
    /* The ring is gone, so nothing in the kernel refers to these now. */
    while (ingest->conns)
        free_conn(ingest->conns);
    if (loop.buf_ring)
        munmap(loop.buf_ring, loop.buf_ring_size);
    free(loop.buf_base);
    free(loop.listeners);
    return rc;
}
