/* Listening sockets: TCP on IPv4 or IPv6, and Unix stream sockets. */
#include "ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The kernel caps the backlog at net.core.somaxconn. */
#define LISTEN_BACKLOG 4096

int ingest_listener_parse(const char *text, struct fce_listener *listener,
                          char *err, size_t err_size)
{
    memset(listener, 0, sizeof(*listener));
    if (strncmp(text, "unix:", 5) == 0) {
        if (text[5] == '\0' || strlen(text + 5) >= 108)
            goto bad;
        listener->type = FCE_LISTEN_UNIX;
        listener->path = strdup(text + 5);
        return listener->path ? 0 : -ENOMEM;
    }

    const char *colon = strrchr(text, ':');
    if (!colon)
        goto bad;
    size_t host_len = (size_t)(colon - text);
    const char *host = text;
    if (host_len >= 2 && text[0] == '[' && text[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port > 65535)
        goto bad;

    listener->type = FCE_LISTEN_TCP;
    listener->port = (uint16_t)port;
    listener->host = host_len ? strndup(host, host_len) : strdup("0.0.0.0");
    return listener->host ? 0 : -ENOMEM;

bad:
    snprintf(err, err_size,
             "invalid listen address '%s'; expected HOST:PORT (127.0.0.1:%d, "
             "[::1]:%d) or unix:PATH",
             text, FCE_INGEST_DEFAULT_PORT, FCE_INGEST_DEFAULT_PORT);
    return -EINVAL;
}

static int bind_tcp(const struct fce_listener *listener, char *err,
                    size_t err_size)
{
    struct sockaddr_storage addr = {0};
    socklen_t addr_len;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
    /* localhost is the one name accepted; it binds the IPv4 loopback. */
    const char *host =
        strcmp(listener->host, "localhost") == 0 ? "127.0.0.1" : listener->host;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(listener->port);
        addr_len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(listener->port);
        addr_len = sizeof(*v6);
    } else {
        snprintf(err, err_size,
                 "invalid listen host '%s'; use localhost or a numeric "
                 "IPv4 or IPv6 address",
                 listener->host);
        return -EINVAL;
    }

    int fd =
        socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&addr, addr_len) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0) {
        int rc = -errno;
        snprintf(err, err_size, "cannot listen on %s:%u: %s", listener->host,
                 listener->port, strerror(-rc));
        close(fd);
        return rc;
    }
    return fd;
}

static int bind_unix(const struct fce_listener *listener, char *err,
                     size_t err_size)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", listener->path);

    /* A socket file left by an earlier run is replaced; other files are
     * not touched. */
    struct stat st;
    if (lstat(listener->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(listener->path);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0) {
        int rc = -errno;
        snprintf(err, err_size, "cannot listen on unix:%s: %s", listener->path,
                 strerror(-rc));
        close(fd);
        return rc;
    }
    return fd;
}

int ingest_listen(const struct fce_listener *listener, char *err,
                  size_t err_size)
{
    if (listener->type == FCE_LISTEN_UNIX)
        return bind_unix(listener, err, err_size);
    return bind_tcp(listener, err, err_size);
}
