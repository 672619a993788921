/* targets.h — issue 13's speed targets as rules, and verdicts over rounds.
 *
 * `griffin bench-model --record FILE` appends one line per timed case (its
 * raw measurement: seconds, FLOPs, bytes, and the sgemm rate, read bandwidth
 * and interference measured in the same run). `griffin targets FILE` groups
 * the lines into cells (preset, weights, case, batch, tokens, threads, OpenMP
 * wait setting, build)
 * and judges each cell over its rounds with the rule below. Both the targets
 * and the verdict rule were fixed from the words before any round was
 * judged; README "Targets as verdicts" says where each number comes from.
 *
 * The targets (only the presets the issue names; any other preset, batch or
 * length has none):
 *   decode B=1,  400M/1B presets: step <= 1.15 x memory limit
 *   decode B=16, 400M/1B presets: step <= 1.5 x max(memory, compute limit)
 *   decode B=64, 400M/1B presets: compute limit / step >= 0.65
 *   prefill T >= 1024, 400M/1B presets: FLOP rate >= 0.75 x sgemm
 *   prefill T >= 1024, small-* presets: FLOP rate >= 0.70 x sgemm
 *   train   T >= 1024, small-* presets: FLOP rate >= 0.55 x sgemm
 * where memory limit = bytes / read bandwidth and compute limit = FLOPs /
 * sgemm rate, both measured in the same process as the case. The read
 * bandwidth is the weights' own (wread_gbs: passes over them interleaved with
 * the decode repetitions) where the row has it, else the roofline probe's
 * array's (read_gbs: v1 rows).
 *
 * The verdict of a cell: rounds measured while others took more than
 * busy_max of the machine, or with a non-finite value, are not judged. With
 * fewer than min_rounds judged rounds: inconclusive. Met when every judged
 * round meets the target, missed when none does; otherwise inconclusive
 * (the cell straddles its target: this machine's noise is larger than the
 * distance to it).
 */
#ifndef GRIFFIN_TARGETS_H
#define GRIFFIN_TARGETS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TARGETS_MIN_ROUNDS 3
#define TARGETS_FIELDS 16    /* v2; a v1 line has the first 15 (no wread_gbs) */
#define TARGETS_FIELDS_V1 15
#define TARGETS_HEADER "# griffin targets v2: when commit preset weights case batch tokens threads omp seconds flops bytes sgemm_gflops read_gbs busy wread_gbs"

typedef enum { TM_MEM_RATIO, TM_MAX_RATIO, TM_CMP_FRAC } target_metric;

typedef struct {
    target_metric metric;
    double bound;
    int at_most;      /* 1: value <= bound meets it; 0: value >= bound */
    const char *text; /* the rule in words */
} target_rule;

/* One timed case, as recorded. */
typedef struct {
    double when;
    char commit[48], preset[48], weights[8], kase[16];
    int batch, tokens, threads;
    char omp[64]; /* the OpenMP wait setting the case ran under ("GOMP_SPINCOUNT=3000"; "-": none set) */
    double seconds, flops, bytes, sgemm_gflops, read_gbs, busy; /* busy: fraction; NaN not measured */
    /* the read rate over the model's own weights, in passes interleaved with
     * the timed decode repetitions (1e9 bytes/s); NaN: not measured (prefill,
     * training, a device, or a v1 line) */
    double wread_gbs;
} target_row;

/* The rule for a case, or NULL when the issue sets none for it. */
const target_rule *target_rule_for(const char *preset, const char *kase, int batch, int tokens);
/* 1 when the row's memory limit is at the weights' own read rate (wread_gbs). */
int target_uses_wread(const target_row *x);
/* The value the rule judges (ratio or fraction); NaN when the inputs are not finite and positive. */
double target_value(const target_rule *r, const target_row *x);
int target_meets(const target_rule *r, double value);
/* "1.08x of the memory limit" / "72% of sgemm" */
void target_format(const target_rule *r, double value, char *buf, size_t cap);

typedef enum { TV_MET, TV_MISSED, TV_INCONCLUSIVE } target_verdict;
const char *target_verdict_name(target_verdict v);
/* The verdict over n rounds (values and the interference each was measured
 * under; a NaN busy, not measured, is not judged). reason: why, in words. */
target_verdict target_judge(const target_rule *r, const double *values, const double *busy, int n, int min_rounds,
                            double busy_max, char *reason, size_t cap);

/* The OpenMP wait setting of this process, as recorded: OMP_WAIT_POLICY and
 * GOMP_SPINCOUNT as set ("GOMP_SPINCOUNT=3000", "OMP_WAIT_POLICY=active"), or "-". */
void target_omp_setting(char *buf, size_t cap);
/* Append one row to path (creating it with the header line); 0 or -1 with
 * util_last_error(). Lines already in the file are never rewritten. */
int target_record(const char *path, const target_row *x);
/* Parse one line (no header, no comment); 0 or -1 with a message in err. */
int target_parse_line(const char *line, target_row *x, char *err, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
