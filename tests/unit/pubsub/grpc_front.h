/*
 * Test support: tests/unit/pubsub/fake-grpc-front.js, a gRPC server in
 * front of the fake Pub/Sub server, as a child process whose call log
 * the tests read.
 */
#ifndef FCE_TEST_GRPC_FRONT_H
#define FCE_TEST_GRPC_FRONT_H

#include <sys/types.h>

struct grpc_front {
    pid_t pid;
    int port;
    char dir[64];      /* temporary folder: log, certificate, key */
    char log[128];     /* the front's stdout: port= and call lines */
    char cert[128];    /* with tls: the self-signed certificate */
    char key[128];     /* with tls: its private key */
    char base_url[64]; /* http://127.0.0.1:port or https://... */
};

/* Starts the front for upstream (the fake's base URL), over TLS with a
 * certificate for 127.0.0.1 made here with openssl when tls is set.
 * Returns 0 or -1 with the reason on stderr. */
int grpc_front_start(struct grpc_front *front, const char *upstream, int tls);

/* Stops the front by pid and removes its folder. */
void grpc_front_stop(struct grpc_front *front);

/* Bytes of the call log written so far, for grpc_front_calls(). */
long grpc_front_log_size(const struct grpc_front *front);

/* Reads the call lines logged after offset: how many, how many distinct
 * peers (client connections) they came from, and the highest number of
 * calls at once. Returns the call count, or -1. */
long grpc_front_calls(const struct grpc_front *front, long offset, long *peers,
                      long *max_concurrent);

#endif
