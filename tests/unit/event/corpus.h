/* Test helpers: the corpus in tests/data/corpus and its manifest. */
#ifndef FCE_TEST_CORPUS_H
#define FCE_TEST_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Reads a whole file into a malloc'd buffer. Returns NULL on failure. */
uint8_t *corpus_read_file(const char *path, size_t *len);

/* Reads tests/data/corpus/<name> (name as the manifest writes it). */
uint8_t *corpus_read(const char *name, size_t *len);

/* Parses tests/data/corpus/manifest.json; free with cJSON_Delete(). */
cJSON *corpus_manifest(void);

/* The string member name of object, or NULL. */
const char *corpus_string(const cJSON *object, const char *name);

#endif
