/* data.c — corpus loading, batch packing and eval reading; rules in data.h.
 * Tested by tests/test_data.c on /usr/share/common-licenses. */
#include "data.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- loading ------------------------------------------------------------------------ */

typedef struct { char **names; int64_t *len; int n, cap; } name_list;

static void list_add(name_list *l, const char *name, int64_t len) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->names = realloc(l->names, sizeof(char *) * (size_t)l->cap);
        l->len = realloc(l->len, sizeof(int64_t) * (size_t)l->cap);
        CHECK_ALLOC(l->names);
        CHECK_ALLOC(l->len);
    }
    l->names[l->n] = strdup(name);
    CHECK_ALLOC(l->names[l->n]);
    l->len[l->n++] = len;
}

static void list_free(name_list *l) {
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    free(l->len);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_dir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }

/* MANIFEST: "sha256 bytes split package path". Returns 0 / -1. */
static int read_manifest(name_list *l, const char *dir, const char *split) {
    char path[4096], line[8192];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    FILE *f = fopen(path, "r");
    CHECK_IO(f, "corpus: cannot open %s: %s", path, strerror(errno));
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        char sum[80], sp[64], pkg[256], rel[4096];
        long long bytes;
        if (sscanf(line, "%79s %lld %63s %255s %4095s", sum, &bytes, sp, pkg, rel) != 5 || bytes < 0) {
            fclose(f);
            util_error("corpus: %s:%d: malformed line (want: sha256 bytes split package path)", path, lineno);
            return -1;
        }
        if (split && split[0] && strcmp(sp, split) != 0) continue;
        list_add(l, rel, bytes);
    }
    fclose(f);
    return 0;
}

static int read_dir(name_list *l, const char *dir, const char *sub) {
    char base[4096];
    if (sub) snprintf(base, sizeof base, "%s/%s", dir, sub);
    else snprintf(base, sizeof base, "%s", dir);
    DIR *d = opendir(base);
    CHECK_IO(d, "corpus: cannot open directory %s: %s (fetch the corpus with scripts/get-corpus.sh)", base, strerror(errno));
    struct dirent *e;
    name_list tmp = {0};
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", base, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        char rel[4096];
        if (sub) snprintf(rel, sizeof rel, "%s/%s", sub, e->d_name);
        else snprintf(rel, sizeof rel, "%s", e->d_name);
        list_add(&tmp, rel, -1);
    }
    closedir(d);
    qsort(tmp.names, (size_t)tmp.n, sizeof(char *), cmp_str);
    for (int i = 0; i < tmp.n; i++) list_add(l, tmp.names[i], -1);
    list_free(&tmp);
    return 0;
}

