/* machine.c — see machine.h. Reads /proc/cpuinfo, /proc/meminfo, uname,
 * OpenBLAS's identification, the OPENBLAS_* environment and, only when
 * nvidia-smi is on PATH, the GPU. Never fails: unknown fields stay empty.
 */
#include "machine.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "matmul.h"

extern char **environ;

#ifndef GRIFFIN_COMMIT
#define GRIFFIN_COMMIT "unknown"
#endif
#ifndef GRIFFIN_DIRTY
#define GRIFFIN_DIRTY 0
#endif
#ifndef GRIFFIN_CFLAGS
#define GRIFFIN_CFLAGS "unknown"
#endif

const char *build_commit(void) { return GRIFFIN_COMMIT[0] ? GRIFFIN_COMMIT : "unknown"; }
int build_dirty(void) { return GRIFFIN_DIRTY; }
const char *build_flags(void) { return GRIFFIN_CFLAGS; }

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ULL; }
    h ^= 0xff; /* field separator */
    h *= 1099511628211ULL;
    return h;
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
    size_t k = strspn(s, " \t");
    if (k) memmove(s, s + k, n - k + 1);
}

/* Is `word` one of the space-separated words of `list`? */
static int has_word(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0 || p[n] == '\n')) return 1;
    return 0;
}

static void read_cpuinfo(machine_info *m) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[8192];
    char *flags = NULL;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        char *key = line, *val = colon + 1;
        trim(key);
        trim(val);
        if (!m->cpu_model[0] && (!strcmp(key, "model name") || !strcmp(key, "Model") || !strcmp(key, "cpu model")))
            snprintf(m->cpu_model, sizeof m->cpu_model, "%s", val);
        if (!flags && (!strcmp(key, "flags") || !strcmp(key, "Features"))) {
            flags = strdup(val);
        }
    }
    fclose(f);
    if (flags) {
        uint64_t h = fnv1a(1469598103934665603ULL, flags);
        snprintf(m->cpu_flags_hash, sizeof m->cpu_flags_hash, "%016llx", (unsigned long long)h);
        static const char *const simd[] = {"avx512f", "avx512bw", "avx512_bf16", "avx512_fp16", "amx_bf16", "avx2",
                                           "fma", "f16c", "sse4_2", "asimd", "sve", "asimdhp"};
        for (size_t i = 0; i < sizeof simd / sizeof *simd; i++) {
            if (!has_word(flags, simd[i])) continue;
            size_t len = strlen(m->simd);
            snprintf(m->simd + len, sizeof m->simd - len, "%s%s", len ? " " : "", simd[i]);
        }
        free(flags);
    }
}

static void read_meminfo(machine_info *m) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        long long kb;
        if (sscanf(line, "MemTotal: %lld kB", &kb) == 1) { m->mem_bytes = kb * 1024; break; }
    }
    fclose(f);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The environment variables starting with one of the prefixes, sorted, "K=V;K=V". */
static void read_env(char *out, size_t cap, const char *const *prefixes, int np) {
    const char *vars[64];
    int n = 0;
    for (char **e = environ; e && *e && n < 64; e++)
        for (int p = 0; p < np; p++)
            if (!strncmp(*e, prefixes[p], strlen(prefixes[p]))) { vars[n++] = *e; break; }
    qsort(vars, (size_t)n, sizeof *vars, cmp_str);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", i ? ";" : "", vars[i]);
    }
}

static void read_openblas_env(machine_info *m) {
    static const char *const pre[] = {"OPENBLAS_"};
    read_env(m->openblas_env, sizeof m->openblas_env, pre, 1);
    static const char *const omp[] = {"OMP_", "GOMP_"};
    read_env(m->omp_env, sizeof m->omp_env, omp, 2);
}

static int on_path(const char *exe) {
    const char *path = getenv("PATH");
    if (!path) return 0;
    char dir[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n && n < sizeof dir - 64) {
            snprintf(dir, sizeof dir, "%.*s/%s", (int)n, path, exe);
            if (access(dir, X_OK) == 0) return 1;
        }
        path += n;
        if (*path == ':') path++;
    }
    return 0;
}

static void read_gpu(machine_info *m) {
    if (!on_path("nvidia-smi")) return;
    FILE *p = popen("nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader 2>/dev/null", "r");
    if (!p) return;
    char line[512];
    if (fgets(line, sizeof line, p)) {
        char *a = line, *b = strchr(a, ',');
        if (b) {
            *b++ = 0;
            char *c = strchr(b, ',');
            if (c) { *c++ = 0; trim(c); snprintf(m->gpu_cc, sizeof m->gpu_cc, "%s", c); }
            trim(b);
            snprintf(m->gpu_driver, sizeof m->gpu_driver, "%s", b);
        }
        trim(a);
        snprintf(m->gpu, sizeof m->gpu, "%.159s", a);
    }
    while (fgets(line, sizeof line, p)) {} /* drain (more GPUs: the first one names the machine) */
    pclose(p);
    p = popen("nvidia-smi 2>/dev/null", "r");
    if (!p) return;
    while (fgets(line, sizeof line, p)) {
        char *v = strstr(line, "CUDA Version:");
        if (v && !m->cuda_version[0]) {
            v += strlen("CUDA Version:");
            char ver[32] = {0};
            if (sscanf(v, " %31[0-9.]", ver) == 1) snprintf(m->cuda_version, sizeof m->cuda_version, "%s", ver);
        }
    }
    pclose(p);
}

