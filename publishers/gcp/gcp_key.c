#include "fce_gcp_key.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "fce_gcp_json.h"

/* Credential files are a few KiB; anything far larger is not one. */
#define KEY_FILE_MAX (1u << 20)

static void free_secret(char *secret)
{
    if (secret) {
        OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
    }
}

void fce_gcp_key_clear(struct fce_gcp_key *key)
{
    free(key->project_id);
    free(key->token_uri);
    free(key->client_email);
    free(key->private_key_id);
    EVP_PKEY_free(key->private_key);
    free(key->client_id);
    free_secret(key->client_secret);
    free_secret(key->refresh_token);
    memset(key, 0, sizeof(*key));
}

/* Copies member name into *out. Returns 0, -ENOENT when it is absent or
 * null, or -EINVAL when it is not a non-empty string. */
static int member_string(const char *json, size_t len, const char *name,
                         char **out)
{
    struct fce_gcp_json_value value;
    if (fce_gcp_json_find(json, len, name, &value) < 0 ||
        value.type == FCE_GCP_JSON_NULL)
        return -ENOENT;
    long n = fce_gcp_json_strdup(&value, out);
    if (n == -ENOMEM)
        return -ENOMEM;
    if (n <= 0) {
        if (n == 0)
            free(*out);
        *out = NULL;
        return -EINVAL;
    }
    return 0;
}

/* Copies a member that the type requires, with a message when it is
 * missing or not a string. */
static int required_string(const char *json, size_t len, const char *name,
                           char **out, char *err, size_t err_size)
{
    int rc = member_string(json, len, name, out);
    if (rc == -ENOENT)
        snprintf(err, err_size, "%s missing", name);
    else if (rc == -EINVAL)
        snprintf(err, err_size, "%s is not a non-empty string", name);
    else if (rc < 0)
        snprintf(err, err_size, "out of memory");
    return rc < 0 ? (rc == -ENOMEM ? rc : -EINVAL) : 0;
}

static int optional_string(const char *json, size_t len, const char *name,
                           char **out)
{
    int rc = member_string(json, len, name, out);
    return rc == -ENOMEM ? rc : 0;
}

static int load_private_key(const char *pem, struct fce_gcp_key *key, char *err,
                            size_t err_size)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (!bio)
        return -ENOMEM;
    key->private_key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (!key->private_key) {
        snprintf(err, err_size,
                 "private_key is not a PEM private key; download a new "
                 "JSON key for the service account");
        return -EINVAL;
    }
    if (!EVP_PKEY_is_a(key->private_key, "RSA")) {
        snprintf(err, err_size,
                 "private_key is not an RSA key; Google "
                 "service-account keys are RSA");
        return -EINVAL;
    }
    return 0;
}

static int parse_service_account(const char *json, size_t len,
                                 struct fce_gcp_key *key, char *err,
                                 size_t err_size)
{
    char *pem = NULL;
    int rc = required_string(json, len, "client_email", &key->client_email, err,
                             err_size);
    if (rc == 0)
        rc = required_string(json, len, "private_key", &pem, err, err_size);
    if (rc == 0)
        rc = optional_string(json, len, "private_key_id", &key->private_key_id);
    if (rc == 0)
        rc = load_private_key(pem, key, err, err_size);
    free_secret(pem);
    return rc;
}

static int parse_authorized_user(const char *json, size_t len,
                                 struct fce_gcp_key *key, char *err,
                                 size_t err_size)
{
    int rc =
        required_string(json, len, "client_id", &key->client_id, err, err_size);
    if (rc == 0)
        rc = required_string(json, len, "client_secret", &key->client_secret,
                             err, err_size);
    if (rc == 0)
        rc = required_string(json, len, "refresh_token", &key->refresh_token,
                             err, err_size);
    if (rc == 0 && !key->project_id)
        rc = optional_string(json, len, "quota_project_id", &key->project_id);
    return rc;
}

/* Reads "type" and parses the members of that type. */
static int parse_typed(const char *json, size_t len, struct fce_gcp_key *key,
                       char *err, size_t err_size)
{
    char *type = NULL;
    int rc = required_string(json, len, "type", &type, err, err_size);
    if (rc < 0)
        return rc;

    if (strcmp(type, "service_account") == 0) {
        key->type = FCE_GCP_KEY_SERVICE_ACCOUNT;
        rc = parse_service_account(json, len, key, err, err_size);
    } else if (strcmp(type, "authorized_user") == 0) {
        key->type = FCE_GCP_KEY_AUTHORIZED_USER;
        rc = parse_authorized_user(json, len, key, err, err_size);
    } else {
        snprintf(err, err_size,
                 "type \"%.64s\" is not supported; use a service_account "
                 "key file or the metadata server (GKE Workload Identity)",
                 type);
        rc = -EINVAL;
    }
    free(type);
    return rc;
}

int fce_gcp_key_parse(const char *json, size_t len, struct fce_gcp_key *key,
                      char *err, size_t err_size)
{
    struct fce_gcp_json_value root;
    int rc = -EINVAL;
    if (fce_gcp_json_validate(json, len) < 0 ||
        fce_gcp_json_find(json, len, "", &root) < 0 ||
        root.type != FCE_GCP_JSON_OBJECT) {
        snprintf(err, err_size, "not a JSON object");
        goto cleanup;
    }

    rc = optional_string(json, len, "project_id", &key->project_id);
    if (rc == 0)
        rc = optional_string(json, len, "token_uri", &key->token_uri);
    if (rc == 0)
        rc = parse_typed(json, len, key, err, err_size);
    if (rc == 0 && !key->token_uri) {
        key->token_uri = strdup(FCE_GCP_DEFAULT_TOKEN_URI);
        rc = key->token_uri ? 0 : -ENOMEM;
    }

cleanup:
    if (rc == -ENOMEM)
        snprintf(err, err_size, "out of memory");
    if (rc < 0)
        fce_gcp_key_clear(key);
    return rc;
}

/* Reads a whole file of at most KEY_FILE_MAX bytes into a new buffer. */
static int read_file(const char *path, char **out, size_t *out_len)
{
    int rc = 0;
    char *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;

    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
        rc = -EINVAL;
        goto cleanup;
    }
    data = malloc((size_t)st.st_size + 1);
    if (!data) {
        rc = -ENOMEM;
        goto cleanup;
    }

    size_t len = 0;
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, data + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            goto cleanup;
        }
        len += (size_t)n;
    }
    *out = data;
    *out_len = len;
    data = NULL;

cleanup:
    free(data);
    close(fd);
    return rc;
}

int fce_gcp_key_load(const char *path, struct fce_gcp_key *key, char *err,
                     size_t err_size)
{
    char *json = NULL;
    size_t len = 0;
    int rc = read_file(path, &json, &len);
    if (rc == -EINVAL) {
        snprintf(err, err_size,
                 "%s: not a regular file of at most %u bytes; point it at "
                 "a JSON credential file",
                 path, KEY_FILE_MAX);
        return rc;
    }
    if (rc < 0) {
        snprintf(err, err_size, "%s: cannot read: %s", path, strerror(-rc));
        return rc;
    }

    char detail[200] = "";
    rc = fce_gcp_key_parse(json, len, key, detail, sizeof(detail));
    if (rc < 0)
        snprintf(err, err_size, "%s: %s", path, detail);
    OPENSSL_cleanse(json, len);
    free(json);
    return rc;
}
