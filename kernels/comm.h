/* comm.h — the communication layer of data-parallel training: one interface,
 * three implementations.
 *
 *   local  one process (the fallback; every collective is the identity)
 *   mpi    ranks started by mpirun / srun; collectives are our own rings over
 *          MPI point-to-point messages, so the reduction order is fixed by
 *          the rank count and the message length, never by timing
 *   nccl   the float all-reduce runs on the GPU through NCCL (one device per
 *          rank, chosen by the node-local rank); MPI still bootstraps the
 *          communicator and carries the small collectives
 *
 * Reduction order (mpi): a float all-reduce over N ranks splits the buffer
 * into N chunks (sizes differ by at most one element); chunk c is summed
 * around the ring starting at rank c: (((g[c] + g[c+1]) + g[c+2]) + ...)
 * up to g[c-1] (indices mod N).
 * Every rank ends with the same bits (the reduced chunks are copied, not
 * re-summed). Double reductions (losses, counts) gather every rank's values
 * and sum them in rank order 0..N-1 on every rank.
 *
 * Failure: every wait has a deadline (comm_options.timeout_s). A rank whose
 * neighbour sends nothing for that long prints the rank it was waiting for
 * and aborts the whole job (MPI_Abort, exit 1); a rank that dies is reported
 * by the launcher (mpirun names the rank and exits non-zero).
 *
 * Built without MPI (no mpicc), `comm_open` under a launcher (OMPI_*, PMI_*,
 * PMIX_* or a multi-task Slurm step in the environment) fails with an error
 * saying so; one process works as before.
 *
 * Thread use: open with threaded = 1 to call the collectives from one helper
 * thread (MPI_THREAD_SERIALIZED); the caller must not call two collectives
 * at once. comm_threads_ok says whether the MPI library granted it.
 */
#ifndef GRIFFIN_COMM_H
#define GRIFFIN_COMM_H
#include <stddef.h>
#include <stdint.h>

typedef enum { COMM_LOCAL = 0, COMM_MPI = 1, COMM_NCCL = 2 } comm_kind;

typedef struct {
    const char *kind;   /* "auto" (mpi when launched by mpirun/srun, else local), "local", "mpi", "nccl" */
    double timeout_s;   /* deadline of any single wait (<= 0: 300 s) */
    int threaded;       /* collectives will be called from a helper thread */
} comm_options;

typedef struct comm comm;

/* 0, -1 (util_last_error: e.g. launched by mpirun in a build without MPI),
 * or -2 for a usage error (unknown kind). */
int comm_open(comm **c, const comm_options *o);
void comm_close(comm *c);
int comm_rank(const comm *c);
int comm_size(const comm *c);
comm_kind comm_type(const comm *c);
const char *comm_name(const comm *c);      /* "local", "mpi (Open MPI 4.1.4)", "nccl 2.28.x" */
int comm_threads_ok(const comm *c);
/* 1 when this build has MPI / NCCL. */
int comm_have_mpi(void);
int comm_have_nccl(void);
/* The launcher's rank count from the environment (1 when not launched). */
int comm_launched_size(void);
/* Ranks the launcher put on this node (OMPI_COMM_WORLD_LOCAL_SIZE,
 * MPI_LOCALNRANKS; 1 when not known or not launched). */
int comm_local_size(void);

/* Start this program again as n ranks under mpirun: execs
 *   mpirun $GRIFFIN_MPIRUN_ARGS -np n /proc/self/exe args...
 * (GRIFFIN_MPIRUN_ARGS: extra launcher options split at blanks, e.g.
 * "--oversubscribe --allow-run-as-root" on a small CI box; mpirun is taken
 * from PATH). Returns only when that cannot happen: -1 (util_last_error:
 * no MPI in this build, no mpirun on PATH, exec failed). */
int comm_mpirun(int n, char *const *args, int nargs);

/* In-place sums over all ranks (identical bits on every rank). 0, or
 * aborts the job on a timeout or transport error. */
int comm_allreduce_f32(comm *c, float *buf, size_t n);
int comm_allreduce_f64(comm *c, double *buf, size_t n);   /* small n: gathered, summed in rank order */
int comm_allgather(comm *c, const void *mine, void *all, size_t bytes);  /* all: size * bytes, rank order */
int comm_bcast(comm *c, void *buf, size_t bytes, int root);
int comm_barrier(comm *c);
/* 1 when `flag` is set on any rank (a stop request, a failed setup step),
 * the same answer on every rank; c NULL: flag != 0. */
int comm_any(comm *c, int flag);
/* Print "rank R: MSG" and end every rank of the job with exit status
 * `code` (plain exit in one process). */
void comm_abort(comm *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));

/* Bytes this rank sent in float all-reduces since open. */
uint64_t comm_bytes_sent(const comm *c);

#endif
