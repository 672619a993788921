/* machine.h — what this machine is, for the machine fingerprint that every
 * run, bench JSON and regression check is keyed on.
 *
 * The fingerprint is a hash over the fields that change performance: CPU
 * model and flags, cores, memory, BLAS core and config, OPENBLAS_* and
 * OpenMP (OMP_*, GOMP_*: the wait policy) environment, GPU and driver,
 * compiler. Two runs compare only when their
 * fingerprints are equal (unless the user allows otherwise).
 */
#ifndef GRIFFIN_MACHINE_H
#define GRIFFIN_MACHINE_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char hostname[128];
    char cpu_model[160];
    char cpu_flags_hash[20];   /* hex of a hash over /proc/cpuinfo flags */
    char simd[64];             /* e.g. "avx512f avx2 fma" (the ones we use) */
    int cores;                 /* online logical CPUs */
    long long mem_bytes;
    char blas_core[64];        /* openblas_get_corename() */
    char blas_config[160];     /* openblas_get_config() */
    char openblas_env[256];    /* OPENBLAS_* variables, "K=V;K=V" sorted */
    char omp_env[256];         /* OMP_* and GOMP_* variables (wait policy, spin count,
                                  threads), sorted; UTIL_OMP_POLICY under the harness's
                                  own setting, "" = libgomp's defaults */
    char gpu[160];             /* GPU name, "" if none */
    char gpu_driver[64];
    char cuda_version[32];
    char gpu_cc[16];           /* compute capability, e.g. "9.0" */
    char compiler[96];         /* e.g. "gcc 12.2.0" */
    char os[96];
    char fingerprint[17];      /* 16 hex chars */
} machine_info;

/* Fill *m from /proc, uname, OpenBLAS and (when built) CUDA. Never fails:
 * unknown fields are left empty. Computes m->fingerprint. */
void machine_collect(machine_info *m);
/* Recompute m->fingerprint from the performance-relevant fields. */
void machine_fingerprint(machine_info *m);
/* One-line JSON object with every field (caller frees). */
char *machine_json(const machine_info *m);

/* Build identification, from the Makefile. */
const char *build_commit(void);  /* git short hash or "unknown" */
int build_dirty(void);
const char *build_flags(void);

#ifdef __cplusplus
}
#endif
#endif
