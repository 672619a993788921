/* rdb_extract.c — pull character vectors out of an R lazy-load database (.rdb/.rdx).
 *
 * Used by scripts/get-corpus.sh to turn the Jane Austen novels (r-cran-janeaustenr)
 * and Moby Dick (r-cran-tokenizers) into plain text. Standalone: links zlib only.
 *
 *   rdb_extract FILE.rdb [FILE.rdx] OUTDIR
 *
 * Writes OUTDIR/NAME.txt for every object that is a character vector, its elements
 * joined by '\n' (NA elements become empty lines; the file ends with '\n'). With the
 * .rdx the objects are named after their R variables; without it they are read in
 * file order and named obj1, obj2, ... Other objects are skipped with a note.
 * Exit 0 on success, 1 on corrupt/truncated input or I/O failure, 2 on usage.
 *
 * Format, as verified on the Debian bookworm packages (R 4.2):
 *  - FILE.rdx is a gzip file (R saveRDS) holding an XDR-serialized list of three:
 *    variables (named list of int[2] = byte offset, byte length into the .rdb),
 *    references (named list), compressed (logical TRUE = zlib; 2 = bzip2, 3 = xz).
 *  - Each .rdb entry at [offset, offset+length) is a 4-byte big-endian *inflated*
 *    length followed by one zlib stream (so the .rdb can also be walked without the
 *    .rdx: the zlib stream marks its own end).
 *  - Inflated, an entry is R serialization format "X\n" (XDR, big-endian): int32
 *    version, R version, min R version; for version 3 an int32 n and n bytes of the
 *    native encoding; then one item. An item starts with int32 flags: type = flags
 *    & 0xff, has-attributes = bit 9, has-tag = bit 10; a reference (type 255) holds
 *    its index in flags >> 8. A character vector (type 16) is int32 length (-1:
 *    64-bit length in two int32), then per element a CHARSXP (type 9): int32 flags,
 *    int32 byte length (-1 = NA), bytes. Attributes (a tagged pairlist) follow the
 *    elements; Moby Dick carries a names attribute, the novels none.
 *
 * Every read is bounds-checked; a truncated or corrupt file gives a clear error,
 * never an out-of-bounds access. Nesting depth and sizes are capped.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_INFLATED ((size_t)1 << 31) /* 2 GiB: far above any R data set we read */
#define MAX_DEPTH 64

static const char *g_prog = "rdb_extract";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", g_prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    fflush(NULL);
    _exit(1); /* no leak report for buffers abandoned on the error path */
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

/* Read a whole file into memory. */
static unsigned char *read_file(const char *path, size_t *n_out) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_INFLATED) die("%s: file too large", path);
            cap *= 2;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) die("out of memory reading %s", path);
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) die("read error on %s", path);
    fclose(f);
    *n_out = n;
    return buf;
}

/* Inflate one zlib (or, with gzip=1, gzip-or-zlib) stream from src[0..n).
 * Returns the inflated buffer; *used = compressed bytes consumed. expect != 0
 * pins the inflated size (an .rdb entry header). */
static unsigned char *inflate_stream(const unsigned char *src, size_t n, int gzip, size_t expect,
                                     size_t *out_n, size_t *used, const char *what) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, gzip ? 15 + 32 : 15) != Z_OK) die("%s: inflateInit failed", what);
    size_t cap = expect ? expect : (n * 4 + 1024), len = 0;
    if (cap > MAX_INFLATED) die("%s: declared inflated size %zu too large", what, cap);
    unsigned char *out = xmalloc(cap);
    size_t in_off = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (len == cap) {
            if (expect) die("%s: inflates to more than the declared %zu bytes (corrupt)", what, expect);
            if (cap >= MAX_INFLATED) die("%s: inflated data too large", what);
            cap *= 2;
            unsigned char *nb = realloc(out, cap);
            if (!nb) die("out of memory inflating %s", what);
            out = nb;
        }
        size_t in_chunk = n - in_off;
        if (in_chunk > (1u << 30)) in_chunk = 1u << 30;
        size_t out_chunk = cap - len;
        if (out_chunk > (1u << 30)) out_chunk = 1u << 30;
        z.next_in = (Bytef *)(src + in_off);
        z.avail_in = (uInt)in_chunk;
        z.next_out = out + len;
        z.avail_out = (uInt)out_chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        in_off += in_chunk - z.avail_in;
        len += out_chunk - z.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc == Z_BUF_ERROR && in_off == n) die("%s: compressed stream truncated", what);
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            die("%s: corrupt compressed data (zlib: %s)", what, z.msg ? z.msg : "error");
    }
    inflateEnd(&z);
    if (expect && len != expect)
        die("%s: inflated to %zu bytes, header says %zu (corrupt)", what, len, expect);
    *out_n = len;
    *used = in_off;
    return out;
}

