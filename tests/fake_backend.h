/* fake_backend.h — a recording fake device for tests on the cpu.
 *
 * fake_backend() is backend_cpu's kernels behind wrappers, with
 * host_memory = 0 (the model treats it as a device: weights uploaded,
 * counters and logits staged through upload/download) and graphs = 1.
 *  - Outside a capture every wrapped call is logged (fk.log), then run.
 *    Between graph_begin and graph_end a kernel call is recorded with its
 *    arguments and not run; a copy, alloc, free or sync fails the capture
 *    (as on CUDA). graph_launch runs the record with the recorded arguments
 *    (what a CUDA graph does: a value the model changes per step but baked
 *    into a capture would replay stale), or answers 1 (stale) once fake
 *    memory was freed after the capture.
 *  - Traffic: bytes and calls of every upload and download (the last one's
 *    size too), so a test can say what crosses the "bus".
 *  - fake_protect(1) (before the first fake alloc): fake memory is a 1 GiB
 *    arena mapped twice, a device view (what alloc returns) that is
 *    PROT_NONE for good and a kernel view the wrappers hand to the cpu
 *    kernels (every pointer argument moved to it). Host code that reads or
 *    writes device memory as host memory (the bug a real device shows as
 *    garbage or a crash) faults; a SIGSEGV handler counts it in
 *    fk.violations (the address in fk.violation_addr) and opens that page
 *    of the device view, so the run goes on to its checks. No syscall per
 *    call. Off by default (test_backend.c reads fake memory directly).
 * Every entry of the table is wrapped except the variant queries (no
 * memory); a new backend entry needs a wrapper here (the protected fake
 * faults on an unwrapped kernel, which the tests then report).
 */
#ifndef GRIFFIN_FAKE_BACKEND_H
#define GRIFFIN_FAKE_BACKEND_H
#include <stddef.h>

#include "backend.h"

enum { FK_MAXLOG = 1 << 14 };
enum { FK_UPLOAD, FK_DOWNLOAD, FK_COPY, FK_MEMSET, FK_SYNC, FK_ALLOC, FK_FREE, FK_KERNEL };

typedef struct {
    int capturing, bad;          /* in a capture; non-kernel calls refused in one */
    void *cur;                   /* the capture being recorded */
    unsigned long epoch;         /* moves on every free */
    int log[FK_MAXLOG], nlog;    /* what ran outside graphs: FK_* per call */
    size_t up_bytes, down_bytes; /* bytes of the last upload / download */
    long launches, replayed, stale;
    /* traffic since the last reset */
    long n_up, n_down;
    size_t up_total, down_total;
    /* protection (fake_protect) */
    long violations;             /* host accesses to fake memory outside a fake call */
    void *violation_addr;        /* the first one */
} fk_state;

extern fk_state fk;

/* The fake table (a fresh copy of backend_cpu with the wrappers bound). */
backend fake_backend(void);
/* Entries of kind `what` in fk.log. */
int fk_count(int what);
/* fk to zero (the protection setting and live allocations stay). */
void fake_reset(void);
/* 1: protect fake memory between calls (call before any fake alloc; memory
 * allocated before keeps its mode). 0 or -1 (the handler could not be set). */
int fake_protect(int on);

#endif
