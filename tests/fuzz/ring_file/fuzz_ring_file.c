/*
 * libFuzzer target: any bytes as a ring file. Inspecting, attaching,
 * reading every record, releasing, rewinding and producing must return
 * errors for damaged files and never read or write outside the mapping.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fce_ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_ring(void)
{
    unlink(path);
}

static const char *ring_path(void)
{
    if (!path[0]) {
        int fd;

        snprintf(path, sizeof(path), "/dev/shm/fce-fuzz-ring.XXXXXX");
        fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
        atexit(remove_ring);
    }
    return path;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen(path, "wb");

    if (!file)
        abort();
    if (size && fwrite(data, 1, size, file) != size)
        abort();
    fclose(file);
}

/* Reads every record and touches every payload byte. */
static void drain(struct fce_ring *ring)
{
    struct fce_ring_record record;
    volatile uint8_t sum = 0;

    for (int i = 0; i < 4096 && fce_ring_read(ring, &record) == 0; i++) {
        const uint8_t *payload = record.data;

        for (uint32_t j = 0; j < record.len; j++)
            sum += payload[j];
        if (i % 2)
            fce_ring_release(ring, record.end);
    }
    fce_ring_rewind(ring);
    if (fce_ring_read(ring, &record) == 0)
        fce_ring_release(ring, record.end);
}

static void produce(const char *path)
{
    struct fce_ring *ring;
    char err[256];

    if (fce_ring_attach(path, &ring, err, sizeof(err)) != 0)
        return;
    for (uint32_t len = 0; len < 64; len += 7) {
        uint8_t *payload = fce_ring_reserve(ring, len);

        if (!payload)
            break;
        for (uint32_t j = 0; j < len; j++)
            payload[j] = (uint8_t)j;
        fce_ring_commit(ring, 1, len);
    }
    fce_ring_detach(ring);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = ring_path();
    struct fce_ring_info info;
    struct fce_ring *ring;
    char err[256];

    write_file(path, data, size);
    fce_ring_inspect(path, &info, err, sizeof(err));
    if (fce_ring_attach(path, &ring, err, sizeof(err)) == 0) {
        drain(ring);
        fce_ring_info(ring, &info);
        fce_ring_detach(ring);
        produce(path);
    }
    return 0;
}
