/* fuzz_safetensors.c — libFuzzer target for the checkpoint parser: any byte
 * string must give either a parsed file (whose tensors lie inside the
 * buffer) or a clean error; then the checkpoint loader on top of it.
 * Build and run: make fuzz (clang, 60 s, seeds from tests/golden). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* copy so that reads past `size` are caught by ASan */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    st_file f = {0};
    if (st_parse(&f, buf, size) == 0) {
        for (int i = 0; i < f.n; i++) {
            const st_tensor *t = &f.t[i];
            if (t->end > f.data_len || t->begin > t->end) abort();
            /* touch the first and last byte of each tensor */
            if (t->end > t->begin) {
                volatile uint8_t x = f.data[t->begin];
                x = f.data[t->end - 1];
                (void)x;
            }
        }
        model m;
        if (ckpt_load_parsed(&m, &f, NULL) == 0) model_free(&m);
        st_close(&f);
    }
    free(buf);
    return 0;
}