/* ---- R XDR unserializer (the subset lazy-load databases of data use) ---- */

enum {
    NILSXP = 0, SYMSXP = 1, LISTSXP = 2, CHARSXP = 9, LGLSXP = 10, INTSXP = 13, REALSXP = 14,
    CPLXSXP = 15, STRSXP = 16, VECSXP = 19, EXPRSXP = 20, RAWSXP = 24,
    BASEENV_SXP = 241, EMPTYENV_SXP = 242, GLOBALENV_SXP = 253, NILVALUE_SXP = 254, REFSXP = 255,
};

typedef struct node {
    int type;
    int64_t len;         /* vector length, or CHARSXP byte length (-1 = NA) */
    char *str;           /* CHARSXP bytes (NUL-terminated copy), SYMSXP name */
    int32_t *ints;       /* INTSXP / LGLSXP */
    struct node **kids;  /* STRSXP / VECSXP elements; LISTSXP: [car, cdr] */
    struct node *tag;    /* LISTSXP tag */
    struct node *attr;   /* attributes pairlist or NULL */
} node;

typedef struct {
    const unsigned char *p;
    size_t n, off;
    const char *what;
    node **refs;
    int n_refs, cap_refs;
} reader;

static node g_nil = {NILVALUE_SXP, 0, NULL, NULL, NULL, NULL, NULL};

static void need(reader *r, size_t k) {
    if (k > r->n - r->off) die("%s: truncated serialized data at byte %zu (need %zu more)", r->what, r->off, k);
}

