#include "corpus.h"

#include <stdio.h>
#include <stdlib.h>

uint8_t *corpus_read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    uint8_t *data = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (size == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(file);
                return NULL;
            }
            data = grown;
        }
        size_t n = fread(data + size, 1, cap - size, file);
        if (n == 0)
            break;
        size += n;
    }
    fclose(file);
    *len = size;
    return data;
}

static const char *top(void)
{
    const char *dir = getenv("FCE_TOP");
    return dir && dir[0] ? dir : ".";
}

uint8_t *corpus_read(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/data/corpus/%s", top(), name);
    return corpus_read_file(path, len);
}

cJSON *corpus_manifest(void)
{
    size_t len;
    char *text = (char *)corpus_read("manifest.json", &len);
    if (!text)
        return NULL;
    cJSON *manifest = cJSON_ParseWithLength(text, len);
    free(text);
    return manifest;
}

const char *corpus_string(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}
