#include "grpc_front.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PEERS 64

static int make_certificate(const struct grpc_front *front)
{
    char command[512];
    snprintf(command, sizeof(command),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
             "-keyout %s -out %s 2>/dev/null",
             front->key, front->cert);
    return system(command) == 0 ? 0 : -1;
}

static void exec_front(const struct grpc_front *front, const char *upstream,
                       int tls)
{
    FILE *log = fopen(front->log, "w");
    if (!log)
        _exit(127);
    dup2(fileno(log), STDOUT_FILENO);
    if (tls)
        execlp("node", "node", "tests/unit/pubsub/fake-grpc-front.js", upstream,
               "--tls", front->cert, front->key, (char *)NULL);
    else
        execlp("node", "node", "tests/unit/pubsub/fake-grpc-front.js", upstream,
               (char *)NULL);
    _exit(127);
}

/* Waits up to 20 s for the "port=N" line. */
static int read_port(const struct grpc_front *front)
{
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(front->log, "r");
        int port = 0;
        if (f) {
            int matched = fscanf(f, "port=%d", &port);
            fclose(f);
            if (matched == 1)
                return port;
        }
        if (waitpid(front->pid, NULL, WNOHANG) == front->pid)
            return -1;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

int grpc_front_start(struct grpc_front *front, const char *upstream, int tls)
{
    memset(front, 0, sizeof(*front));
    snprintf(front->dir, sizeof(front->dir), "/tmp/fce-grpc.XXXXXX");
    if (!mkdtemp(front->dir))
        return -1;
    snprintf(front->log, sizeof(front->log), "%s/calls.log", front->dir);
    snprintf(front->cert, sizeof(front->cert), "%s/cert.pem", front->dir);
    snprintf(front->key, sizeof(front->key), "%s/key.pem", front->dir);
    if (tls && make_certificate(front) < 0) {
        fprintf(stderr, "grpc front: openssl could not make a certificate\n");
        return -1;
    }

    front->pid = fork();
    if (front->pid == 0)
        exec_front(front, upstream, tls);
    front->port = front->pid > 0 ? read_port(front) : -1;
    if (front->port < 0) {
        fprintf(stderr,
                "grpc front: node tests/unit/pubsub/fake-grpc-front.js did "
                "not start; it needs node and tests/npm-gcp/node_modules "
                "(scripts/deps --npm)\n");
        return -1;
    }
    snprintf(front->base_url, sizeof(front->base_url), "%s://127.0.0.1:%d",
             tls ? "https" : "http", front->port);
    return 0;
}

void grpc_front_stop(struct grpc_front *front)
{
    if (front->pid > 0) {
        kill(front->pid, SIGTERM);
        waitpid(front->pid, NULL, 0);
        front->pid = 0;
    }
    if (front->dir[0]) {
        unlink(front->log);
        unlink(front->cert);
        unlink(front->key);
        rmdir(front->dir);
    }
}

long grpc_front_log_size(const struct grpc_front *front)
{
    struct stat st;
    return stat(front->log, &st) == 0 ? (long)st.st_size : -1;
}

static int add_peer(char peers[][32], long *count, const char *peer)
{
    for (long i = 0; i < *count; i++)
        if (strcmp(peers[i], peer) == 0)
            return 0;
    if (*count == MAX_PEERS)
        return -1;
    snprintf(peers[(*count)++], 32, "%s", peer);
    return 0;
}

long grpc_front_calls(const struct grpc_front *front, long offset, long *peers,
                      long *max_concurrent)
{
    FILE *f = fopen(front->log, "r");
    if (!f || fseek(f, offset, SEEK_SET) < 0) {
        if (f)
            fclose(f);
        return -1;
    }
    char line[256], peer_names[MAX_PEERS][32];
    long calls = 0;
    *peers = 0;
    *max_concurrent = 0;
    while (fgets(line, sizeof(line), f)) {
        char peer[32];
        long concurrent;
        if (sscanf(line, "call peer=%31s concurrent=%ld", peer, &concurrent) !=
            2)
            continue;
        calls++;
        if (concurrent > *max_concurrent)
            *max_concurrent = concurrent;
        if (add_peer(peer_names, peers, peer) < 0)
            break;
    }
    fclose(f);
    return calls;
}
