/* comm.c — see comm.h. */
#include "comm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#ifdef HAVE_MPI
#include <mpi.h>
#endif
#ifdef HAVE_NCCL
#include <cuda_runtime.h>
#include <nccl.h>
#endif

struct comm {
    comm_kind kind;
    int rank, size, threads_ok, we_inited;
    double timeout;
    uint64_t sent;
    char name[96];
    float *tmp;       /* one ring chunk */
    size_t tmp_cap;
#ifdef HAVE_MPI
    MPI_Comm w;
#endif
#ifdef HAVE_NCCL
    ncclComm_t nc;
    cudaStream_t st;
    float *dbuf;
    size_t dcap;
#endif
};

static const char *env(const char *k) {
    const char *v = getenv(k);
    return v && *v ? v : NULL;
}

int comm_have_mpi(void) {
#ifdef HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

int comm_have_nccl(void) {
#ifdef HAVE_NCCL
    return 1;
#else
    return 0;
#endif
}

/* A launcher's process count: Open MPI's mpirun, MPICH/Intel (PMI), or a
 * Slurm step started with srun (PMIx). 0 when none is in the environment. */
static int launcher_size(void) {
    const char *s = env("OMPI_COMM_WORLD_SIZE");
    if (!s) s = env("PMI_SIZE");
    if (!s && (env("PMIX_RANK") || env("PMI_RANK"))) s = env("SLURM_STEP_NUM_TASKS");
    if (!s && (env("PMIX_RANK") || env("PMI_RANK"))) return 1;
    return s ? atoi(s) : 0;
}

int comm_launched_size(void) {
    int n = launcher_size();
    return n > 0 ? n : 1;
}

int comm_local_size(void) {
    const char *s = env("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!s) s = env("MPI_LOCALNRANKS");
    int n = s ? atoi(s) : 1;
    return n > 0 ? n : 1;
}

int comm_rank(const comm *c) { return c->rank; }
int comm_size(const comm *c) { return c->size; }
comm_kind comm_type(const comm *c) { return c->kind; }
const char *comm_name(const comm *c) { return c->name; }
int comm_threads_ok(const comm *c) { return c->threads_ok; }
uint64_t comm_bytes_sent(const comm *c) { return c->sent; }

void comm_abort(comm *c, int code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "error: rank %d of %d: %s\n", c ? c->rank : 0, c ? c->size : 1, msg);
    fflush(stderr);
#ifdef HAVE_MPI
    if (c && c->kind != COMM_LOCAL) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

/* ---- relaunch under mpirun ------------------------------------------------------ */

int comm_mpirun(int n, char *const *args, int nargs) {
    if (!comm_have_mpi()) {
        util_error("--ranks %d: this build has no MPI (install libopenmpi-dev and openmpi-bin, then rebuild; `make` reports MPI ✓ when found)", n);
        return -1;
    }
    char launcher[4096] = "";
    const char *path = env("PATH");
    for (const char *p = path; p && *p && !launcher[0];) {
        size_t len = strcspn(p, ":");
        snprintf(launcher, sizeof launcher, "%.*s/mpirun", (int)len, len ? p : ".");
        if (access(launcher, X_OK) != 0) launcher[0] = 0;
        p += len + (p[len] == ':');
    }
    if (!launcher[0]) {
        util_error("--ranks %d: no mpirun on PATH (install openmpi-bin, or start the ranks yourself: mpirun -np %d griffin ... / srun)", n, n);
        return -1;
    }
    char exe[4096], np[16];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0) { util_error("--ranks: cannot find this program (/proc/self/exe): %s", strerror(errno)); return -1; }
    exe[el] = 0;
    snprintf(np, sizeof np, "%d", n);
    /* the extra options, split at blanks (no quoting) */
    const char *extra = env("GRIFFIN_MPIRUN_ARGS");
    char *ex = strdup(extra ? extra : "");
    CHECK_ALLOC(ex);
    int nx = 0;
    for (char *q = ex; *q; q++) nx += (q == ex || q[-1] == ' ' || q[-1] == '\t') && *q != ' ' && *q != '\t';
    char **av = calloc((size_t)(nx + nargs + 5), sizeof(char *));
    CHECK_ALLOC(av);
    int k = 0;
    av[k++] = launcher;
    for (char *tok = strtok(ex, " \t"); tok; tok = strtok(NULL, " \t")) av[k++] = tok;
    av[k++] = "-np";
    av[k++] = np;
    av[k++] = exe;
    for (int i = 0; i < nargs; i++) av[k++] = args[i];
    av[k] = NULL;
    fflush(stdout);
    fflush(stderr);
    execv(launcher, av);
    util_error("--ranks: cannot start %s: %s", launcher, strerror(errno));
    free(av);
    free(ex);
    return -1;
}

/* ---- point-to-point with a deadline ------------------------------------------ */
#ifdef HAVE_MPI
#define PIECE ((size_t)1 << 30) /* MPI counts are int: messages go in pieces */

static void pause_briefly(int spins) {
    if (spins < 64) return;
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
}

/* Send sbytes to dst and receive rbytes from src at the same time (either
 * may be 0). Every wait is bounded by the timeout; the rank waited for is
 * named when it runs out. */
static void sendrecv(comm *c, const void *sbuf, size_t sbytes, int dst, void *rbuf, size_t rbytes, int src, const char *what) {
    for (size_t k = 0; k * PIECE < sbytes || k * PIECE < rbytes; k++) {
        MPI_Request rq[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
        size_t so = k * PIECE, ro = k * PIECE;
        if (ro < rbytes) {
            int n = (int)(rbytes - ro < PIECE ? rbytes - ro : PIECE);
            if (MPI_Irecv((char *)rbuf + ro, n, MPI_BYTE, src, 7, c->w, &rq[0]) != MPI_SUCCESS)
                comm_abort(c, 1, "MPI receive from rank %d failed (%s)", src, what);
        }
        if (so < sbytes) {
            int n = (int)(sbytes - so < PIECE ? sbytes - so : PIECE);
            if (MPI_Isend((const char *)sbuf + so, n, MPI_BYTE, dst, 7, c->w, &rq[1]) != MPI_SUCCESS)
                comm_abort(c, 1, "MPI send to rank %d failed (%s)", dst, what);
            c->sent += (uint64_t)n;
        }
        double t0 = util_now();
        for (int spins = 0;; spins++) {
            int d0 = 0, d1 = 0;
            if (MPI_Test(&rq[0], &d0, MPI_STATUS_IGNORE) != MPI_SUCCESS || MPI_Test(&rq[1], &d1, MPI_STATUS_IGNORE) != MPI_SUCCESS)
                comm_abort(c, 1, "MPI transport error in the %s between ranks %d and %d", what, src, dst);
            if (d0 && d1) break;
            if (util_now() - t0 > c->timeout)
                comm_abort(c, 1, "no progress in the %s for %.0f s waiting for rank %d (stopped, dead or far slower); aborting the job",
                           what, c->timeout, d0 ? dst : src);
            pause_briefly(spins);
        }
    }
}
#endif

/* ---- open / close ---------------------------------------------------------- */

#ifdef HAVE_NCCL
static int nccl_open(comm *c);
static int nccl_allreduce(comm *c, float *buf, size_t n);
#endif

int comm_open(comm **out, const comm_options *o) {
    const char *kind = o && o->kind ? o->kind : "auto";
    *out = NULL;
    int launched = launcher_size() > 0;
    comm_kind k;
    if (!strcmp(kind, "auto")) k = launched ? COMM_MPI : COMM_LOCAL;
    else if (!strcmp(kind, "local")) k = COMM_LOCAL;
    else if (!strcmp(kind, "mpi")) k = COMM_MPI;
    else if (!strcmp(kind, "nccl")) k = COMM_NCCL;
    else { util_error("unknown --comm '%s' (auto, local, mpi, nccl)", kind); return -2; }
    if (k == COMM_LOCAL && launched && launcher_size() > 1) {
        util_error("started as one of %d ranks by a launcher, but --comm local trains each rank alone; use --comm auto or mpi", launcher_size());
        return -2;
    }
#ifndef HAVE_MPI
    if (k != COMM_LOCAL) {
        util_error("%s: this build has no MPI (install libopenmpi-dev and openmpi-bin, then rebuild; `make` reports MPI ✓ when found)",
                   launched ? "started by mpirun/srun" : "--comm mpi|nccl");
        return -1;
    }
#endif
#ifndef HAVE_NCCL
    if (k == COMM_NCCL) {
        util_error("--comm nccl: this build has no NCCL (needs nvcc, MPI and nccl.h under CUDA_HOME; `make` reports NCCL ✓ when found)");
        return -1;
    }
#endif
    comm *c = calloc(1, sizeof *c);
    CHECK_ALLOC(c);
    c->kind = k;
    c->size = 1;
    c->timeout = o && o->timeout_s > 0 ? o->timeout_s : 300;
    snprintf(c->name, sizeof c->name, "local");
    c->threads_ok = 1;
#ifdef HAVE_MPI
    if (k != COMM_LOCAL) {
        int inited = 0, provided = MPI_THREAD_SINGLE;
        MPI_Initialized(&inited);
        if (!inited) {
            if (MPI_Init_thread(NULL, NULL, o && o->threaded ? MPI_THREAD_SERIALIZED : MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) {
                util_error("MPI_Init_thread failed");
                free(c);
                return -1;
            }
            c->we_inited = 1;
        } else {
            MPI_Query_thread(&provided);
        }
        c->threads_ok = provided >= MPI_THREAD_SERIALIZED;
        MPI_Comm_dup(MPI_COMM_WORLD, &c->w);
        MPI_Comm_set_errhandler(c->w, MPI_ERRORS_RETURN);
        MPI_Comm_rank(c->w, &c->rank);
        MPI_Comm_size(c->w, &c->size);
        char v[MPI_MAX_LIBRARY_VERSION_STRING];
        int len = 0;
        MPI_Get_library_version(v, &len);
        v[strcspn(v, ",\n")] = 0;
        snprintf(c->name, sizeof c->name, "mpi (%s)", v);
    }
#endif
#ifdef HAVE_NCCL
    if (k == COMM_NCCL && nccl_open(c) != 0) {
        comm_close(c);
        return -1;
    }
#endif
    *out = c;
    return 0;
}

void comm_close(comm *c) {
    if (!c) return;
#ifdef HAVE_NCCL
    if (c->kind == COMM_NCCL && c->nc) {
        ncclCommDestroy(c->nc);
        cudaStreamDestroy(c->st);
        cudaFree(c->dbuf);
    }
#endif
#ifdef HAVE_MPI
    if (c->kind != COMM_LOCAL) {
        MPI_Comm_free(&c->w);
        if (c->we_inited) MPI_Finalize();
    }
#endif
    free(c->tmp);
    free(c);
}

/* ---- collectives --------------------------------------------------------------- */

#ifdef HAVE_MPI
/* Chunk j of n elements split N ways (the first n % N chunks one longer). */
static void chunk_of(size_t n, int N, int j, size_t *off, size_t *len) {
    size_t q = n / (size_t)N, r = n % (size_t)N, jj = (size_t)j;
    *off = jj * q + (jj < r ? jj : r);
    *len = q + (jj < r);
}

static int mod(int a, int n) { return ((a % n) + n) % n; }
#endif

int comm_allreduce_f32(comm *c, float *buf, size_t n) {
    if (c->size == 1 || n == 0) return 0;
#ifdef HAVE_NCCL
    if (c->kind == COMM_NCCL) return nccl_allreduce(c, buf, n);
#endif
#ifdef HAVE_MPI
    const int N = c->size, r = c->rank, right = mod(r + 1, N), left = mod(r - 1, N);
    size_t o0, l0;
    chunk_of(n, N, 0, &o0, &l0);
    if (l0 > c->tmp_cap) {
        free(c->tmp);
        c->tmp = malloc(l0 * sizeof(float));
        CHECK_ALLOC(c->tmp);
        c->tmp_cap = l0;
    }
    /* reduce-scatter: after N-1 steps rank r holds chunk r+1 summed */
    for (int s = 0; s < N - 1; s++) {
        size_t so, sl, ro, rl;
        chunk_of(n, N, mod(r - s, N), &so, &sl);
        chunk_of(n, N, mod(r - s - 1, N), &ro, &rl);
        sendrecv(c, buf + so, sl * sizeof(float), right, c->tmp, rl * sizeof(float), left, "gradient all-reduce");
        float *dst = buf + ro;
        const float *in = c->tmp;
#pragma omp simd
        for (size_t i = 0; i < rl; i++) dst[i] += in[i];
    }
    /* all-gather of the summed chunks (copied: every rank gets the same bits) */
    for (int s = 0; s < N - 1; s++) {
        size_t so, sl, ro, rl;
        chunk_of(n, N, mod(r + 1 - s, N), &so, &sl);
        chunk_of(n, N, mod(r - s, N), &ro, &rl);
        sendrecv(c, buf + so, sl * sizeof(float), right, buf + ro, rl * sizeof(float), left, "gradient all-reduce");
    }
#endif
    return 0;
}

int comm_allgather(comm *c, const void *mine, void *all, size_t bytes) {
    char *a = all;
    memmove(a + (size_t)c->rank * bytes, mine, bytes);
    if (c->size == 1) return 0;
#ifdef HAVE_MPI
    const int N = c->size, r = c->rank;
    for (int s = 0; s < N - 1; s++)
        sendrecv(c, a + (size_t)mod(r - s, N) * bytes, bytes, mod(r + 1, N), a + (size_t)mod(r - s - 1, N) * bytes, bytes, mod(r - 1, N),
                 "all-gather");
#endif
    return 0;
}

int comm_allreduce_f64(comm *c, double *buf, size_t n) {
    if (c->size == 1 || n == 0) return 0;
    double *all = malloc((size_t)c->size * n * sizeof(double));
    CHECK_ALLOC(all);
    comm_allgather(c, buf, all, n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        double s = all[i];
        for (int k = 1; k < c->size; k++) s += all[(size_t)k * n + i];
        buf[i] = s;
    }
    free(all);
    return 0;
}

int comm_bcast(comm *c, void *buf, size_t bytes, int root) {
    if (c->size == 1) return 0;
#ifdef HAVE_MPI
    /* a chain from the root: receive all of it, then pass it on */
    const int N = c->size, rel = mod(c->rank - root, N);
    if (rel > 0) sendrecv(c, NULL, 0, 0, buf, bytes, mod(c->rank - 1, N), "broadcast");
    if (rel < N - 1) sendrecv(c, buf, bytes, mod(c->rank + 1, N), NULL, 0, 0, "broadcast");
#endif
    return 0;
}

int comm_barrier(comm *c) {
    if (c->size == 1) return 0;
    char one = 1, *all = malloc((size_t)c->size);
    CHECK_ALLOC(all);
    comm_allgather(c, &one, all, 1);
    free(all);
    return 0;
}

int comm_any(comm *c, int flag) {
    if (!c || c->size == 1) return flag != 0;
    double v = flag != 0;
    comm_allreduce_f64(c, &v, 1);
    return v > 0;
}

/* ---- NCCL --------------------------------------------------------------------- */
#ifdef HAVE_NCCL
static int nccl_open(comm *c) {
    int ndev = 0;
    cudaError_t ce = cudaGetDeviceCount(&ndev);
    if (ce != cudaSuccess || ndev < 1) {
        util_error("--comm nccl: no CUDA device (%s)", ce != cudaSuccess ? cudaGetErrorString(ce) : "none found");
        return -1;
    }
    const char *lr = env("OMPI_COMM_WORLD_LOCAL_RANK");
    if (!lr) lr = env("SLURM_LOCALID");
    if (!lr) lr = env("MPI_LOCALRANKID");
    int local = lr ? atoi(lr) : c->rank;
    if ((ce = cudaSetDevice(local % ndev)) != cudaSuccess) {
        util_error("--comm nccl: device %d: %s", local % ndev, cudaGetErrorString(ce));
        return -1;
    }
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    ncclResult_t nr = ncclSuccess;
    if (c->rank == 0) nr = ncclGetUniqueId(&id);
    if (nr != ncclSuccess) comm_abort(c, 1, "ncclGetUniqueId: %s", ncclGetErrorString(nr));
    comm_bcast(c, &id, sizeof id, 0);
    if ((nr = ncclCommInitRank(&c->nc, c->size, id, c->rank)) != ncclSuccess) {
        util_error("ncclCommInitRank (rank %d of %d, device %d): %s", c->rank, c->size, local % ndev, ncclGetErrorString(nr));
        c->nc = NULL;
        return -1;
    }
    cudaStreamCreateWithFlags(&c->st, cudaStreamNonBlocking);
    int v = 0;
    ncclGetVersion(&v);
    snprintf(c->name, sizeof c->name, "nccl %d.%d.%d on device %d", v / 10000, (v / 100) % 100, v % 100, local % ndev);
    return 0;
}

/* Host buffer in, host buffer out: copied to the device, reduced there. */
static int nccl_allreduce(comm *c, float *buf, size_t n) {
    if (n > c->dcap) {
        cudaFree(c->dbuf);
        c->dbuf = NULL;
        if (cudaMalloc((void **)&c->dbuf, n * sizeof(float)) != cudaSuccess) comm_abort(c, 1, "cudaMalloc of %zu floats failed", n);
        c->dcap = n;
    }
    cudaMemcpyAsync(c->dbuf, buf, n * sizeof(float), cudaMemcpyHostToDevice, c->st);
    ncclResult_t nr = ncclAllReduce(c->dbuf, c->dbuf, n, ncclFloat, ncclSum, c->nc, c->st);
    if (nr != ncclSuccess) comm_abort(c, 1, "ncclAllReduce: %s", ncclGetErrorString(nr));
    cudaMemcpyAsync(buf, c->dbuf, n * sizeof(float), cudaMemcpyDeviceToHost, c->st);
    double t0 = util_now();
    cudaError_t ce;
    for (int spins = 0; (ce = cudaStreamQuery(c->st)) == cudaErrorNotReady; spins++) {
        ncclResult_t ae = ncclSuccess;
        ncclCommGetAsyncError(c->nc, &ae);
        if (ae != ncclSuccess && ae != ncclInProgress) {
            ncclCommAbort(c->nc);
            c->nc = NULL;
            comm_abort(c, 1, "NCCL all-reduce failed: %s", ncclGetErrorString(ae));
        }
        if (util_now() - t0 > c->timeout) {
            ncclCommAbort(c->nc);
            c->nc = NULL;
            comm_abort(c, 1, "NCCL all-reduce made no progress for %.0f s (a rank stopped or died); aborting the job", c->timeout);
        }
        if (spins > 64) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    if (ce != cudaSuccess) comm_abort(c, 1, "NCCL all-reduce stream: %s", cudaGetErrorString(ce));
    c->sent += (uint64_t)(2.0 * (c->size - 1) / c->size * (double)n * sizeof(float));
    return 0;
}
#endif
