/* test_data.c — corpus loading, packing rules, cursor save/restore and the eval reader
 * (suites/data.h), on /usr/share/common-licenses as a tiny corpus; also the fetched
 * corpus (data/corpus) when scripts/get-corpus.sh has been run.
 *   build/tests/test_data */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "test.h"

#define LICENSES "/usr/share/common-licenses"

static void test_load(const corpus_t *c) {
    TEST_CHECK(c->n_docs >= 5, "common-licenses: only %d documents", c->n_docs);
    int64_t sum = 0, bad = 0;
    for (int i = 0; i < c->n_docs; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", LICENSES, c->names[i]);
        struct stat st;
        if (stat(p, &st) != 0 || st.st_size != c->len[i] || c->len[i] <= 0) bad++;
        sum += c->len[i];
        if (i > 0 && strcmp(c->names[i - 1], c->names[i]) >= 0) bad++;
    }
    TEST_CHECK(bad == 0, "%lld documents with wrong size or order", (long long)bad);
    TEST_CHECK(sum == c->total_bytes, "total bytes");
    int g = corpus_find(c, "GPL-3");
    TEST_CHECK(g >= 0 && strcmp(c->names[g], "GPL-3") == 0, "corpus_find GPL-3");
    TEST_CHECK(corpus_find(c, "no-such-license") == -1, "corpus_find missing");
    corpus_t e;
    TEST_CHECK(corpus_load(&e, "/nonexistent/griffin", "train") == -1 && e.n_docs == 0, "missing dir is an error");
    TEST_CHECK(strstr(util_last_error(), "get-corpus") != NULL, "error hints at get-corpus.sh: %s", util_last_error());
}

/* Packing rules on a whole epoch and beyond. */
static void test_packing(const corpus_t *c, int B, int T) {
    data_loader L;
    TEST_CHECK(data_loader_init(&L, c, 1234) == 0, "loader init");
    int64_t per = (int64_t)B * T, nb = c->total_bytes / per + 2; /* > one epoch */
    int64_t n = nb * per;
    int32_t *x = malloc(sizeof(int32_t) * n), *y = malloc(sizeof(int32_t) * n), *p = malloc(sizeof(int32_t) * n);
    for (int64_t k = 0; k < nb; k++) data_next_batch(&L, B, T, x + k * per, y + k * per, p + k * per);
    int64_t bad_next = 0, bad_pos = 0, bad_row = 0, bad_range = 0;
    for (int64_t r = 0; r < nb * B; r++) {
        const int32_t *xr = x + r * T, *yr = y + r * T, *pr = p + r * T;
        if (pr[0] != 0) bad_pos++;
        for (int t = 0; t < T; t++) {
            if (xr[t] < 0 || xr[t] > 255 || yr[t] < -1 || yr[t] > 255) bad_range++;
            if (t + 1 < T) {
                if (yr[t] >= 0) {  /* inside a document: next token, position + 1 */
                    if (yr[t] != xr[t + 1]) bad_next++;
                    if (pr[t + 1] != pr[t] + 1) bad_pos++;
                } else if (pr[t + 1] != 0) {
                    bad_pos++;  /* document end: the next position starts a segment */
                }
            } else if (r + 1 < nb * B && yr[t] >= 0 && yr[t] != xr[T]) {
                bad_row++;  /* row ends inside a document: target = next row's first byte */
            }
        }
    }
    TEST_CHECK(bad_range == 0, "B=%d T=%d: %lld ids out of range", B, T, (long long)bad_range);
    TEST_CHECK(bad_next == 0, "B=%d T=%d: %lld targets != next token within a document", B, T, (long long)bad_next);
    TEST_CHECK(bad_pos == 0, "B=%d T=%d: %lld segment positions wrong", B, T, (long long)bad_pos);
    TEST_CHECK(bad_row == 0, "B=%d T=%d: %lld row-end targets wrong", B, T, (long long)bad_row);
    /* The stream split at targets == -1 gives whole documents; the first epoch is a
     * permutation of the corpus. */
    int *seen = calloc((size_t)c->n_docs, sizeof(int));
    int64_t start = 0, bad_doc = 0;
    int docs = 0;
    for (int64_t k = 0; k < n && docs < c->n_docs; k++) {
        if (y[k] != -1) continue;
        int64_t len = k + 1 - start;
        int hit = -1;
        for (int i = 0; i < c->n_docs && hit < 0; i++) {
            if (seen[i] || c->len[i] != len) continue;
            int same = 1;
            for (int64_t j = 0; j < len && same; j++) same = c->doc[i][j] == x[start + j];
            if (same) hit = i;
        }
        if (hit < 0) bad_doc++;
        else seen[hit] = 1;
        docs++;
        start = k + 1;
    }
    TEST_CHECK(docs == c->n_docs && bad_doc == 0, "first epoch: %d segments, %lld not a distinct corpus document", docs, (long long)bad_doc);
    int64_t cur[DATA_CURSOR_N];
    data_get_cursor(&L, cur);
    TEST_CHECK(cur[0] == 1234 && cur[1] >= 1, "cursor after > 1 epoch: seed %lld epoch %lld", (long long)cur[0], (long long)cur[1]);
    free(seen);
    free(x); free(y); free(p);
    data_loader_free(&L);
}

