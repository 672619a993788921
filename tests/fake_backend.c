/* fake_backend.c — see fake_backend.h. */
#include "fake_backend.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

fk_state fk;

static const char *const fk_names[] = {"upload", "download", "copy", "memset", "sync", "alloc", "free", "kernel"};

typedef struct {
    int (*run)(const void *);
    unsigned char a[160];
} fk_rec;

typedef struct {
    fk_rec *rec;
    int n;
    unsigned long epoch;
} fk_graph;

/* ---- protection: two views of one arena --------------------------------------
 * Protected fake memory is one memfd mapped twice: the device view (what
 * alloc returns, what the model holds) is PROT_NONE for good; the kernel
 * view is read-write. Every wrapper hands backend_cpu the kernel view of
 * each pointer argument (FP: a device-view pointer moved to the kernel
 * view, any other unchanged). So a kernel runs on real memory, and host
 * code that dereferences a device pointer faults. */
enum { FP_ARENA = 1 << 30, FP_ALIGN = 256 };
typedef struct {
    size_t off, len;
} fp_block;

static struct {
    int on;
    char *dev, *host;          /* the two views of the arena */
    size_t top;                /* bytes handed out so far (bump) */
    fp_block *live, *spare;    /* allocated blocks; freed blocks for reuse */
    int nlive, nspare, cap_live, cap_spare;
    struct sigaction old;
} fp;

static int fp_in(const void *p) { return fp.dev && (const char *)p >= fp.dev && (const char *)p < fp.dev + FP_ARENA; }
static void *fp_host(const void *p) { return fp_in(p) ? fp.host + ((const char *)p - fp.dev) : (void *)p; }
/* A wrapper's pointer argument, in the kernel view. */
#define FP(p) fp_host(p)

/* A fault in the device view: count it, open that page of the view (the
 * run goes on to its checks). Any other fault: the previous handler. */
static void fp_segv(int sig, siginfo_t *si, void *uc) {
    if (fp_in(si->si_addr)) {
        if (!fk.violations++) fk.violation_addr = si->si_addr;
        size_t pg = (size_t)sysconf(_SC_PAGESIZE);
        mprotect((void *)((uintptr_t)si->si_addr / pg * pg), pg, PROT_READ | PROT_WRITE);
        return;
    }
    if (fp.old.sa_flags & SA_SIGINFO) {
        fp.old.sa_sigaction(sig, si, uc);
        return;
    }
    sigaction(SIGSEGV, &fp.old, NULL); /* returning re-runs the access: the old disposition takes it */
}

int fake_protect(int on) {
    if (on && !fp.dev) {
        int fd = memfd_create("griffin-fake-device", 0);
        if (fd < 0 || ftruncate(fd, FP_ARENA) != 0) { util_error("fake: memfd: %s", strerror(errno)); return -1; }
        fp.host = mmap(NULL, FP_ARENA, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
        fp.dev = mmap(NULL, FP_ARENA, PROT_NONE, MAP_SHARED | MAP_NORESERVE, fd, 0);
        close(fd);
        if (fp.host == MAP_FAILED || fp.dev == MAP_FAILED) { fp.host = fp.dev = NULL; util_error("fake: mmap: %s", strerror(errno)); return -1; }
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = fp_segv;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSEGV, &sa, &fp.old) != 0) { util_error("fake: cannot set the SIGSEGV handler"); return -1; }
    }
    fp.on = on;
    return 0;
}

static void fp_push(fp_block **v, int *n, int *cap, fp_block b) {
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *v = realloc(*v, (size_t)*cap * sizeof **v);
        CHECK_ALLOC(*v);
    }
    (*v)[(*n)++] = b;
}

static void *fp_alloc(size_t n) {
    size_t len = (n + FP_ALIGN - 1) / FP_ALIGN * FP_ALIGN;
    if (!len) len = FP_ALIGN;
    fp_block b = {0, 0};
    int best = -1; /* the smallest freed block that fits */
    for (int i = 0; i < fp.nspare; i++)
        if (fp.spare[i].len >= len && (best < 0 || fp.spare[i].len < fp.spare[best].len)) best = i;
    if (best >= 0) {
        b = fp.spare[best];
        fp.spare[best] = fp.spare[--fp.nspare];
    } else {
        if (fp.top + len > FP_ARENA) { util_error("fake: device memory exhausted (%zu bytes wanted)", n); return NULL; }
        b = (fp_block){fp.top, len};
        fp.top += len;
    }
    memset(fp.host + b.off, 0, b.len); /* zeroed, as alloc promises */
    fp_push(&fp.live, &fp.nlive, &fp.cap_live, b);
    return fp.dev + b.off;
}

