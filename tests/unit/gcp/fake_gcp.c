#include "fake_gcp.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "fce_buf.h"
#include "gcp/fce_gcp_json.h"
#include "http/fce_http.h"

static int write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = fwrite(text, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* Writes a service-account JSON key file for pkey. */
static int write_key_file(const char *path, EVP_PKEY *pkey, int port)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio ||
        PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(bio);
        return -1;
    }
    char *pem;
    long pem_len = BIO_get_mem_data(bio, &pem);

    struct fce_buf json = FCE_BUF_INIT;
    int rc = fce_buf_printf(&json,
                            "{\"type\": \"service_account\", "
                            "\"project_id\": \"fce-test\", "
                            "\"private_key_id\": \"" FAKE_GCP_KID "\", "
                            "\"client_email\": \"" FAKE_GCP_EMAIL "\", "
                            "\"token_uri\": \"http://127.0.0.1:%d/token\", "
                            "\"private_key\": ",
                            port);
    if (rc == 0)
        rc = fce_gcp_json_append_string(&json, pem, (size_t)pem_len);
    if (rc == 0)
        rc = fce_buf_append_str(&json, "}\n");
    if (rc == 0)
        rc = write_text(path, json.data, json.len);
    fce_buf_free(&json);
    BIO_free(bio);
    return rc;
}

static int write_public(const char *path, EVP_PKEY *pkey)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = PEM_write_PUBKEY(f, pkey);
    return fclose(f) == 0 && ok == 1 ? 0 : -1;
}

static EVP_PKEY *test_key(void)
{
    static EVP_PKEY *cached;
    if (!cached)
        cached = EVP_RSA_gen(2048);
    return cached;
}

int fake_gcp_keys(struct fake_gcp *fake)
{
    EVP_PKEY *other = EVP_RSA_gen(2048);
    int rc = other ? 0 : -1;
    if (rc == 0)
        rc = write_key_file(fake->key_file, test_key(), fake->port);
    if (rc == 0)
        rc = write_key_file(fake->other_key, other, fake->port);
    EVP_PKEY_free(other);
    return rc;
}

/* Reads "port=N" from the child's stdout. */
static int read_port(int fd)
{
    char line[64];
    size_t n = 0;
    while (n + 1 < sizeof(line)) {
        ssize_t got = read(fd, line + n, 1);
        if (got <= 0)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    int port = 0;
    return sscanf(line, "port=%d", &port) == 1 ? port : -1;
}

static void exec_server(int out_fd, const struct fake_gcp *fake,
                        const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = "python3";
    argv[n++] = "tests/helpers/fake-gcp";
    argv[n++] = "--public-key";
    argv[n++] = fake->public_pem;
    argv[n++] = "--key-id";
    argv[n++] = FAKE_GCP_KID;
    for (size_t i = 0; args && args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    dup2(out_fd, STDOUT_FILENO);
    execvp("python3", (char *const *)argv);
    _exit(127);
}

int fake_gcp_start(struct fake_gcp *fake, const char *const *args)
{
    memset(fake, 0, sizeof(*fake));
    snprintf(fake->dir, sizeof(fake->dir), "/tmp/fce-gcp.XXXXXX");
    if (!mkdtemp(fake->dir))
        return -1;
    snprintf(fake->key_file, sizeof(fake->key_file), "%s/key.json", fake->dir);
    snprintf(fake->other_key, sizeof(fake->other_key), "%s/other.json",
             fake->dir);
    snprintf(fake->public_pem, sizeof(fake->public_pem), "%s/public.pem",
             fake->dir);
    if (!test_key() || write_public(fake->public_pem, test_key()) < 0)
        return -1;

    int pipe_fd[2];
    if (pipe(pipe_fd) < 0)
        return -1;
    fake->pid = fork();
    if (fake->pid == 0) {
        close(pipe_fd[0]);
        exec_server(pipe_fd[1], fake, args);
    }
    close(pipe_fd[1]);
    fake->port = fake->pid > 0 ? read_port(pipe_fd[0]) : -1;
    close(pipe_fd[0]);
    if (fake->port < 0)
        return -1;
    snprintf(fake->base_url, sizeof(fake->base_url), "http://127.0.0.1:%d",
             fake->port);
    return fake_gcp_keys(fake);
}

void fake_gcp_stop(struct fake_gcp *fake)
{
    if (fake->pid > 0) {
        kill(fake->pid, SIGTERM);
        waitpid(fake->pid, NULL, 0);
        fake->pid = 0;
    }
    if (fake->dir[0]) {
        unlink(fake->key_file);
        unlink(fake->other_key);
        unlink(fake->public_pem);
        rmdir(fake->dir);
    }
}

static int get(const struct fake_gcp *fake, const char *path, const char *body,
               struct fce_http_response *response)
{
    char url[128];
    snprintf(url, sizeof(url), "%s%s", fake->base_url, path);
    const char *headers[] = {"Content-Type: application/json"};
    struct fce_http_request request = {
        .method = body ? "POST" : "GET",
        .url = url,
        .headers = headers,
        .header_count = 1,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    fce_http_response_init(response);
    int rc = fce_http_fetch(&request, response);
    return rc == 0 && response->status == 200 ? 0 : -1;
}

long fake_gcp_stat(const struct fake_gcp *fake, const char *name)
{
    struct fce_http_response response;
    long value = -1;
    if (get(fake, "/_fake/stats", NULL, &response) == 0) {
        struct fce_gcp_json_value v;
        unsigned long long n;
        if (fce_gcp_json_find(response.body.data, response.body.len, name,
                              &v) == 0 &&
            fce_gcp_json_uint(&v, &n) == 0)
            value = (long)n;
    }
    fce_http_response_free(&response);
    return value;
}

int fake_gcp_fail(const struct fake_gcp *fake, const char *rule_json)
{
    struct fce_http_response response;
    int rc = get(fake, "/_fake/fail", rule_json, &response);
    fce_http_response_free(&response);
    return rc;
}

char *fake_gcp_messages(const struct fake_gcp *fake, size_t *len)
{
    struct fce_http_response response;
    char *text = NULL;
    if (get(fake, "/_fake/messages", NULL, &response) == 0 &&
        fce_buf_append(&response.body, "", 1) == 0) {
        text = response.body.data;
        *len = response.body.len - 1;
        response.body.data = NULL;
        response.body.len = response.body.cap = 0;
    }
    fce_http_response_free(&response);
    return text;
}