void machine_fingerprint(machine_info *m) {
    char buf[64];
    uint64_t h = 1469598103934665603ULL;
    h = fnv1a(h, m->cpu_model);
    h = fnv1a(h, m->cpu_flags_hash);
    snprintf(buf, sizeof buf, "%d", m->cores);
    h = fnv1a(h, buf);
    /* whole GiB: MemTotal moves by a few MB between kernels and boots */
    snprintf(buf, sizeof buf, "%lld", (m->mem_bytes + (1LL << 29)) >> 30);
    h = fnv1a(h, buf);
    h = fnv1a(h, m->blas_core);
    h = fnv1a(h, m->blas_config);
    h = fnv1a(h, m->openblas_env);
    /* hashed only when it differs from the harness's own setting (or none):
     * fingerprints recorded before the setting keep their value, and a
     * user's OMP_WAIT_POLICY makes a different machine */
    if (m->omp_env[0] && strcmp(m->omp_env, UTIL_OMP_POLICY)) h = fnv1a(h, m->omp_env);
    h = fnv1a(h, m->gpu);
    h = fnv1a(h, m->gpu_driver);
    h = fnv1a(h, m->gpu_cc);
    h = fnv1a(h, m->compiler);
    snprintf(m->fingerprint, sizeof m->fingerprint, "%016llx", (unsigned long long)h);
}

void machine_collect(machine_info *m) {
    memset(m, 0, sizeof *m);
    if (gethostname(m->hostname, sizeof m->hostname) != 0) m->hostname[0] = 0;
    m->hostname[sizeof m->hostname - 1] = 0;
    read_cpuinfo(m);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    m->cores = n > 0 ? (int)n : 0;
    read_meminfo(m);
    snprintf(m->blas_core, sizeof m->blas_core, "%s", blas_corename() ? blas_corename() : "");
    snprintf(m->blas_config, sizeof m->blas_config, "%s", blas_config() ? blas_config() : "");
    trim(m->blas_core);
    trim(m->blas_config);
    read_openblas_env(m);
    read_gpu(m);
#if defined(__clang__)
    snprintf(m->compiler, sizeof m->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(m->compiler, sizeof m->compiler, "gcc %s", __VERSION__);
#else
    snprintf(m->compiler, sizeof m->compiler, "%s", "unknown");
#endif
    trim(m->compiler);
    struct utsname u;
    if (uname(&u) == 0) snprintf(m->os, sizeof m->os, "%.24s %.40s %.24s", u.sysname, u.release, u.machine);
    machine_fingerprint(m);
}

/* JSON string escaping without pulling in results/ (kernels stay independent). */
static void put_str(char **p, size_t *left, const char *key, const char *v, int first) {
    int k = snprintf(*p, *left, "%s\"%s\":\"", first ? "" : ",", key);
    if (k < 0 || (size_t)k >= *left) return;
    *p += k; *left -= (size_t)k;
    for (; *v && *left > 8; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\') { *(*p)++ = '\\'; *(*p)++ = (char)c; *left -= 2; }
        else if (c < 0x20) { k = snprintf(*p, *left, "\\u%04x", c); *p += k; *left -= (size_t)k; }
        else { *(*p)++ = (char)c; (*left)--; }
    }
    if (*left > 1) { *(*p)++ = '"'; (*left)--; }
    **p = 0;
}

char *machine_json(const machine_info *m) {
    size_t cap = 4096;
    char *out = malloc(cap);
    if (!out) return NULL;
    char *p = out;
    size_t left = cap;
    *p++ = '{'; left--;
    put_str(&p, &left, "fingerprint", m->fingerprint, 1);
    put_str(&p, &left, "hostname", m->hostname, 0);
    put_str(&p, &left, "cpu_model", m->cpu_model, 0);
    put_str(&p, &left, "cpu_flags_hash", m->cpu_flags_hash, 0);
    put_str(&p, &left, "simd", m->simd, 0);
    int k = snprintf(p, left, ",\"cores\":%d,\"mem_bytes\":%lld", m->cores, m->mem_bytes);
    p += k; left -= (size_t)k;
    put_str(&p, &left, "blas_core", m->blas_core, 0);
    put_str(&p, &left, "blas_config", m->blas_config, 0);
    put_str(&p, &left, "openblas_env", m->openblas_env, 0);
    put_str(&p, &left, "omp_env", m->omp_env, 0);
    put_str(&p, &left, "gpu", m->gpu, 0);
    put_str(&p, &left, "gpu_driver", m->gpu_driver, 0);
    put_str(&p, &left, "cuda_version", m->cuda_version, 0);
    put_str(&p, &left, "gpu_cc", m->gpu_cc, 0);
    put_str(&p, &left, "compiler", m->compiler, 0);
    put_str(&p, &left, "os", m->os, 0);
    if (left > 1) { *p++ = '}'; *p = 0; }
    return out;
}