int corpus_load(corpus_t *c, const char *dir, const char *split) {
    memset(c, 0, sizeof *c);
    CHECK_IO(dir && is_dir(dir), "corpus: %s is not a directory (fetch the corpus with scripts/get-corpus.sh)", dir ? dir : "(null)");
    name_list l = {0};
    char mpath[4096], sdir[4096];
    snprintf(mpath, sizeof mpath, "%s/MANIFEST", dir);
    struct stat st;
    int rc;
    int has_split = split && split[0];
    if (stat(mpath, &st) == 0) rc = read_manifest(&l, dir, split);
    else {
        snprintf(sdir, sizeof sdir, "%s/%s", dir, has_split ? split : "");
        rc = read_dir(&l, dir, has_split && is_dir(sdir) ? split : NULL);
    }
    if (rc != 0) { list_free(&l); return -1; }

    /* Sizes first (one blob), then the bytes. */
    int64_t total = 0;
    int64_t *sz = malloc(sizeof(int64_t) * (size_t)(l.n ? l.n : 1));
    CHECK_ALLOC(sz);
    for (int i = 0; i < l.n; i++) {
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, l.names[i]);
        if (stat(p, &st) != 0) {
            util_error("corpus: %s listed but missing: %s (re-run scripts/get-corpus.sh)", p, strerror(errno));
            goto fail;
        }
        if (l.len[i] >= 0 && l.len[i] != (int64_t)st.st_size) {
            util_error("corpus: %s has %lld bytes, MANIFEST says %lld (re-run scripts/get-corpus.sh)", p,
                       (long long)st.st_size, (long long)l.len[i]);
            goto fail;
        }
        sz[i] = (int64_t)st.st_size;
        total += sz[i];
    }
    int n_nonempty = 0;
    for (int i = 0; i < l.n; i++) n_nonempty += sz[i] > 0;
    if (n_nonempty == 0) {
        util_error("corpus: no documents in %s%s%s", dir, has_split ? " for split " : "", has_split ? split : "");
        goto fail;
    }
    c->blob = malloc((size_t)total);
    c->names = calloc((size_t)n_nonempty, sizeof(char *));
    c->doc = calloc((size_t)n_nonempty, sizeof(uint8_t *));
    c->len = calloc((size_t)n_nonempty, sizeof(int64_t));
    CHECK_ALLOC(c->blob);
    CHECK_ALLOC(c->names);
    CHECK_ALLOC(c->doc);
    CHECK_ALLOC(c->len);
    int64_t off = 0;
    for (int i = 0; i < l.n; i++) {
        if (sz[i] == 0) continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, l.names[i]);
        FILE *f = fopen(p, "rb");
        if (!f) { util_error("corpus: cannot open %s: %s", p, strerror(errno)); goto fail; }
        size_t got = fread(c->blob + off, 1, (size_t)sz[i], f);
        fclose(f);
        if ((int64_t)got != sz[i]) { util_error("corpus: short read on %s (%zu of %lld bytes)", p, got, (long long)sz[i]); goto fail; }
        int k = c->n_docs++;
        c->names[k] = l.names[i];
        l.names[i] = NULL;
        c->doc[k] = c->blob + off;
        c->len[k] = sz[i];
        off += sz[i];
    }
    c->total_bytes = total;
    free(sz);
    list_free(&l);
    return 0;
fail:
    free(sz);
    list_free(&l);
    corpus_free(c);
    return -1;
}

void corpus_free(corpus_t *c) {
    if (c->names)
        for (int i = 0; i < c->n_docs; i++) free(c->names[i]);
    free(c->names);
    free(c->doc);
    free(c->len);
    free(c->blob);
    memset(c, 0, sizeof *c);
}

static int name_matches(const char *doc, const char *name) {
    if (!strcmp(doc, name)) return 1;
    const char *base = strrchr(doc, '/');
    base = base ? base + 1 : doc;
    size_t n = strlen(name);
    return !strncmp(base, name, n) && (base[n] == 0 || base[n] == '.');
}

int corpus_filter(corpus_t *c, const char *const *names, int n, int keep) {
    int k = 0;
    int64_t total = 0;
    for (int i = 0; i < c->n_docs; i++) {
        int hit = 0;
        for (int j = 0; j < n && !hit; j++) hit = name_matches(c->names[i], names[j]);
        if (hit == !!keep) {
            c->names[k] = c->names[i];
            c->doc[k] = c->doc[i];
            c->len[k] = c->len[i];
            total += c->len[k];
            k++;
        } else {
            free(c->names[i]);
        }
    }
    c->n_docs = k;
    c->total_bytes = total;
    if (k == 0) { util_error("corpus: no documents left after %s the named ones", keep ? "keeping" : "dropping"); return -1; }
    return k;
}

int corpus_find(const corpus_t *c, const char *name) {
    for (int i = 0; i < c->n_docs; i++)
        if (strcmp(c->names[i], name) == 0) return i;
    size_t n = strlen(name);
    for (int i = 0; i < c->n_docs; i++) {
        const char *b = strrchr(c->names[i], '/');
        b = b ? b + 1 : c->names[i];
        const char *dot = strchr(b, '.');
        size_t bl = dot ? (size_t)(dot - b) : strlen(b);
        if (bl == n && strncmp(b, name, n) == 0) return i;
    }
    return -1;
}