/* 1 when p was a protected allocation (now free for reuse). */
static int fp_free(void *p) {
    if (!fp_in(p)) return 0;
    size_t off = (size_t)((char *)p - fp.dev);
    for (int i = 0; i < fp.nlive; i++)
        if (fp.live[i].off == off) {
            fp_push(&fp.spare, &fp.nspare, &fp.cap_spare, fp.live[i]);
            fp.live[i] = fp.live[--fp.nlive];
            return 1;
        }
    return 1; /* not a live block: freed twice (the kernel view keeps it) */
}

/* ---- logging and capture ---------------------------------------------------- */
static void fk_log(int what) {
    if (fk.nlog < FK_MAXLOG) fk.log[fk.nlog++] = what;
}

/* A kernel call: recorded inside a capture, else logged and run. */
static int fk_kernel(int (*run)(const void *), const void *a, size_t n) {
    if (!fk.capturing) {
        fk_log(FK_KERNEL);
        return run(a);
    }
    fk_graph *g = fk.cur;
    fk_rec *r = realloc(g->rec, (size_t)(g->n + 1) * sizeof *r);
    CHECK_ALLOC(r);
    g->rec = r;
    r[g->n].run = run;
    memcpy(r[g->n].a, a, n);
    g->n++;
    return 0;
}
#define FK(name, ...)                                                             \
    do {                                                                          \
        const name##_a a_ = {__VA_ARGS__};                                        \
        _Static_assert(sizeof a_ <= sizeof((fk_rec *)0)->a, #name " args");        \
        return fk_kernel(name##_run, &a_, sizeof a_);                             \
    } while (0)
#define FK_RUN(name, call) \
    static int name##_run(const void *p) { const name##_a *a = p; return backend_cpu.call; }

/* A call no capture may contain. */
static int fk_plain(int what) {
    if (fk.capturing) {
        fk.bad++;
        util_error("fake: %s inside a graph capture", fk_names[what]);
        return -1;
    }
    fk_log(what);
    return 0;
}

static void *fk_alloc(size_t n) {
    if (fk_plain(FK_ALLOC)) return NULL;
    return fp.on ? fp_alloc(n) : backend_cpu.alloc(n);
}
static void fk_free(void *p) {
    if (fk_plain(FK_FREE)) return;
    fk.epoch++;
    if (p && !fp_free(p)) backend_cpu.free(p);
}
/* A copy (kind what) on the kernel view. */
static int fk_move(int what, int (*f)(void *, const void *, size_t), void *d, const void *s, size_t n) {
    if (fk_plain(what)) return -1;
    return f(fp_host(d), fp_host(s), n);
}
static int fk_upload(void *d, const void *s, size_t n) {
    fk.up_bytes = n;
    fk.n_up++;
    fk.up_total += n;
    return fk_move(FK_UPLOAD, backend_cpu.upload, d, s, n);
}
static int fk_download(void *d, const void *s, size_t n) {
    fk.down_bytes = n;
    fk.n_down++;
    fk.down_total += n;
    return fk_move(FK_DOWNLOAD, backend_cpu.download, d, s, n);
}
static int fk_copy(void *d, const void *s, size_t n) { return fk_move(FK_COPY, backend_cpu.copy, d, s, n); }
static int fk_memset(void *d, int v, size_t n) {
    if (fk_plain(FK_MEMSET)) return -1;
    return backend_cpu.memset(fp_host(d), v, n);
}
static int fk_sync(void) { return fk_plain(FK_SYNC); }
/* the gradient norm's one double, device -> host */
static int fk_sumsq_get(double *out, const double *acc) {
    fk.n_down++;
    fk.down_total += sizeof(double);
    if (fk_plain(FK_DOWNLOAD)) return -1;
    return backend_cpu.sumsq_get(out, fp_host(acc));
}

static int fk_graph_begin(void) {
    if (fk.capturing) { util_error("fake: nested capture"); return -1; }
    fk_graph *g = calloc(1, sizeof *g);
    CHECK_ALLOC(g);
    g->epoch = fk.epoch;
    fk.cur = g;
    fk.capturing = 1;
    fk.bad = 0;
    return 0;
}
static void *fk_graph_end(void) {
    fk_graph *g = fk.cur;
    fk.capturing = 0;
    fk.cur = NULL;
    if (fk.bad) {
        free(g->rec);
        free(g);
        util_error("fake: the capture held %d uncapturable calls", fk.bad);
        return NULL;
    }
    return g;
}
static int fk_graph_launch(void *p) {
    fk_graph *g = p;
    if (g->epoch != fk.epoch) {
        fk.stale++;
        return 1;
    }
    fk.launches++;
    for (int i = 0; i < g->n; i++) {
        fk.replayed++;
        if (g->rec[i].run(g->rec[i].a) != 0) return -1;
    }
    return 0;
}
static void fk_graph_free(void *p) {
    fk_graph *g = p;
    if (g) free(g->rec);
    free(g);
}

/* ---- the kernels: decode step ------------------------------------------------ */
typedef struct { float *out; const float *res, *bias; int N, O; } fill_rows_a;
FK_RUN(fill_rows, fill_rows(a->out, a->res, a->bias, a->N, a->O))
static int fk_fill_rows(float *out, const float *res, const float *bias, int N, int O) { FK(fill_rows, FP(out), FP(res), FP(bias), N, O); }
typedef struct { float *y; const float *x; size_t n; } add_a;
FK_RUN(add, add(a->y, a->x, a->n))
static int fk_add(float *y, const float *x, size_t n) { FK(add, FP(y), FP(x), n); }
typedef struct { float *x; const float *E; const int32_t *tok; int N, D; float scale; } embed_a;
FK_RUN(embed, embed(a->x, a->E, a->tok, a->N, a->D, a->scale))
static int fk_embed(float *x, const float *E, const int32_t *tok, int N, int D, float s) { FK(embed, FP(x), FP(E), FP(tok), N, D, s); }
typedef struct { float *x; const uint16_t *E; const int32_t *tok; int N, D; float scale; } embed16_a;
FK_RUN(embed16, embed_bf16(a->x, a->E, a->tok, a->N, a->D, a->scale))
static int fk_embed16(float *x, const uint16_t *E, const int32_t *tok, int N, int D, float s) { FK(embed16, FP(x), FP(E), FP(tok), N, D, s); }
typedef struct { int tA, tB, M, N, K; float alpha; const float *A; int lda; const float *B; int ldb; float beta; float *C; int ldc; } gemm_a;
FK_RUN(gemm, gemm(a->tA, a->tB, a->M, a->N, a->K, a->alpha, a->A, a->lda, a->B, a->ldb, a->beta, a->C, a->ldc))
static int fk_gemm(int tA, int tB, int M, int N, int K, float al, const float *A, int lda, const float *B, int ldb,
                   float be, float *C, int ldc) { FK(gemm, tA, tB, M, N, K, al, FP(A), lda, FP(B), ldb, be, FP(C), ldc); }
typedef struct { int tA, tB, M, N, K; float alpha; const float *A; int lda; const uint16_t *B; int ldb; float beta; float *C; int ldc; } gemm16_a;
FK_RUN(gemm16, gemm_bf16(a->tA, a->tB, a->M, a->N, a->K, a->alpha, a->A, a->lda, a->B, a->ldb, a->beta, a->C, a->ldc))
static int fk_gemm16(int tA, int tB, int M, int N, int K, float al, const float *A, int lda, const uint16_t *B, int ldb,
                     float be, float *C, int ldc) { FK(gemm16, tA, tB, M, N, K, al, FP(A), lda, FP(B), ldb, be, FP(C), ldc); }
typedef struct { int tA, tB, M, N, K; float alpha; const float *A; int lda; long long sA; const float *B; int ldb; long long sB;
                 float beta; float *C; int ldc; long long sC; int count; } gemms_a;
FK_RUN(gemms, gemm_strided(a->tA, a->tB, a->M, a->N, a->K, a->alpha, a->A, a->lda, a->sA, a->B, a->ldb, a->sB, a->beta, a->C,
                           a->ldc, a->sC, a->count))
static int fk_gemms(int tA, int tB, int M, int N, int K, float al, const float *A, int lda, long long sA, const float *B,
                    int ldb, long long sB, float be, float *C, int ldc, long long sC, int count) {
    FK(gemms, tA, tB, M, N, K, al, FP(A), lda, sA, FP(B), ldb, sB, be, FP(C), ldc, sC, count);
}
typedef struct { int tA, tB, M, N, K; float alpha; const float *A; int lda; long long sA; const uint16_t *B; int ldb; long long sB;
                 float beta; float *C; int ldc; long long sC; int count; } gemms16_a;
FK_RUN(gemms16, gemm_strided_bf16(a->tA, a->tB, a->M, a->N, a->K, a->alpha, a->A, a->lda, a->sA, a->B, a->ldb, a->sB, a->beta,
                                  a->C, a->ldc, a->sC, a->count))
static int fk_gemms16(int tA, int tB, int M, int N, int K, float al, const float *A, int lda, long long sA, const uint16_t *B,
                      int ldb, long long sB, float be, float *C, int ldc, long long sC, int count) {
    FK(gemms16, tA, tB, M, N, K, al, FP(A), lda, sA, FP(B), ldb, sB, be, FP(C), ldc, sC, count);
}
/* A group is recorded as its GEMMs one by one (as the cuda backend issues it);
 * each goes through its own wrapper, which translates its pointers. */
static int fk_group(int M, int count, const gemm_op *ops) {
    for (int i = 0; i < count; i++) {
        const gemm_op *o = &ops[i];
        if ((o->B16 ? fk_gemm16(0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda, o->B16, o->ldb, o->beta, o->C, o->ldc)
                    : fk_gemm(0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda, o->B, o->ldb, o->beta, o->C, o->ldc)) != 0)
            return -1;
    }
    return 0;
}
typedef struct { float *y, *rstd; const float *x, *scale; int N, C; float eps; } rms_a;
FK_RUN(rms, rmsnorm_forward(a->y, a->rstd, a->x, a->scale, a->N, a->C, a->eps))
static int fk_rms(float *y, float *rstd, const float *x, const float *sc, int N, int C, float eps) { FK(rms, FP(y), FP(rstd), FP(x), FP(sc), N, C, eps); }
typedef struct { float *out; const float *a, *b; size_t n; } geglu_a;
FK_RUN(geglu, geglu_forward(a->out, a->a, a->b, a->n))
static int fk_geglu(float *out, const float *x, const float *y, size_t n) { FK(geglu, FP(out), FP(x), FP(y), n); }
typedef struct { float *out, *a, *b; const float *ba, *bb; int N, M, save; } geglu_bias_a;
FK_RUN(geglu_bias, geglu_bias(a->out, a->a, a->b, a->ba, a->bb, a->N, a->M, a->save))
static int fk_geglu_bias(float *out, float *x, float *y, const float *bx, const float *by, int N, int M, int save) {
    FK(geglu_bias, FP(out), FP(x), FP(y), FP(bx), FP(by), N, M, save);
}
typedef struct { float *x; size_t n; float c; } softcap_a;
FK_RUN(softcap, softcap_forward(a->x, a->n, a->c))
static int fk_softcap(float *x, size_t n, float c) { FK(softcap, FP(x), n, c); }
typedef struct { float *x; const int32_t *pos; int N, H, dh, rot; float base; } rope_a;
FK_RUN(rope, rope_forward(a->x, a->pos, a->N, a->H, a->dh, a->rot, a->base))
static int fk_rope(float *x, const int32_t *pos, int N, int H, int dh, int rot, float base) { FK(rope, FP(x), FP(pos), N, H, dh, rot, base); }
typedef struct { float *y, *state; const float *x, *w, *b; const uint8_t *active; int B, C, K; } conv_a;
FK_RUN(conv, conv1d_step(a->y, a->state, a->x, a->w, a->b, a->active, a->B, a->C, a->K))
static int fk_conv(float *y, float *st, const float *x, const float *w, const float *b, const uint8_t *act, int B, int C, int K) {
    FK(conv, FP(y), FP(st), FP(x), FP(w), FP(b), FP(act), B, C, K);
}
typedef struct { const char *v; float *y, *h; const float *x, *gx, *ga, *ap; const int32_t *pos; const uint8_t *act; int B, C; } lru_a;
FK_RUN(lru, rglru_step(a->v, a->y, a->h, a->x, a->gx, a->ga, a->ap, a->pos, a->act, a->B, a->C))
static int fk_lru(const char *v, float *y, float *h, const float *x, const float *gx, const float *ga, const float *ap,
                  const int32_t *pos, const uint8_t *act, int B, int C) { FK(lru, FP(v), FP(y), FP(h), FP(x), FP(gx), FP(ga), FP(ap), FP(pos), FP(act), B, C); }
typedef struct { float *out; const float *q, *kc, *vc; const int32_t *nv; const float *kn, *vn; int B, H, dh, S; } dec_a;
FK_RUN(dec, attn_decode(a->out, a->q, a->kc, a->vc, a->nv, a->kn, a->vn, a->B, a->H, a->dh, a->S))
static int fk_dec(float *out, const float *q, const float *kc, const float *vc, const int32_t *nv, const float *kn,
                  const float *vn, int B, int H, int dh, int S) { FK(dec, FP(out), FP(q), FP(kc), FP(vc), FP(nv), FP(kn), FP(vn), B, H, dh, S); }
typedef struct { float *kc, *vc; const float *kn, *vn; const int32_t *n; const uint8_t *act; int B, S, dh, ring; } kvw_a;
FK_RUN(kvw, kv_write(a->kc, a->vc, a->kn, a->vn, a->n, a->act, a->B, a->S, a->dh, a->ring))
static int fk_kvw(float *kc, float *vc, const float *kn, const float *vn, const int32_t *n, const uint8_t *act, int B, int S,
                  int dh, int ring) { FK(kvw, FP(kc), FP(vc), FP(kn), FP(vn), FP(n), FP(act), B, S, dh, ring); }
typedef struct { int32_t *pos, *nv; const int32_t *n; int keep, B; } dpos_a;
FK_RUN(dpos, decode_positions(a->pos, a->nv, a->n, a->keep, a->B))
static int fk_dpos(int32_t *pos, int32_t *nv, const int32_t *n, int keep, int B) { FK(dpos, FP(pos), FP(nv), FP(n), keep, B); }
typedef struct { int32_t *n; const uint8_t *act; int B; } adv_a;
FK_RUN(adv, decode_advance(a->n, a->act, a->B))
static int fk_adv(int32_t *n, const uint8_t *act, int B) { FK(adv, FP(n), FP(act), B); }


/* ---- the kernels: prefill, backward, loss, optimizer -------------------------- */
typedef struct { float *dE; const float *dx; const int32_t *tok; int N, D, V; float scale; } embb_a;
FK_RUN(embb, embed_backward(a->dE, a->dx, a->tok, a->N, a->D, a->V, a->scale))
static int fk_embb(float *dE, const float *dx, const int32_t *tok, int N, int D, int V, float s) { FK(embb, FP(dE), FP(dx), FP(tok), N, D, V, s); }
typedef struct { float *db; const float *d; int N, C; } colsum_a;
FK_RUN(colsum, colsum(a->db, a->d, a->N, a->C))
static int fk_colsum(float *db, const float *d, int N, int C) { FK(colsum, FP(db), FP(d), N, C); }
typedef struct { float *dx, *dscale; const float *dy, *x, *rstd, *scale; int N, C; } rmsb_a;
FK_RUN(rmsb, rmsnorm_backward(a->dx, a->dscale, a->dy, a->x, a->rstd, a->scale, a->N, a->C))
static int fk_rmsb(float *dx, float *ds, const float *dy, const float *x, const float *rstd, const float *sc, int N, int C) {
    FK(rmsb, FP(dx), FP(ds), FP(dy), FP(x), FP(rstd), FP(sc), N, C);
}
typedef struct { float *da, *db; const float *dout, *a, *b; size_t n; } geglub_a;
FK_RUN(geglub, geglu_backward(a->da, a->db, a->dout, a->a, a->b, a->n))
static int fk_geglub(float *da, float *db, const float *dout, const float *x, const float *y, size_t n) { FK(geglub, FP(da), FP(db), FP(dout), FP(x), FP(y), n); }
typedef struct { float *dy; const float *y; size_t n; float c; } softcapb_a;
FK_RUN(softcapb, softcap_backward(a->dy, a->y, a->n, a->c))
static int fk_softcapb(float *dy, const float *y, size_t n, float c) { FK(softcapb, FP(dy), FP(y), n, c); }
typedef struct { float *dx; const int32_t *pos; int N, H, dh, rot; float base; } ropeb_a;
FK_RUN(ropeb, rope_backward(a->dx, a->pos, a->N, a->H, a->dh, a->rot, a->base))
static int fk_ropeb(float *dx, const int32_t *pos, int N, int H, int dh, int rot, float base) { FK(ropeb, FP(dx), FP(pos), N, H, dh, rot, base); }
typedef struct { float *y; const float *x, *w, *b; const int32_t *pos; int B, T, C, K; } convf_a;
FK_RUN(convf, conv1d_forward(a->y, a->x, a->w, a->b, a->pos, a->B, a->T, a->C, a->K))
static int fk_convf(float *y, const float *x, const float *w, const float *b, const int32_t *pos, int B, int T, int C, int K) {
    FK(convf, FP(y), FP(x), FP(w), FP(b), FP(pos), B, T, C, K);
}
typedef struct { float *dx, *dw, *db; const float *dy, *x, *w; const int32_t *pos; int B, T, C, K; } convb_a;
FK_RUN(convb, conv1d_backward(a->dx, a->dw, a->db, a->dy, a->x, a->w, a->pos, a->B, a->T, a->C, a->K))
static int fk_convb(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, const int32_t *pos, int B,
                    int T, int C, int K) { FK(convb, FP(dx), FP(dw), FP(db), FP(dy), FP(x), FP(w), FP(pos), B, T, C, K); }
typedef struct { const char *v; float *y, *hl; const float *x, *gx, *ga, *ap; const int32_t *pos; const float *h0; float *work; int B, T, C; } lruf_a;
FK_RUN(lruf, rglru_forward(a->v, a->y, a->hl, a->x, a->gx, a->ga, a->ap, a->pos, a->h0, a->work, a->B, a->T, a->C))
static int fk_lruf(const char *v, float *y, float *hl, const float *x, const float *gx, const float *ga, const float *ap,
                   const int32_t *pos, const float *h0, float *work, int B, int T, int C) {
    FK(lruf, FP(v), FP(y), FP(hl), FP(x), FP(gx), FP(ga), FP(ap), FP(pos), FP(h0), FP(work), B, T, C);
}
typedef struct { const char *v; float *dx, *dgx, *dga, *dap; const float *dy, *y, *x, *gx, *ga, *ap; const int32_t *pos;
                 const float *h0; float *work; int B, T, C; } lrub_a;
FK_RUN(lrub, rglru_backward(a->v, a->dx, a->dgx, a->dga, a->dap, a->dy, a->y, a->x, a->gx, a->ga, a->ap, a->pos, a->h0, a->work,
                            a->B, a->T, a->C))
static int fk_lrub(const char *v, float *dx, float *dgx, float *dga, float *dap, const float *dy, const float *y, const float *x,
                   const float *gx, const float *ga, const float *ap, const int32_t *pos, const float *h0, float *work, int B,
                   int T, int C) { FK(lrub, FP(v), FP(dx), FP(dgx), FP(dga), FP(dap), FP(dy), FP(y), FP(x), FP(gx), FP(ga), FP(ap), FP(pos), FP(h0), FP(work), B, T, C); }
typedef struct { const char *v; float *out, *lse; const float *q, *k, *vv; const int32_t *pos; int B, T, H, dh, W; } attf_a;
FK_RUN(attf, attn_forward(a->v, a->out, a->lse, a->q, a->k, a->vv, a->pos, a->B, a->T, a->H, a->dh, a->W))
static int fk_attf(const char *v, float *out, float *lse, const float *q, const float *k, const float *vv, const int32_t *pos, int B,
                   int T, int H, int dh, int W) { FK(attf, FP(v), FP(out), FP(lse), FP(q), FP(k), FP(vv), FP(pos), B, T, H, dh, W); }
typedef struct { const char *v; float *dq, *dk, *dv; const float *dout, *out, *lse, *q, *k, *vv; const int32_t *pos;
                 int B, T, H, dh, W; } attb_a;
FK_RUN(attb, attn_backward(a->v, a->dq, a->dk, a->dv, a->dout, a->out, a->lse, a->q, a->k, a->vv, a->pos, a->B, a->T, a->H, a->dh,
                           a->W))
static int fk_attb(const char *v, float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                   const float *q, const float *k, const float *vv, const int32_t *pos, int B, int T, int H, int dh, int W) {
    FK(attb, FP(v), FP(dq), FP(dk), FP(dv), FP(dout), FP(out), FP(lse), FP(q), FP(k), FP(vv), FP(pos), B, T, H, dh, W);
}
typedef struct { float *loss; const float *logits; const int32_t *tgt; int N, V; } xf_a;
FK_RUN(xf, xent_forward(a->loss, a->logits, a->tgt, a->N, a->V))
static int fk_xf(float *loss, const float *logits, const int32_t *tgt, int N, int V) { FK(xf, FP(loss), FP(logits), FP(tgt), N, V); }
typedef struct { float *dl; const float *logits; const int32_t *tgt; const float *dloss; int N, V; } xb_a;
FK_RUN(xb, xent_backward(a->dl, a->logits, a->tgt, a->dloss, a->N, a->V))
static int fk_xb(float *dl, const float *logits, const int32_t *tgt, const float *dloss, int N, int V) { FK(xb, FP(dl), FP(logits), FP(tgt), FP(dloss), N, V); }
typedef struct { double *acc; const float *x; size_t n; } ssq_a;
FK_RUN(ssq, sumsq(a->acc, a->x, a->n))
static int fk_ssq(double *acc, const float *x, size_t n) { FK(ssq, FP(acc), FP(x), n); }
typedef struct { float *p, *m, *v; const float *g; const double *ss; size_t n; const backend_adamw_args *args; } adamw_a;
FK_RUN(adamw, adamw(a->p, a->m, a->v, a->g, a->ss, a->n, a->args))
static int fk_adamw(float *p, float *m, float *v, const float *g, const double *ss, size_t n, const backend_adamw_args *args) {
    FK(adamw, FP(p), FP(m), FP(v), FP(g), FP(ss), n, FP(args));
}

backend fake_backend(void) {
    backend f = backend_cpu;
    f.name = "fake";
    f.host_memory = 0;
    f.graphs = 1;
    f.alloc = fk_alloc; f.free = fk_free; f.upload = fk_upload; f.download = fk_download; f.copy = fk_copy;
    f.memset = fk_memset; f.sync = fk_sync;
    f.graph_begin = fk_graph_begin; f.graph_end = fk_graph_end; f.graph_launch = fk_graph_launch; f.graph_free = fk_graph_free;
    f.fill_rows = fk_fill_rows; f.add = fk_add; f.embed = fk_embed; f.embed_bf16 = fk_embed16; f.gemm = fk_gemm;
    f.gemm_bf16 = fk_gemm16; f.gemm_strided = fk_gemms; f.gemm_strided_bf16 = fk_gemms16; f.gemm_group = fk_group;
    f.rmsnorm_forward = fk_rms;
    f.geglu_forward = fk_geglu; f.geglu_bias = fk_geglu_bias; f.softcap_forward = fk_softcap; f.rope_forward = fk_rope; f.conv1d_step = fk_conv;
    f.rglru_step = fk_lru; f.attn_decode = fk_dec; f.kv_write = fk_kvw; f.decode_positions = fk_dpos;
    f.decode_advance = fk_adv;
    f.embed_backward = fk_embb; f.colsum = fk_colsum; f.rmsnorm_backward = fk_rmsb; f.geglu_backward = fk_geglub;
    f.softcap_backward = fk_softcapb; f.rope_backward = fk_ropeb; f.conv1d_forward = fk_convf; f.conv1d_backward = fk_convb;
    f.rglru_forward = fk_lruf; f.rglru_backward = fk_lrub; f.attn_forward = fk_attf; f.attn_backward = fk_attb;
    f.xent_forward = fk_xf; f.xent_backward = fk_xb; f.sumsq = fk_ssq; f.sumsq_get = fk_sumsq_get; f.adamw = fk_adamw;
    return f;
}

int fk_count(int what) {
    int n = 0;
    for (int i = 0; i < fk.nlog; i++) n += fk.log[i] == what;
    return n;
}

void fake_reset(void) { memset(&fk, 0, sizeof fk); }
