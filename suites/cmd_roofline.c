/* cmd_roofline.c — `griffin roofline`: measure read / copy bandwidth and
 * sgemm GFLOP/s on this machine for 1 thread and for all threads (or the
 * given count) and print a table, or JSON with the machine fingerprint.
 *
 *   griffin roofline              # 1 and all threads, full sizes (~10-20 s)
 *   griffin roofline --quick      # smaller arrays, fewer reps (~2-4 s)
 *   griffin roofline --threads 2 --json
 */
#include "commands.h"
#include "flags.h"
#include "machine.h"
#include "matmul.h"
#include "roofline.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_roofline(int argc, char **argv) {
    int threads = 0, quick = 0, json = 0;
    flag_def defs[] = {
        {"threads", FLAG_INT, &threads, "0", "threads to measure (0 = both 1 and all)", "[0,4096]"},
        {"quick", FLAG_BOOL, &quick, "0", "128 MiB arrays, 3 reps, sgemm up to 1024", 0},
        {"json", FLAG_BOOL, &json, "0", "print one JSON object instead of the table", 0},
        {NULL, 0, NULL, NULL, NULL, 0}};
    int npos = 0;
    char *pos[1];
    int rc = flags_parse(defs, argc, argv, pos, 0, &npos, "griffin roofline [--threads N] [--quick] [--json]",
                         "Measure this machine's limits: read bandwidth (sum over an array far larger\n"
                         "than the LLC), copy bandwidth (STREAM-like, bytes read + written) and sgemm\n"
                         "GFLOP/s (OpenBLAS) at a few square sizes; best and median of the reps.");
    if (rc >= 0) return rc;
    if (threads < 0) {
        fprintf(stderr, "error: --threads must be >= 0\n");
        return 2;
    }
    int all = util_threads();
    int list[2], nl = 0;
    if (threads > 0) list[nl++] = threads;
    else {
        list[nl++] = 1;
        if (all > 1) list[nl++] = all;
    }
    roofline_result res[2];
    for (int i = 0; i < nl; i++) {
        if (roofline_measure(&res[i], list[i], quick) != 0) {
            fprintf(stderr, "error: %s\n", util_last_error());
            return 1;
        }
    }
    machine_info m;
    machine_collect(&m);
    if (json) {
        char *mj = machine_json(&m);
        printf("{\"commit\":\"%s\",\"dirty\":%d,\"machine\":%s,\"results\":[", build_commit(),
               build_dirty(), mj ? mj : "{}");
        free(mj);
        for (int i = 0; i < nl; i++) {
            char *s = roofline_json(&res[i]);
            printf("%s%s", i ? "," : "", s);
            free(s);
        }
        printf("]}\n");
        return 0;
    }
    printf("roofline on %s (%d cores, fingerprint %s)%s\n", m.cpu_model[0] ? m.cpu_model : "unknown CPU",
           m.cores, m.fingerprint, quick ? "  [quick]" : "");
    printf("arrays %zu MiB, %d reps; copy counts bytes read + written; best (median)\n\n",
           res[0].array_bytes >> 20, res[0].reps);
    printf("%-8s %-18s %-18s", "threads", "read GB/s", "copy GB/s");
    for (int s = 0; s < res[0].n_sgemm; s++) {
        char h[32];
        snprintf(h, sizeof h, "sgemm%d GFLOP/s", res[0].sgemm_n[s]);
        printf(" %-20s", h);
    }
    printf("\n");
    for (int i = 0; i < nl; i++) {
        const roofline_result *r = &res[i];
        char c1[40], c2[40];
        snprintf(c1, sizeof c1, "%.2f (%.2f)", r->read_gbs, r->read_gbs_median);
        snprintf(c2, sizeof c2, "%.2f (%.2f)", r->copy_gbs, r->copy_gbs_median);
        printf("%-8d %-18s %-18s", r->threads, c1, c2);
        for (int s = 0; s < r->n_sgemm; s++) {
            char c[40];
            snprintf(c, sizeof c, "%.1f (%.1f)", r->sgemm_gflops[s], r->sgemm_gflops_median[s]);
            printf(" %-20s", c);
        }
        printf("\n");
    }
    printf("\nsgemm is the faster of the two GEMM variants per size; peaks:");
    for (int i = 0; i < nl; i++)
        printf("  %d thread%s: OpenBLAS (%s core) %.1f, own kernel %.1f GFLOP/s", res[i].threads, res[i].threads > 1 ? "s" : "",
               blas_corename(), res[i].sgemm_blas_peak_gflops, res[i].sgemm_fast_peak_gflops);
    printf("\n");
    return 0;
}
