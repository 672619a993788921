/* test_safetensors.c — the checkpoint parser rejects every malformed file
 * with a message naming the problem (and never reads out of bounds: run
 * under make test-asan and make fuzz). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "safetensors.h"
#include "test.h"
#include "util.h"

/* Build a file image from a header string and n data bytes. */
static uint8_t *image(const char *hdr, size_t ndata, size_t *len) {
    size_t hl = strlen(hdr);
    *len = 8 + hl + ndata;
    uint8_t *b = calloc(1, *len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, hdr, hl);
    for (size_t i = 0; i < ndata; i++) b[8 + hl + i] = (uint8_t)i;
    return b;
}

static void expect_reject(const char *hdr, size_t ndata, const char *needle, const char *what) {
    size_t len;
    uint8_t *b = image(hdr, ndata, &len);
    st_file f = {0};
    int rc = st_parse(&f, b, len);
    TEST_CHECK(rc != 0 && strstr(util_last_error(), needle), "%s: rc %d, message '%s' (want '%s')", what, rc,
               rc ? util_last_error() : "", needle);
    if (rc == 0) st_close(&f);
    free(b);
}

int main(void) {
    /* a good one */
    size_t len;
    uint8_t *b = image("{\"__metadata__\":{\"a\":\"b\\u00e9\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                       "\"y\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]}}",
                       32, &len);
    st_file f = {0};
    TEST_CHECK(st_parse(&f, b, len) == 0, "valid file parses: %s", util_last_error());
    TEST_CHECK(f.n == 2 && st_find(&f, "x") && st_find(&f, "y")->dtype == ST_BF16, "tensors found");
    TEST_CHECK(st_meta(&f, "a") && !strcmp(st_meta(&f, "a"), "b\xc3\xa9"), "metadata unescaped");
    float out[6];
    TEST_CHECK(st_read_f32(&f, st_find(&f, "x"), out, 6) == 0, "read f32");
    TEST_CHECK(st_read_f32(&f, st_find(&f, "x"), out, 5) != 0, "read refuses a small buffer");
    st_close(&f);
    free(b);
    /* truncated at every length: never crashes, always an error */
    b = image("{\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24, &len);
    int all = 1;
    for (size_t cut = 0; cut < len; cut++) {
        st_file g = {0};
        if (st_parse(&g, b, cut) == 0) { all = 0; st_close(&g); }
    }
    TEST_CHECK(all, "every truncation rejected");
    st_file g = {0};
    TEST_CHECK(st_parse(&g, b, 7) != 0 && strstr(util_last_error(), "too short"), "7 bytes: too short");
    TEST_CHECK(st_parse(&g, b, 30) != 0 && strstr(util_last_error(), "truncated"), "cut header: truncated (%s)", util_last_error());
    TEST_CHECK(st_parse(&g, b, len - 1) != 0 && strstr(util_last_error(), "past the end"), "cut data: past the end (%s)", util_last_error());
    free(b);
    /* huge declared header length */
    uint8_t huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
    TEST_CHECK(st_parse(&g, huge, sizeof huge) != 0 && strstr(util_last_error(), "limit"), "huge header length: %s", util_last_error());
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}", 24, "malformed JSON", "missing brace");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24],}}", 24, "malformed JSON", "trailing comma");
    expect_reject("{\"x\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,24]}}", 24, "unsupported dtype 'F64'", "wrong dtype");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[0,24]}}", 24, "'x': shape holds 8 elements", "wrong shape");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]}}", 24, "past the end", "offsets past the end");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                  16, "overlapping", "overlapping offsets");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 16, "reversed", "reversed offsets");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", 16, "missing data_offsets", "no offsets");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                  16, "appears twice", "duplicate name");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[99999999999999],\"data_offsets\":[0,8]}}", 16, "absurd", "absurd dimension");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776,1099511627776],\"data_offsets\":[0,8]}}", 16,
                  "'x'", "overflowing shape");
    expect_reject("{\"__metadata__\":{\"a\":1},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "__metadata__",
                  "non-string metadata");
    /* NUL bytes inside strings would silently cut names and metadata: refused */
    expect_reject("{\"__metadata__\":{\"a\":\"b\\u0000c\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                  "NUL", "NUL inside a metadata value");
    expect_reject("{\"__metadata__\":{\"a\\u0000b\":\"c\"}}", 0, "NUL", "NUL inside a metadata key");
    expect_reject("{\"x\\u0000y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "NUL", "NUL inside a tensor name");
    expect_reject("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"note\":\"\\u0000\"}}", 8, "NUL",
                  "NUL inside a skipped value");
    {
        /* long strings are valid: real checkpoints carry long __metadata__ values
         * (and unknown fields may hold long strings or have long keys) */
        const size_t big = 300000;
        char *h = malloc(2 * big), *lng = malloc(big + 1);
        memset(lng, 'q', big);
        lng[big] = 0;
        lng[5000] = '\\'; lng[5001] = 'n'; /* an escape far in */
        snprintf(h, 2 * big, "{\"__metadata__\":{\"long\":\"%s\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
                 "\"%.6000s\":\"%.9000s\",\"extra\":[\"%.5000s\",{\"%.4500s\":1}]}}", lng, lng + 6000, lng + 1, lng + 2, lng + 3);
        b = image(h, 8, &len);
        int rc = st_parse(&g, b, len);
        TEST_CHECK(rc == 0, "long strings (300 KB metadata value, 6 KB key, 9 KB value) accepted: %s", rc ? util_last_error() : "");
        const char *v = rc == 0 ? st_meta(&g, "long") : NULL;
        TEST_CHECK(v && strlen(v) == big - 1 && v[5000] == '\n' && v[big - 2] == 'q', "long metadata value decoded whole");
        if (rc == 0) st_close(&g);
        free(b); free(h); free(lng);
    }
    /* a file on disk that does not exist / is a directory */
    TEST_CHECK(st_open(&g, "/nonexistent/x.safetensors") != 0 && strstr(util_last_error(), "/nonexistent/x.safetensors"),
               "missing file named");
    TEST_CHECK(st_open(&g, "/tmp") != 0 && strstr(util_last_error(), "not a regular file"), "directory refused");
    /* a valid safetensors file that is not a model: the checkpoint loader names what is missing */
    b = image("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, &len);
    TEST_CHECK(st_parse(&g, b, len) == 0, "parse");
    model m;
    TEST_CHECK(ckpt_load_parsed(&m, &g, NULL) != 0 && strstr(util_last_error(), "embedder.input_embedding"),
               "non-model file: %s", util_last_error());
    st_close(&g);
    free(b);
    /* bad griffin_config metadata */
    b = image("{\"__metadata__\":{\"griffin_config\":\"{\\\"family\\\":\\\"snake\\\"}\"}}", 0, &len);
    TEST_CHECK(st_parse(&g, b, len) == 0, "parse config-only file");
    TEST_CHECK(ckpt_load_parsed(&m, &g, NULL) != 0 && strstr(util_last_error(), "family"), "bad config: %s", util_last_error());
    st_close(&g);
    free(b);
    /* atomic write: a failing write leaves the old file untouched */
    char dir[] = "/tmp/griffin-st-XXXXXX";
    mkdtemp(dir);
    char p[256];
    snprintf(p, sizeof p, "%s/ok.safetensors", dir);
    float d[4] = {1, 2, 3, 4};
    st_out t = {"w", ST_F32, 1, {4}, d};
    TEST_CHECK(st_write(p, &t, 1, NULL, NULL, 0) == 0, "write");
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing-dir/x.safetensors", dir);
    TEST_CHECK(st_write(bad, &t, 1, NULL, NULL, 0) != 0 && strstr(util_last_error(), "missing-dir"), "unwritable path named");
    TEST_CHECK(st_open(&g, p) == 0 && st_find(&g, "w"), "old file intact");
    st_close(&g);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    TEST_CHECK(system(cmd) == 0, "cleanup");
    return test_summary();
}