static int batches_equal(data_loader *a, data_loader *b, int B, int T, int nbatch) {
    int64_t n = (int64_t)B * T;
    int32_t *x1 = malloc(sizeof(int32_t) * n * 6), *x2 = malloc(sizeof(int32_t) * n * 6);
    int same = 1;
    for (int k = 0; k < nbatch && same; k++) {
        data_next_batch(a, B, T, x1, x1 + n, x1 + 2 * n);
        data_next_batch(b, B, T, x2, x2 + n, x2 + 2 * n);
        same = memcmp(x1, x2, sizeof(int32_t) * n * 3) == 0;
    }
    free(x1); free(x2);
    return same;
}

static void test_cursor(const corpus_t *c) {
    enum { B = 3, T = 257 };
    data_loader L, M;
    data_loader_init(&L, c, 99);
    int32_t *buf = malloc(sizeof(int32_t) * B * T * 3);
    for (int k = 0; k < 7; k++) data_next_batch(&L, B, T, buf, buf + B * T, buf + 2 * B * T);
    int64_t cur[DATA_CURSOR_N];
    data_get_cursor(&L, cur);
    /* a fresh loader with another seed, restored from the cursor, continues identically */
    data_loader_init(&M, c, 5);
    TEST_CHECK(data_set_cursor(&M, cur) == 0, "set cursor: %s", util_last_error());
    TEST_CHECK(batches_equal(&L, &M, B, T, 200), "restored cursor reproduces the batches (across epochs)");
    /* rewinding the same loader */
    data_set_cursor(&L, cur);
    data_loader N;
    data_loader_init(&N, c, 5);
    data_set_cursor(&N, cur);
    TEST_CHECK(batches_equal(&L, &N, B, T, 20), "rewound loader reproduces the batches");
    /* seeds differ -> order differs */
    data_loader A1, A2;
    data_loader_init(&A1, c, 1);
    data_loader_init(&A2, c, 2);
    TEST_CHECK(!batches_equal(&A1, &A2, B, T, 50), "seeds 1 and 2 give the same stream");
    /* invalid cursors are refused and leave the loader as it was */
    int64_t bad[DATA_CURSOR_N], before[DATA_CURSOR_N];
    data_get_cursor(&M, before);
    memcpy(bad, cur, sizeof bad);
    bad[2] = c->n_docs;
    TEST_CHECK(data_set_cursor(&M, bad) == -1, "index out of range accepted");
    memcpy(bad, cur, sizeof bad);
    bad[3] = 1 << 30;
    TEST_CHECK(data_set_cursor(&M, bad) == -1, "offset out of range accepted");
    memcpy(bad, cur, sizeof bad);
    bad[1] = -1;
    TEST_CHECK(data_set_cursor(&M, bad) == -1, "negative epoch accepted");
    data_get_cursor(&M, bad);
    TEST_CHECK(memcmp(bad, before, sizeof bad) == 0, "refused cursor changed the loader");
    data_loader_free(&L); data_loader_free(&M); data_loader_free(&N);
    data_loader_free(&A1); data_loader_free(&A2);
    free(buf);
}

static void test_eval_reader(const corpus_t *c) {
    int d = corpus_find(c, "GPL-3");
    if (d < 0) d = 0;
    int64_t len = c->len[d];
    int32_t *x = malloc(sizeof(int32_t) * (len + 100)), *y = malloc(sizeof(int32_t) * (len + 100)), *p = malloc(sizeof(int32_t) * (len + 100));
    TEST_CHECK(corpus_read(c, d, 0, 100, x, y, p) == 100, "first 100 bytes");
    int bad = 0;
    for (int i = 0; i < 100; i++) bad += x[i] != c->doc[d][i] || y[i] != c->doc[d][i + 1] || p[i] != i;
    TEST_CHECK(bad == 0, "eval reader: first 100 bytes");
    /* chunks of 1000 re-assemble the document; only the last byte has target -1 */
    int64_t off = 0, got, minus = 0;
    while ((got = corpus_read(c, d, off, 1000, x + off, y + off, p + off)) > 0) off += got;
    TEST_CHECK(off == len, "chunked read covers the document (%lld of %lld)", (long long)off, (long long)len);
    bad = 0;
    for (int64_t i = 0; i < len; i++) {
        bad += x[i] != c->doc[d][i] || p[i] != i;
        minus += y[i] == -1;
        if (i + 1 < len) bad += y[i] != c->doc[d][i + 1];
    }
    TEST_CHECK(bad == 0 && minus == 1 && y[len - 1] == -1, "chunked read: %d mismatches, %lld end markers", bad, (long long)minus);
    TEST_CHECK(corpus_read(c, d, len, 10, x, y, p) == 0, "read past the end gives 0");
    TEST_CHECK(corpus_read(c, c->n_docs, 0, 10, x, y, p) == -1 && corpus_read(c, d, -1, 10, x, NULL, NULL) == -1, "bad doc/offset");
    free(x); free(y); free(p);
}

