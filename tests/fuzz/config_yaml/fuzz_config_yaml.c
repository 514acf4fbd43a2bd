/*
 * libFuzzer target over the configuration loader: any bytes go through
 * libyaml, the option tables of the project and of every linked backend,
 * and, when they load, through the dump and a second load of the dump.
 * A crash, a leak or a sanitizer report is a failure.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fce_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fce_config *config = NULL;
    struct fce_diag diag = {0};

    if (size > (1u << 16))
        return 0;
    int rc = fce_config_load_string((const char *)data, size, "fuzz.yaml",
                                    &config, &diag);
    if ((rc == 0) != (config != NULL) || (rc == 0 && diag.error_count))
        abort();
    fce_diag_free(&diag);
    if (!config)
        return 0;

    /* What loads dumps to YAML that loads again. */
    struct fce_buf dump = FCE_BUF_INIT;
    if (fce_config_dump(config, &dump) != 0)
        abort();
    struct fce_config *again = NULL;
    rc =
        fce_config_load_string(dump.data, dump.len, "dump.yaml", &again, &diag);
    if (rc != 0)
        abort();
    fce_config_free(again);
    fce_diag_free(&diag);
    fce_buf_free(&dump);
    fce_config_free(config);
    return 0;
}