static int32_t rd_i32(reader *r) {
    need(r, 4);
    const unsigned char *b = r->p + r->off;
    r->off += 4;
    return (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
}

static int64_t rd_len(reader *r) {
    int32_t l = rd_i32(r);
    if (l >= 0) return l;
    if (l != -1) die("%s: negative vector length %d (corrupt)", r->what, l);
    uint32_t hi = (uint32_t)rd_i32(r), lo = (uint32_t)rd_i32(r);
    int64_t v = (int64_t)((uint64_t)hi << 32 | lo);
    if (v < 0) die("%s: bad long vector length", r->what);
    return v;
}

/* Every node, string and child array of the current object lives in one arena. */
static void **g_arena;
static size_t g_arena_n, g_arena_cap;

static void *arena_alloc(size_t n) {
    if (g_arena_n == g_arena_cap) {
        g_arena_cap = g_arena_cap ? 2 * g_arena_cap : 1024;
        void **na = realloc(g_arena, g_arena_cap * sizeof *na);
        if (!na) die("out of memory");
        g_arena = na;
    }
    return g_arena[g_arena_n++] = xmalloc(n);
}

/* Free everything allocated after `mark` (0: everything). */
static void arena_reset(size_t mark) {
    while (g_arena_n > mark) free(g_arena[--g_arena_n]);
}

static node *new_node(int type) {
    node *x = arena_alloc(sizeof *x);
    memset(x, 0, sizeof *x);
    x->type = type;
    return x;
}

static void add_ref(reader *r, node *x) {
    if (r->n_refs == r->cap_refs) {
        r->cap_refs = r->cap_refs ? 2 * r->cap_refs : 16;
        node **nr = realloc(r->refs, (size_t)r->cap_refs * sizeof *nr);
        if (!nr) die("out of memory");
        r->refs = nr;
    }
    r->refs[r->n_refs++] = x;
}

static node *rd_item(reader *r, int depth);

static node *rd_charsxp(reader *r) {
    int32_t flags = rd_i32(r);
    if ((flags & 0xff) != CHARSXP) die("%s: expected a string (CHARSXP) at byte %zu, got type %d", r->what, r->off - 4, flags & 0xff);
    node *x = new_node(CHARSXP);
    int32_t l = rd_i32(r);
    if (l < -1) die("%s: bad string length %d", r->what, l);
    x->len = l;
    if (l >= 0) {
        need(r, (size_t)l);
        x->str = arena_alloc((size_t)l + 1);
        memcpy(x->str, r->p + r->off, (size_t)l);
        x->str[l] = 0;
        r->off += (size_t)l;
    }
    return x;
}

static node *rd_item(reader *r, int depth) {
    if (depth > MAX_DEPTH) die("%s: nesting deeper than %d (corrupt?)", r->what, MAX_DEPTH);
    size_t at = r->off;
    int32_t flags = rd_i32(r);
    int type = flags & 0xff;
    int has_attr = (flags >> 9) & 1, has_tag = (flags >> 10) & 1;
    switch (type) {
    case NILVALUE_SXP: case EMPTYENV_SXP: case BASEENV_SXP: case GLOBALENV_SXP:
        return &g_nil;
    case REFSXP: {
        int32_t idx = (int32_t)((uint32_t)flags >> 8);
        if (idx == 0) idx = rd_i32(r);
        if (idx < 1 || idx > r->n_refs) die("%s: reference %d out of range (have %d) at byte %zu", r->what, idx, r->n_refs, at);
        return r->refs[idx - 1];
    }
    case SYMSXP: {
        node *c = rd_charsxp(r);
        node *x = new_node(SYMSXP);
        x->str = c->str ? c->str : (char *)"";
        add_ref(r, x);
        return x;
    }
    case LISTSXP: {
        /* Tagged pairlist, read iteratively along the CDR chain. */
        node *head = NULL, **tail = &head;
        for (;;) {
            node *cell = new_node(LISTSXP);
            if (has_attr) cell->attr = rd_item(r, depth + 1);
            if (has_tag) cell->tag = rd_item(r, depth + 1);
            cell->kids = arena_alloc(2 * sizeof(node *));
            cell->kids[0] = rd_item(r, depth + 1);
            cell->kids[1] = &g_nil;
            *tail = cell;
            tail = &cell->kids[1];
            int32_t f = rd_i32(r);
            int t = f & 0xff;
            if (t == NILVALUE_SXP) break;
            if (t != LISTSXP) { r->off -= 4; *tail = rd_item(r, depth + 1); break; }
            has_attr = (f >> 9) & 1;
            has_tag = (f >> 10) & 1;
        }
        return head;
    }
    case CHARSXP: {
        r->off = at;
        return rd_charsxp(r);
    }
    case LGLSXP: case INTSXP: case REALSXP: case CPLXSXP: case RAWSXP: {
        node *x = new_node(type);
        x->len = rd_len(r);
        size_t esz = type == REALSXP ? 8 : type == CPLXSXP ? 16 : type == RAWSXP ? 1 : 4;
        if ((uint64_t)x->len > (r->n - r->off) / esz) die("%s: vector of %lld elements overruns the data", r->what, (long long)x->len);
        if (type == LGLSXP || type == INTSXP) {
            x->ints = arena_alloc((size_t)x->len * 4);
            for (int64_t i = 0; i < x->len; i++) x->ints[i] = rd_i32(r);
        } else {
            r->off += (size_t)x->len * esz;
        }
        if (has_attr) x->attr = rd_item(r, depth + 1);
        return x;
    }
    case STRSXP: case VECSXP: case EXPRSXP: {
        node *x = new_node(type);
        x->len = rd_len(r);
        /* every element takes at least 4 bytes: a cheap guard against absurd lengths */
        if ((uint64_t)x->len > (r->n - r->off) / 4) die("%s: vector of %lld elements overruns the data", r->what, (long long)x->len);
        x->kids = arena_alloc((size_t)(x->len ? x->len : 1) * sizeof(node *));
        for (int64_t i = 0; i < x->len; i++)
            x->kids[i] = type == STRSXP ? rd_charsxp(r) : rd_item(r, depth + 1);
        if (has_attr) x->attr = rd_item(r, depth + 1);
        return x;
    }
    default:
        die("%s: unsupported R object type %d at byte %zu", r->what, type, at);
    }
}

/* Parse the serialization header and the top item of an inflated buffer. */
static node *unserialize(const unsigned char *p, size_t n, const char *what) {
    reader r = {p, n, 0, what, NULL, 0, 0};
    need(&r, 2);
    if (p[0] != 'X' || p[1] != '\n') die("%s: not R XDR serialization (starts %02x %02x; expected \"X\\n\")", what, p[0], p[1]);
    r.off = 2;
    int32_t version = rd_i32(&r);
    rd_i32(&r); /* writer R version */
    rd_i32(&r); /* minimal reader R version */
    if (version == 3) {
        int32_t el = rd_i32(&r);
        if (el < 0 || el > 64) die("%s: bad encoding-name length %d", what, el);
        need(&r, (size_t)el);
        r.off += (size_t)el;
    } else if (version != 2) {
        die("%s: unsupported serialization version %d", what, version);
    }
    node *x = rd_item(&r, 0);
    free(r.refs);
    return x;
}

/* Look up attribute `name` in a node's attribute pairlist. */
static node *get_attr(const node *x, const char *name) {
    for (const node *c = x->attr; c && c->type == LISTSXP; c = c->kids[1])
        if (c->tag && c->tag->type == SYMSXP && strcmp(c->tag->str, name) == 0) return c->kids[0];
    return NULL;
}

/* ---- output ---- */

/* Keep [A-Za-z0-9._-]; anything else becomes '_'; never empty, never starts with '.'. */
static void safe_name(char *dst, size_t cap, const char *src) {
    size_t k = 0;
    for (const char *s = src; *s && k + 1 < cap; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || (c == '.' && k > 0);
        dst[k++] = ok ? c : '_';
    }
    if (k == 0) dst[k++] = '_';
    dst[k] = 0;
}

static int write_strsxp(const node *x, const char *outdir, const char *name) {
    char fn[256], path[4096];
    safe_name(fn, sizeof fn - 4, name);
    snprintf(path, sizeof path, "%s/%s.txt", outdir, fn);
    FILE *f = fopen(path, "wb");
    if (!f) die("cannot create %s: %s", path, strerror(errno));
    size_t bytes = 0;
    for (int64_t i = 0; i < x->len; i++) {
        const node *c = x->kids[i];
        if (c->len > 0) {
            if (fwrite(c->str, 1, (size_t)c->len, f) != (size_t)c->len) die("write error on %s", path);
            bytes += (size_t)c->len;
        }
        if (i + 1 < x->len || c->len <= 0 || c->str[c->len - 1] != '\n') {
            if (fputc('\n', f) == EOF) die("write error on %s", path);
            bytes++;
        }
    }
    if (fclose(f) != 0) die("write error on %s", path);
    printf("%s: %lld strings, %zu bytes\n", path, (long long)x->len, bytes);
    return 0;
}

static int extract_entry(const unsigned char *rdb, size_t rdb_n, size_t off, size_t len, const char *name,
                         const char *outdir, size_t *consumed) {
    char what[300];
    snprintf(what, sizeof what, "entry '%s' at .rdb offset %zu", name, off);
    if (off > rdb_n || 4 > rdb_n - off) die("%s: past the end of the .rdb (%zu bytes; truncated?)", what, rdb_n);
    size_t avail = len ? len : rdb_n - off;
    if (avail > rdb_n - off) die("%s: length %zu runs past the end of the .rdb (%zu bytes; truncated?)", what, len, rdb_n);
    if (avail < 4) die("%s: entry shorter than its 4-byte header", what);
    const unsigned char *b = rdb + off;
    size_t expect = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
    if (expect == 0) die("%s: zero inflated length (corrupt)", what);
    size_t n_inf, used, mark = g_arena_n;
    unsigned char *inf = inflate_stream(b + 4, avail - 4, 0, expect, &n_inf, &used, what);
    if (len && used != len - 4) fprintf(stderr, "%s: note: %s: %zu trailing bytes after the zlib stream\n", g_prog, what, len - 4 - used);
    *consumed = 4 + used;
    node *x = unserialize(inf, n_inf, what);
    int wrote = 0;
    if (x->type == STRSXP) {
        write_strsxp(x, outdir, name);
        wrote = 1;
    } else {
        fprintf(stderr, "%s: note: %s is R type %d, not a character vector; skipped\n", g_prog, what, x->type);
    }
    free(inf);
    arena_reset(mark); /* the index tree (if any) stays */
    return wrote;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s FILE.rdb [FILE.rdx] OUTDIR\n", g_prog);
        return 2;
    }
    const char *rdb_path = argv[1], *rdx_path = argc == 4 ? argv[2] : NULL, *outdir = argv[argc - 1];
    size_t rdb_n;
    unsigned char *rdb = read_file(rdb_path, &rdb_n);
    int n_written = 0;
    if (rdx_path) {
        size_t rdx_n, n_inf, used;
        unsigned char *rdx = read_file(rdx_path, &rdx_n);
        unsigned char *inf = inflate_stream(rdx, rdx_n, 1, 0, &n_inf, &used, rdx_path);
        node *idx = unserialize(inf, n_inf, rdx_path);
        if (idx->type != VECSXP) die("%s: index is not a list (type %d)", rdx_path, idx->type);
        node *names = get_attr(idx, "names"), *vars = NULL, *comp = NULL;
        for (int64_t i = 0; names && names->type == STRSXP && i < idx->len && i < names->len; i++) {
            const char *nm = names->kids[i]->str ? names->kids[i]->str : "";
            if (strcmp(nm, "variables") == 0) vars = idx->kids[i];
            if (strcmp(nm, "compressed") == 0) comp = idx->kids[i];
        }
        if (!vars || vars->type != VECSXP) die("%s: no 'variables' list in the index", rdx_path);
        if (comp && (comp->type == LGLSXP || comp->type == INTSXP) && comp->len >= 1 && comp->ints[0] != 1)
            die("%s: compression type %d (bzip2/xz) is not supported; only zlib", rdx_path, comp->ints[0]);
        node *vnames = get_attr(vars, "names");
        if (!vnames || vnames->type != STRSXP || vnames->len != vars->len) die("%s: variables have no names", rdx_path);
        for (int64_t i = 0; i < vars->len; i++) {
            node *v = vars->kids[i];
            const char *nm = vnames->kids[i]->str ? vnames->kids[i]->str : "NA";
            if (v->type != INTSXP || v->len != 2 || v->ints[0] < 0 || v->ints[1] < 0)
                die("%s: variable '%s' has no (offset, length) pair", rdx_path, nm);
            size_t consumed;
            n_written += extract_entry(rdb, rdb_n, (size_t)v->ints[0], (size_t)v->ints[1], nm, outdir, &consumed);
        }
        free(rdx);
        free(inf);
    } else {
        size_t off = 0;
        int k = 0;
        while (off < rdb_n) {
            char nm[32];
            snprintf(nm, sizeof nm, "obj%d", ++k);
            size_t consumed;
            n_written += extract_entry(rdb, rdb_n, off, 0, nm, outdir, &consumed);
            off += consumed;
        }
    }
    free(rdb);
    arena_reset(0);
    free(g_arena);
    if (n_written == 0) die("%s: no character vectors found", rdb_path);
    return 0;
}