/* A MANIFEST-driven corpus: splits, order and size checks. */
static void test_manifest(void) {
    char dir[] = "/tmp/griffin-test-data.XXXXXX";
    if (!mkdtemp(dir)) { TEST_CHECK(0, "mkdtemp"); return; }
    char p[512];
    snprintf(p, sizeof p, "%s/train", dir); mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/heldout", dir); mkdir(p, 0700);
    const char *files[3] = {"train/b.txt", "train/a.txt", "heldout/novel.txt"};
    const char *text[3] = {"bravo\n", "alpha alpha\n", "call me ishmael\n"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        FILE *f = fopen(p, "w"); fputs(text[i], f); fclose(f);
    }
    snprintf(p, sizeof p, "%s/MANIFEST", dir);
    FILE *f = fopen(p, "w");
    fprintf(f, "# comment\n");
    for (int i = 0; i < 3; i++)
        fprintf(f, "%064d %zu %s pkg %s\n", 0, strlen(text[i]), i < 2 ? "train" : "heldout", files[i]);
    fclose(f);
    corpus_t c;
    TEST_CHECK(corpus_load(&c, dir, "train") == 0 && c.n_docs == 2, "manifest train split: %s", util_last_error());
    TEST_CHECK(c.n_docs == 2 && strcmp(c.names[0], "train/b.txt") == 0 && c.len[1] == 12, "manifest order kept");
    corpus_free(&c);
    TEST_CHECK(corpus_load(&c, dir, "heldout") == 0 && c.n_docs == 1 && corpus_find(&c, "novel") == 0, "manifest heldout split");
    corpus_free(&c);
    TEST_CHECK(corpus_load(&c, dir, NULL) == 0 && c.n_docs == 3, "manifest all splits");
    corpus_free(&c);
    TEST_CHECK(corpus_load(&c, dir, "valid") == -1, "empty split is an error");
    /* a file that changed size is an error naming it */
    snprintf(p, sizeof p, "%s/train/a.txt", dir);
    f = fopen(p, "a"); fputs("x", f); fclose(f);
    TEST_CHECK(corpus_load(&c, dir, "train") == -1 && strstr(util_last_error(), "a.txt"), "size mismatch detected: %s", util_last_error());
    for (int i = 0; i < 3; i++) { snprintf(p, sizeof p, "%s/%s", dir, files[i]); unlink(p); }
    snprintf(p, sizeof p, "%s/MANIFEST", dir); unlink(p);
    snprintf(p, sizeof p, "%s/train", dir); rmdir(p);
    snprintf(p, sizeof p, "%s/heldout", dir); rmdir(p);
    rmdir(dir);
}

/* The real corpus, when fetched: held-out novels present and loadable. */
static void test_fetched(void) {
    const char *dir = getenv("GRIFFIN_CORPUS") ? getenv("GRIFFIN_CORPUS") : "data/corpus";
    char m[4096];
    snprintf(m, sizeof m, "%s/MANIFEST", dir);
    if (access(m, R_OK) != 0) { TEST_SKIP("fetched-corpus checks: %s not found (run scripts/get-corpus.sh)", m); return; }
    corpus_t c;
    TEST_CHECK(corpus_load(&c, dir, "heldout") == 0, "fetched heldout: %s", util_last_error());
    TEST_CHECK(c.n_docs == 7 && corpus_find(&c, "emma") >= 0 && corpus_find(&c, "mobydick") >= 0, "7 novels incl. emma, mobydick");
    int md = corpus_find(&c, "mobydick");
    TEST_CHECK(md >= 0 && c.len[md] > 1000000 && memmem(c.doc[md], (size_t)c.len[md], "Call me Ishmael", 15) &&
                   !memmem(c.doc[md], (size_t)c.len[md], "PROJECT GUTENBERG EBOOK", 23),
               "Moby Dick stripped of the Gutenberg header/footer");
    corpus_free(&c);
}

int main(void) {
    corpus_t c;
    int rc = corpus_load(&c, LICENSES, NULL);
    TEST_CHECK(rc == 0, "load %s: %s", LICENSES, util_last_error());
    if (rc == 0) {
        test_load(&c);
        test_packing(&c, 4, 1000);
        test_packing(&c, 3, 97);       /* odd, many boundaries per row */
        test_packing(&c, 1, 100003);   /* rows longer than documents */
        test_cursor(&c);
        test_eval_reader(&c);
        corpus_free(&c);
    }
    test_manifest();
    test_fetched();
    return test_summary();
}
