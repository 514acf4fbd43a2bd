/*
 * Test support for the Google tests: a fresh RSA key pair written as a
 * service-account key file and a public PEM, and the fake token, metadata
 * and Pub/Sub server (tests/helpers/fake-gcp) as a child process.
 */
#ifndef FCE_TEST_FAKE_GCP_H
#define FCE_TEST_FAKE_GCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FAKE_GCP_EMAIL "fce-test@fce-test.iam.gserviceaccount.com"
#define FAKE_GCP_KID   "test-key-1"

struct fake_gcp {
    pid_t pid;
    int port;
    char dir[64];         /* temporary folder with the files below */
    char key_file[128];   /* service-account JSON, token_uri -> the fake */
    char public_pem[128]; /* the key's public half, for the fake */
    char other_key[128];  /* a key file signed by a key the fake rejects */
    char base_url[64];    /* http://127.0.0.1:port */
};

/* Generates the keys and writes the files (token_uri points at port, so
 * call it after the server is up). Returns 0 or -1. */
int fake_gcp_keys(struct fake_gcp *fake);

/* Creates the folder and the public key, starts the server with extra
 * arguments (NULL-terminated) and writes the key files. Returns 0 or -1. */
int fake_gcp_start(struct fake_gcp *fake, const char *const *args);

/* Stops the server by pid and removes the folder. */
void fake_gcp_stop(struct fake_gcp *fake);

/* Reads counter name from GET /_fake/stats; -1 when unavailable. */
long fake_gcp_stat(const struct fake_gcp *fake, const char *name);

/* POSTs a failure rule (JSON) to /_fake/fail. Returns 0 or -1. */
int fake_gcp_fail(const struct fake_gcp *fake, const char *rule_json);

/* GETs /_fake/messages into a malloc'd NUL-terminated string, or NULL. */
char *fake_gcp_messages(const struct fake_gcp *fake, size_t *len);

#endif
