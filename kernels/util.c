/* util.c — see util.h. */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static _Thread_local char g_err[1024];

void util_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
}

const char *util_last_error(void) { return g_err[0] ? g_err : "unknown error"; }

void *util_alloc(size_t bytes) {
    void *p = NULL;
    size_t n = (bytes + 63) & ~(size_t)63;
    if (n == 0) n = 64;
    if (posix_memalign(&p, 64, n) != 0) p = NULL;
    CHECK_ALLOC(p);
    memset(p, 0, n);
    return p;
}

void util_free(void *p) { free(p); }

/* MemAvailable from /proc/meminfo in bytes (0: unknown). */
static size_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (size_t)kb * 1024;
}

void *util_try_alloc(size_t bytes) {
    size_t avail = mem_available();
    if (avail && bytes > avail) {
        util_error("needs %.2f GiB but only %.2f GiB of memory are available", bytes / 1073741824.0, avail / 1073741824.0);
        return NULL;
    }
    void *p = NULL;
    size_t n = (bytes + 63) & ~(size_t)63;
    if (n < bytes || posix_memalign(&p, 64, n ? n : 64) != 0) {
        util_error("cannot allocate %.2f GiB", bytes / 1073741824.0);
        return NULL;
    }
    memset(p, 0, n ? n : 64);
    return p;
}

/* ---- atomic file replacement ------------------------------------------------ */

typedef struct {
    int fd;
    int err;      /* first errno of a failed write */
    char *path, *tmp;
} afile_state;

/* stdio writes go straight to the fd through this, so the errno of the
 * first failed write is kept (stdio itself only keeps an error flag). */
static ssize_t af_write(void *cookie, const char *buf, size_t n) {
    afile_state *st = cookie;
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(st->fd, buf + done, n - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (!st->err) st->err = k < 0 ? errno : EIO;
            return 0;
        }
        done += (size_t)k;
    }
    return (ssize_t)n;
}

static int af_close(void *cookie) {
    (void)cookie; /* the fd is closed by commit/abort, which need its result */
    return 0;
}

int util_atomic_open(util_afile *a, const char *path) {
    memset(a, 0, sizeof *a);
    afile_state *st = calloc(1, sizeof *st);
    CHECK_ALLOC(st);
    size_t n = strlen(path) + 16;
    st->path = strdup(path);
    st->tmp = malloc(n);
    CHECK_ALLOC(st->path);
    CHECK_ALLOC(st->tmp);
    snprintf(st->tmp, n, "%s.tmp.XXXXXX", path);
    st->fd = mkstemp(st->tmp);
    if (st->fd < 0) {
        util_error("%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(st->path); free(st->tmp); free(st);
        return -1;
    }
    cookie_io_functions_t io = {NULL, af_write, NULL, af_close};
    a->f = fopencookie(st, "w", io);
    if (!a->f) {
        util_error("%s: %s", path, strerror(errno));
        close(st->fd); unlink(st->tmp);
        free(st->path); free(st->tmp); free(st);
        return -1;
    }
    setvbuf(a->f, NULL, _IOFBF, 1 << 16);
    a->st = st;
    return 0;
}

static void af_free(util_afile *a, int remove_tmp) {
    afile_state *st = a->st;
    if (a->f) fclose(a->f);
    if (st) {
        if (st->fd >= 0) close(st->fd);
        if (remove_tmp) unlink(st->tmp);
        free(st->path); free(st->tmp); free(st);
    }
    memset(a, 0, sizeof *a);
}

void util_atomic_abort(util_afile *a) { af_free(a, 1); }

/* fsync the folder holding path, so the rename itself survives a crash
 * (filesystems that cannot fsync a folder answer EINVAL: nothing to do). */
static int fsync_dir(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return 0;
    int rc = fsync(fd) != 0 && errno != EINVAL && errno != EROFS ? -1 : 0;
    close(fd);
    return rc;
}

int util_atomic_commit(util_afile *a) {
    afile_state *st = a->st;
    if (!st) { util_error("util_atomic_commit: file not open"); return -1; }
    const char *step = "write";
    int e = 0;
    if (fflush(a->f) != 0 || ferror(a->f) || st->err) e = st->err ? st->err : errno ? errno : EIO;
    fclose(a->f);
    a->f = NULL;
    if (!e && fsync(st->fd) != 0) { e = errno; step = "fsync"; }
    if (close(st->fd) != 0 && !e) { e = errno; step = "close"; }
    st->fd = -1;
    if (!e && fchmodat(AT_FDCWD, st->tmp, 0644, 0) != 0) { e = errno; step = "chmod"; }
    if (!e && rename(st->tmp, st->path) != 0) { e = errno; step = "rename"; }
    if (e) {
        util_error("%s: %s: %s (the previous file, if any, is untouched)", st->path, step, strerror(e));
        af_free(a, 1);
        return -1;
    }
    if (fsync_dir(st->path) != 0) {
        e = errno;
        util_error("%s: fsync of its folder: %s", st->path, strerror(e));
        af_free(a, 0);
        return -1;
    }
    af_free(a, 0);
    return 0;
}

int util_write_file_atomic(const char *path, const void *data, size_t n) {
    util_afile a;
    if (util_atomic_open(&a, path) != 0) return -1;
    if (n) fwrite(data, 1, n, a.f);
    return util_atomic_commit(&a);
}

int util_stream_check(FILE *f, const char *what) {
    errno = 0;
    if (fflush(f) != 0 || ferror(f)) {
        util_error("%s: write: %s", what, errno ? strerror(errno) : "I/O error");
        return -1;
    }
    return 0;
}

double util_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(rng_t *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_u64(rng_t *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(rng_t *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }

double rng_normal(rng_t *r) {
    /* Box-Muller; one draw per call keeps the stream simple and reproducible. */
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint32_t rng_below(rng_t *r, uint32_t n) {
    if (n == 0) return 0;
    return (uint32_t)(((rng_u64(r) >> 32) * (uint64_t)n) >> 32);
}

double util_max_rel_err(const float *a, const float *b, size_t n) {
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(a[i]) != isnan(b[i])) return INFINITY;
        if (d > md) md = d;
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return md / (mb > 1e-30 ? mb : 1e-30);
}

double util_close_ratio(const float *a, const float *b, size_t n, double rtol, double atol) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) {
            if (!(isnan(a[i]) && isnan(b[i])) && a[i] != b[i]) return INFINITY;
            continue;
        }
        double d = fabs((double)a[i] - (double)b[i]) / (atol + rtol * fabs((double)b[i]));
        if (d > worst) worst = d;
    }
    return worst;
}

void util_omp_policy_apply(char **argv) {
#ifdef _OPENMP
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || !argv) return;
    static char kv[] = UTIL_OMP_POLICY;
    if (putenv(kv) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv("GOMP_SPINCOUNT"); /* exec failed: the default stays, and the record says so */
#else
    (void)argv;
#endif
}

static int g_threads = 0;

int util_threads(void) {
#ifdef _OPENMP
    return g_threads > 0 ? g_threads : omp_get_max_threads();
#else
    return 1;
#endif
}

void util_set_threads(int n) {
    g_threads = n;
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(n);
#endif
}