int64_t corpus_read(const corpus_t *c, int doc, int64_t offset, int64_t n,
                    int32_t *tokens, int32_t *targets, int32_t *pos) {
    if (doc < 0 || doc >= c->n_docs || offset < 0 || n < 0) {
        util_error("corpus_read: bad document %d / offset %lld / n %lld (corpus has %d documents)", doc,
                   (long long)offset, (long long)n, c->n_docs);
        return -1;
    }
    int64_t len = c->len[doc];
    if (offset >= len) return 0;
    if (n > len - offset) n = len - offset;
    const uint8_t *d = c->doc[doc] + offset;
    for (int64_t i = 0; i < n; i++) {
        tokens[i] = d[i];
        if (targets) targets[i] = offset + i + 1 < len ? d[i + 1] : -1;
        if (pos) pos[i] = (int32_t)(offset + i);
    }
    return n;
}

/* ---- packing --------------------------------------------------------------------------- */

/* The epoch's document order: Fisher-Yates from a stream seeded by (seed, epoch). */
static void make_order(data_loader *L) {
    rng_t r;
    rng_seed(&r, L->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(L->epoch + 1)));
    int n = L->c->n_docs;
    for (int i = 0; i < n; i++) L->order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(&r, (uint32_t)(i + 1));
        int32_t t = L->order[i]; L->order[i] = L->order[j]; L->order[j] = t;
    }
}

int data_loader_init(data_loader *L, const corpus_t *c, uint64_t seed) {
    memset(L, 0, sizeof *L);
    CHECK_IO(c && c->n_docs > 0, "data: empty corpus");
    L->c = c;
    L->seed = seed;
    L->order = malloc(sizeof(int32_t) * (size_t)c->n_docs);
    CHECK_ALLOC(L->order);
    make_order(L);
    return 0;
}

void data_loader_free(data_loader *L) {
    free(L->order);
    memset(L, 0, sizeof *L);
}

void data_next_batch(data_loader *L, int B, int T, int32_t *tokens, int32_t *targets, int32_t *pos) {
    const corpus_t *c = L->c;
    for (int b = 0; b < B; b++) {
        int64_t row = (int64_t)b * T;
        int32_t seg = 0;
        for (int t = 0; t < T;) {
            int d = L->order[L->index];
            const uint8_t *p = c->doc[d];
            int64_t len = c->len[d], off = L->offset;
            if (off == 0) seg = 0;  /* document start */
            /* copy a run within this document */
            int64_t run = len - off;
            if (run > T - t) run = T - t;
            for (int64_t i = 0; i < run; i++) {
                int64_t k = row + t + i;
                tokens[k] = p[off + i];
                if (targets) targets[k] = off + i + 1 < len ? p[off + i + 1] : -1;
                if (pos) pos[k] = seg++;
            }
            t += (int)run;
            L->offset += run;
            if (L->offset == len) {
                L->offset = 0;
                if (++L->index == c->n_docs) {
                    L->index = 0;
                    L->epoch++;
                    make_order(L);
                }
            }
        }
    }
}

void data_get_cursor(const data_loader *L, int64_t cur[DATA_CURSOR_N]) {
    cur[0] = (int64_t)L->seed;
    cur[1] = L->epoch;
    cur[2] = L->index;
    cur[3] = L->offset;
}

int data_set_cursor(data_loader *L, const int64_t cur[DATA_CURSOR_N]) {
    int64_t epoch = cur[1], index = cur[2], offset = cur[3];
    CHECK_IO(epoch >= 0, "data: cursor epoch %lld < 0", (long long)epoch);
    CHECK_IO(index >= 0 && index < L->c->n_docs, "data: cursor document %lld outside [0, %d) (different corpus?)",
             (long long)index, L->c->n_docs);
    uint64_t seed = (uint64_t)cur[0];
    /* The offset must lie inside the document that this (seed, epoch) puts at index. */
    data_loader probe = *L;
    probe.seed = seed;
    probe.epoch = epoch;
    int32_t *order = malloc(sizeof(int32_t) * (size_t)L->c->n_docs);
    CHECK_ALLOC(order);
    probe.order = order;
    make_order(&probe);
    int64_t len = L->c->len[order[index]];
    if (offset < 0 || offset >= len) {
        free(order);
        util_error("data: cursor offset %lld outside document of %lld bytes (different corpus?)", (long long)offset, (long long)len);
        return -1;
    }
    free(L->order);
    *L = probe;
    L->index = index;
    L->offset = offset;
    return 0;
}
