/* test_claims.c — the claims registry and its evaluator.
 *
 *  - symmetry: every claim is driven to each of its three verdicts by
 *    synthetic inputs (the table below; a claim missing a verdict fails);
 *  - every rule boundary: a vector on each side of each threshold;
 *  - every input of every claim set to NaN, +inf, -inf, outside its range or
 *    left out gives "inconclusive" with the reason naming the input;
 *  - the two rules never hold together (random inputs over the ranges);
 *  - the registry parses, and its JSON has the documented shape;
 *  - the expression language (precedence, functions, errors).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "json.h"
#include "test.h"
#include "util.h"

/* A vector: inputs as "name=value name=value" on top of the defaults below
 * (a good quiet timing or three seeds), and the expected verdict. A value
 * "-" removes the input. */
typedef struct {
    const char *id, *inputs;
    claim_verdict want;
    const char *why_has; /* substring expected in why (NULL: any) */
} vec;

#define R CLAIM_REPRODUCED
#define N CLAIM_NOT_REPRODUCED
#define I CLAIM_INCONCLUSIVE

static const char *const k_defaults = "reps=5 busy=0.01 spread=0.01 seeds=3";

static const vec k_vecs[] = {
    /* train_step_vs_T */
    {"train_step_vs_T", "mqa_growth=1.6 hawk_growth=1.02 griffin_growth=1.08", R, NULL},
    {"train_step_vs_T", "mqa_growth=1.25 hawk_growth=1.1 griffin_growth=1.1", R, NULL},
    {"train_step_vs_T", "mqa_growth=1.5 hawk_growth=1.15 griffin_growth=1.15", R, NULL},
    {"train_step_vs_T", "mqa_growth=1.2499 hawk_growth=1.0 griffin_growth=1.0", I, "mqa_growth (1.25) >= 1.25"},
    {"train_step_vs_T", "mqa_growth=1.6 hawk_growth=1.1501 griffin_growth=1.0", I, "hawk_growth"},
    {"train_step_vs_T", "mqa_growth=1.6 hawk_growth=1.0 griffin_growth=1.1501", I, "griffin_growth"},
    {"train_step_vs_T", "mqa_growth=1.26 hawk_growth=1.0 griffin_growth=1.15", I, "1.1 * max"},
    {"train_step_vs_T", "mqa_growth=1.1 hawk_growth=1.1 griffin_growth=1.0", N, NULL},   /* MQA no slower than Hawk */
    {"train_step_vs_T", "mqa_growth=2.0 hawk_growth=1.3 griffin_growth=1.0", N, NULL},   /* Hawk not flat */
    {"train_step_vs_T", "mqa_growth=2.0 hawk_growth=1.0 griffin_growth=1.3", N, NULL},   /* Griffin not flat */
    {"train_step_vs_T", "mqa_growth=2.0 hawk_growth=1.2999 griffin_growth=1.0", I, NULL},
    {"train_step_vs_T", "mqa_growth=1.6 hawk_growth=1.0 griffin_growth=1.0 reps=4", I, "fewer than 5"},
    {"train_step_vs_T", "mqa_growth=1.6 hawk_growth=1.0 griffin_growth=1.0 busy=0.1001", I, "other processes"},
    {"train_step_vs_T", "mqa_growth=1.6 hawk_growth=1.0 griffin_growth=1.0 busy=0.10", R, NULL},
    {"train_step_vs_T", "mqa_growth=1.6 hawk_growth=1.0 griffin_growth=1.0 spread=0.0501", I, "spread"},
    {"train_step_vs_T", "mqa_growth=1.6 hawk_growth=1.0 griffin_growth=1.0 spread=0.05", R, NULL},
    /* the busy machine never reproduces, even when the numbers would */
    {"train_step_vs_T", "mqa_growth=1.1 hawk_growth=1.1 griffin_growth=1.0 busy=0.5", I, "other processes"},
    /* train_step_width */
    {"train_step_width", "mqa_growth_small=1.5 mqa_growth_large=1.2", R, NULL},
    {"train_step_width", "mqa_growth_small=1.26 mqa_growth_large=1.2", R, NULL},
    {"train_step_width", "mqa_growth_small=1.25 mqa_growth_large=1.19", R, NULL},
    {"train_step_width", "mqa_growth_small=1.2499 mqa_growth_large=1.0", I, NULL},
    {"train_step_width", "mqa_growth_small=1.5 mqa_growth_large=1.45", I, NULL},
    {"train_step_width", "mqa_growth_small=1.4 mqa_growth_large=1.47", N, NULL},
    {"train_step_width", "mqa_growth_small=1.4 mqa_growth_large=1.469", I, NULL},
    /* decode_throughput_order */
    {"decode_throughput_order", "hawk_tps=1000 griffin_tps=900 mqa_tps=300", R, NULL},
    {"decode_throughput_order", "hawk_tps=900 griffin_tps=900 mqa_tps=600", R, NULL},
    {"decode_throughput_order", "hawk_tps=899 griffin_tps=900 mqa_tps=300", I, "hawk_tps"},
    {"decode_throughput_order", "hawk_tps=1000 griffin_tps=900 mqa_tps=601", I, "1.5 * mqa_tps"},
    {"decode_throughput_order", "hawk_tps=810 griffin_tps=900 mqa_tps=300", N, NULL}, /* Hawk slower than Griffin */
    {"decode_throughput_order", "hawk_tps=811 griffin_tps=900 mqa_tps=300", I, NULL},
    {"decode_throughput_order", "hawk_tps=1000 griffin_tps=500 mqa_tps=500", N, NULL}, /* Griffin no faster than MQA */
    {"decode_throughput_order", "hawk_tps=1000 griffin_tps=900 mqa_tps=300 spread=0.2", I, "spread"},
    /* decode_gap_grows */
    {"decode_gap_grows", "gap_short=2 gap_long=3", R, NULL},
    {"decode_gap_grows", "gap_short=2 gap_long=2.2", R, NULL},
    {"decode_gap_grows", "gap_short=2 gap_long=2.199", I, NULL},
    {"decode_gap_grows", "gap_short=2 gap_long=2", N, NULL},
    {"decode_gap_grows", "gap_short=2 gap_long=2.001", I, NULL},
    /* latency_flat_after_prompt */
    {"latency_flat_after_prompt", "mqa_growth=1.3 hawk_growth=1.0 griffin_growth=1.02", R, NULL},
    {"latency_flat_after_prompt", "mqa_growth=1.15 hawk_growth=1.05 griffin_growth=1.05", R, NULL},
    {"latency_flat_after_prompt", "mqa_growth=1.1499 hawk_growth=1.0 griffin_growth=1.0", I, NULL},
    {"latency_flat_after_prompt", "mqa_growth=1.3 hawk_growth=1.0501 griffin_growth=1.0", I, NULL},
    {"latency_flat_after_prompt", "mqa_growth=1.01 hawk_growth=1.01 griffin_growth=1.0", N, NULL}, /* MQA flat too */
    {"latency_flat_after_prompt", "mqa_growth=1.5 hawk_growth=1.15 griffin_growth=1.0", N, NULL},  /* Hawk not flat */
    {"latency_flat_after_prompt", "mqa_growth=1.5 hawk_growth=1.0 griffin_growth=1.15", N, NULL},  /* Griffin not flat */
    {"latency_flat_after_prompt", "mqa_growth=1.5 hawk_growth=1.1499 griffin_growth=1.0", I, NULL},
    /* latency_below_mqa */
    {"latency_below_mqa", "mqa_time=2 hawk_time=1 griffin_time=1.2", R, NULL},
    {"latency_below_mqa", "mqa_time=1.1 hawk_time=1 griffin_time=1", R, NULL},
    {"latency_below_mqa", "mqa_time=1.0999 hawk_time=1 griffin_time=1", I, NULL},
    {"latency_below_mqa", "mqa_time=1 hawk_time=1 griffin_time=0.5", I, NULL},
    {"latency_below_mqa", "mqa_time=1 hawk_time=1 griffin_time=1", N, NULL},
    {"latency_below_mqa", "mqa_time=1 hawk_time=1.2 griffin_time=1.1", N, NULL},
    /* decode_memory_bound */
    {"decode_memory_bound", "ratio_min=0.9 ratio_max=1.6 bytes_over_cache=3 bandwidth_gbs=25", R, NULL},
    {"decode_memory_bound", "ratio_min=0.5 ratio_max=2 bytes_over_cache=2 bandwidth_gbs=25", R, NULL},
    {"decode_memory_bound", "ratio_min=0.4999 ratio_max=1.5 bytes_over_cache=3 bandwidth_gbs=25", I, "ratio_min"},
    {"decode_memory_bound", "ratio_min=0.9 ratio_max=2.001 bytes_over_cache=3 bandwidth_gbs=25", I, "ratio_max"},
    {"decode_memory_bound", "ratio_min=0.9 ratio_max=4 bytes_over_cache=3 bandwidth_gbs=25", N, NULL},
    {"decode_memory_bound", "ratio_min=0.9 ratio_max=3.999 bytes_over_cache=3 bandwidth_gbs=25", I, NULL},
    {"decode_memory_bound", "ratio_min=0.9 ratio_max=1.6 bytes_over_cache=1.999 bandwidth_gbs=25", I, "caches"},
    /* a failed bandwidth probe: NaN, never "reproduced <= 0.00x" */
    {"decode_memory_bound", "ratio_min=0.9 ratio_max=1.6 bytes_over_cache=3 bandwidth_gbs=nan", I, "NaN"},
    {"decode_memory_bound", "ratio_min=0 ratio_max=0 bytes_over_cache=3 bandwidth_gbs=25", I, "outside"},
    /* a cache-resident model far below the memory model is not memory bound */
    {"decode_memory_bound", "ratio_min=0.1 ratio_max=0.3 bytes_over_cache=0.6 bandwidth_gbs=25", I, "caches"},
    /* mqa_degrades_past_T */
    {"mqa_degrades_past_T", "mqa_rise=0.3 mqa_rise_sd=0.05 control_rise=0.01", R, NULL},
    {"mqa_degrades_past_T", "mqa_rise=0.11 mqa_rise_sd=0.05 control_rise=0.01", R, NULL},
    {"mqa_degrades_past_T", "mqa_rise=0.1099 mqa_rise_sd=0.05 control_rise=0.01", I, NULL},
    {"mqa_degrades_past_T", "mqa_rise=-0.05 mqa_rise_sd=0.02 control_rise=0", N, NULL},
    {"mqa_degrades_past_T", "mqa_rise=0.03 mqa_rise_sd=0.02 control_rise=0.05", N, NULL},
    {"mqa_degrades_past_T", "mqa_rise=0.0001 mqa_rise_sd=0 control_rise=0", I, NULL},
    {"mqa_degrades_past_T", "mqa_rise=0.3 mqa_rise_sd=0.05 control_rise=0.01 seeds=2", I, "fewer than 3"},
    /* recurrent_keep_improving */
    {"recurrent_keep_improving", "hawk_gain=0.08 hawk_gain_sd=0.01 griffin_gain=0.07 griffin_gain_sd=0.01 control_gain=0.01 excess_within=-0.5", R, NULL},
    {"recurrent_keep_improving", "hawk_gain=0.04 hawk_gain_sd=0.01 griffin_gain=0.04 griffin_gain_sd=0.01 control_gain=0.01 excess_within=-0.5", R, NULL},
    {"recurrent_keep_improving", "hawk_gain=0.0299 hawk_gain_sd=0.01 griffin_gain=0.05 griffin_gain_sd=0.01 control_gain=0.01 excess_within=-0.5", I, "hawk_gain"},
    /* a model that ignores context gains exactly what the control gains */
    {"recurrent_keep_improving", "hawk_gain=0.02 hawk_gain_sd=0.002 griffin_gain=0.02 griffin_gain_sd=0.002 control_gain=0.02 excess_within=-0.5", N, NULL},
    {"recurrent_keep_improving", "hawk_gain=-0.05 hawk_gain_sd=0.01 griffin_gain=0.1 griffin_gain_sd=0.01 control_gain=0 excess_within=-0.5", N, NULL},
    {"recurrent_keep_improving", "hawk_gain=0.1 hawk_gain_sd=0.01 griffin_gain=0.0099 griffin_gain_sd=0 control_gain=0 excess_within=-0.5", N, NULL},
    {"recurrent_keep_improving", "hawk_gain=0.1 hawk_gain_sd=0.01 griffin_gain=0.01 griffin_gain_sd=0 control_gain=0 excess_within=-0.5", R, NULL},
    {"recurrent_keep_improving", "hawk_gain=0.08 hawk_gain_sd=0.01 griffin_gain=0.07 griffin_gain_sd=0.01 control_gain=0.01 excess_within=-0.0999", I, "bigram"},
    {"recurrent_keep_improving", "hawk_gain=0.08 hawk_gain_sd=0.01 griffin_gain=0.07 griffin_gain_sd=0.01 control_gain=0.01 excess_within=-0.1", R, NULL},
    /* longer_training_helps */
    {"longer_training_helps", "hawk_gain4=0.05 hawk_gain4_sd=0.01 griffin_gain4=0.04 griffin_gain4_sd=0.01", R, NULL},
    {"longer_training_helps", "hawk_gain4=0.01 hawk_gain4_sd=0.01 griffin_gain4=0.04 griffin_gain4_sd=0.01", I, NULL},
    {"longer_training_helps", "hawk_gain4=-0.0101 hawk_gain4_sd=0.01 griffin_gain4=0.04 griffin_gain4_sd=0.01", N, NULL},
    {"longer_training_helps", "hawk_gain4=-0.01 hawk_gain4_sd=0.01 griffin_gain4=0.04 griffin_gain4_sd=0.01", I, NULL},
    {"longer_training_helps", "hawk_gain4=0.05 hawk_gain4_sd=0.01 griffin_gain4=-0.05 griffin_gain4_sd=0.01", N, NULL},
    /* selcopy_hawk_slower */
    {"selcopy_hawk_slower", "mqa_steps=300 mqa_steps_sd=50 hawk_steps=1500 hawk_steps_sd=0 griffin_steps=400 griffin_steps_sd=50 best_final=0.99", R, NULL},
    {"selcopy_hawk_slower", "mqa_steps=300 mqa_steps_sd=0 hawk_steps=640 hawk_steps_sd=50 griffin_steps=400 griffin_steps_sd=0 best_final=0.99", I, NULL},
    {"selcopy_hawk_slower", "mqa_steps=300 mqa_steps_sd=0 hawk_steps=651 hawk_steps_sd=50 griffin_steps=400 griffin_steps_sd=0 best_final=0.99", R, NULL},
    {"selcopy_hawk_slower", "mqa_steps=300 mqa_steps_sd=0 hawk_steps=650 hawk_steps_sd=50 griffin_steps=400 griffin_steps_sd=0 best_final=0.99", I, NULL},
    /* Hawk learning faster is not reproduced (the one-sided rule) */
    {"selcopy_hawk_slower", "mqa_steps=600 mqa_steps_sd=50 hawk_steps=300 hawk_steps_sd=50 griffin_steps=800 griffin_steps_sd=50 best_final=0.99", N, NULL},
    {"selcopy_hawk_slower", "mqa_steps=300 mqa_steps_sd=0 hawk_steps=250 hawk_steps_sd=50 griffin_steps=800 griffin_steps_sd=50 best_final=0.99", N, NULL},
    {"selcopy_hawk_slower", "mqa_steps=300 mqa_steps_sd=0 hawk_steps=251 hawk_steps_sd=50 griffin_steps=300 griffin_steps_sd=0 best_final=0.99", I, NULL},
    {"selcopy_hawk_slower", "mqa_steps=300 mqa_steps_sd=50 hawk_steps=1500 hawk_steps_sd=0 griffin_steps=400 griffin_steps_sd=50 best_final=0.8999", I, "learned"},
    /* selcopy_griffin_like_mqa */
    {"selcopy_griffin_like_mqa", "mqa_steps=400 mqa_steps_sd=0 griffin_steps=500 griffin_steps_sd=0 best_final=0.99", R, NULL},
    {"selcopy_griffin_like_mqa", "mqa_steps=400 mqa_steps_sd=0 griffin_steps=600 griffin_steps_sd=0 best_final=0.99", R, NULL},
    {"selcopy_griffin_like_mqa", "mqa_steps=400 mqa_steps_sd=0 griffin_steps=601 griffin_steps_sd=0 best_final=0.99", N, NULL},
    {"selcopy_griffin_like_mqa", "mqa_steps=400 mqa_steps_sd=20 griffin_steps=601 griffin_steps_sd=0 best_final=0.99", I, NULL},
    {"selcopy_griffin_like_mqa", "mqa_steps=600 mqa_steps_sd=0 griffin_steps=399 griffin_steps_sd=0 best_final=0.99", N, NULL},
    {"selcopy_griffin_like_mqa", "mqa_steps=600 mqa_steps_sd=0 griffin_steps=400 griffin_steps_sd=0 best_final=0.99", R, NULL},
    /* induction_extrapolation */
    {"induction_extrapolation", "min_at_train=1 mqa_far=0.07 mqa_far_sd=0.01 hawk_far=1 hawk_far_sd=0 griffin_far=0.95 griffin_far_sd=0.03", R, NULL},
    {"induction_extrapolation", "min_at_train=1 mqa_far=0.375 mqa_far_sd=0.125 hawk_far=0.8 hawk_far_sd=0 griffin_far=0.8 griffin_far_sd=0", R, NULL},
    {"induction_extrapolation", "min_at_train=1 mqa_far=0.375 mqa_far_sd=0.1251 hawk_far=0.8 hawk_far_sd=0 griffin_far=0.8 griffin_far_sd=0", I, NULL},
    {"induction_extrapolation", "min_at_train=1 mqa_far=0.1 mqa_far_sd=0 hawk_far=0.7999 hawk_far_sd=0 griffin_far=0.9 griffin_far_sd=0", I, NULL},
    {"induction_extrapolation", "min_at_train=1 mqa_far=0.95 mqa_far_sd=0.02 hawk_far=0.9 hawk_far_sd=0.02 griffin_far=1 griffin_far_sd=0", N, NULL},
    {"induction_extrapolation", "min_at_train=1 mqa_far=0.1 mqa_far_sd=0 hawk_far=0.3 hawk_far_sd=0.1 griffin_far=1 griffin_far_sd=0", N, NULL},
    {"induction_extrapolation", "min_at_train=1 mqa_far=0.1 mqa_far_sd=0 hawk_far=0.4 hawk_far_sd=0.1 griffin_far=1 griffin_far_sd=0", I, NULL},
    {"induction_extrapolation", "min_at_train=0.8999 mqa_far=0.07 mqa_far_sd=0.01 hawk_far=1 hawk_far_sd=0 griffin_far=0.95 griffin_far_sd=0.03", I, "learn"},
    /* mqar_hawk_weakest */
    {"mqar_hawk_weakest", "best=0.9 mqa_acc=0.9 mqa_acc_sd=0.02 hawk_acc=0.3 hawk_acc_sd=0.05 griffin_acc=0.8 griffin_acc_sd=0.05", R, NULL},
    {"mqar_hawk_weakest", "best=0.9 mqa_acc=0.9 mqa_acc_sd=0.02 hawk_acc=0.7 hawk_acc_sd=0.05 griffin_acc=0.8 griffin_acc_sd=0.05", I, NULL},
    {"mqar_hawk_weakest", "best=0.9 mqa_acc=0.9 mqa_acc_sd=0.02 hawk_acc=0.69 hawk_acc_sd=0.05 griffin_acc=0.8 griffin_acc_sd=0.05", R, NULL},
    {"mqar_hawk_weakest", "best=0.9 mqa_acc=0.5 mqa_acc_sd=0.02 hawk_acc=0.9 hawk_acc_sd=0.05 griffin_acc=0.8 griffin_acc_sd=0.05", N, NULL},
    {"mqar_hawk_weakest", "best=0.9 mqa_acc=0.84 mqa_acc_sd=0.01 hawk_acc=0.9 hawk_acc_sd=0.05 griffin_acc=0.95 griffin_acc_sd=0.01", I, NULL},
    /* chance-level numbers are never compared */
    {"mqar_hawk_weakest", "best=0.06 mqa_acc=0.06 mqa_acc_sd=0.01 hawk_acc=0.01 hawk_acc_sd=0.001 griffin_acc=0.05 griffin_acc_sd=0.01", I, "learned"},
    {"mqar_hawk_weakest", "best=0.4999 mqa_acc=0.4999 mqa_acc_sd=0.01 hawk_acc=0.01 hawk_acc_sd=0.001 griffin_acc=0.4 griffin_acc_sd=0.01", I, "learned"},
    /* one family learned, the other two at chance: Hawk vs MQA would be noise */
    {"mqar_hawk_weakest", "best=0.75 mqa_acc=0.26 mqa_acc_sd=0.005 hawk_acc=0.29 hawk_acc_sd=0.005 griffin_acc=0.75 griffin_acc_sd=0.02", I, "not learned by the families compared"},
    {"mqar_hawk_weakest", "best=0.75 mqa_acc=0.29 mqa_acc_sd=0.005 hawk_acc=0.26 hawk_acc_sd=0.005 griffin_acc=0.75 griffin_acc_sd=0.02", I, "not learned by the families compared"},
    {"mqar_hawk_weakest", "best=0.9 mqa_acc=0.4999 mqa_acc_sd=0.01 hawk_acc=0.2 hawk_acc_sd=0.01 griffin_acc=0.9 griffin_acc_sd=0.01", I, "not learned"},
    {"mqar_hawk_weakest", "best=0.9 mqa_acc=0.5 mqa_acc_sd=0.01 hawk_acc=0.2 hawk_acc_sd=0.01 griffin_acc=0.9 griffin_acc_sd=0.01", R, NULL},
    /* Hawk learned it and MQA did not: Hawk above MQA is a real comparison */
    {"mqar_hawk_weakest", "best=0.9 mqa_acc=0.26 mqa_acc_sd=0.01 hawk_acc=0.5 hawk_acc_sd=0.02 griffin_acc=0.9 griffin_acc_sd=0.01", N, NULL},
    {"mqar_hawk_weakest", "best=0.9 mqa_acc=0.26 mqa_acc_sd=0.01 hawk_acc=0.4999 hawk_acc_sd=0.02 griffin_acc=0.9 griffin_acc_sd=0.01", I, "not learned"},
    /* phonebook_hawk_weakest */
    {"phonebook_hawk_weakest", "best=1 mqa_acc=1 mqa_acc_sd=0 hawk_acc=0.1 hawk_acc_sd=0.05 griffin_acc=0.9 griffin_acc_sd=0.05", R, NULL},
    {"phonebook_hawk_weakest", "best=1 mqa_acc=1 mqa_acc_sd=0 hawk_acc=0.85 hawk_acc_sd=0.05 griffin_acc=0.7 griffin_acc_sd=0.05", N, NULL},
    {"phonebook_hawk_weakest", "best=1 mqa_acc=1 mqa_acc_sd=0 hawk_acc=0.8 hawk_acc_sd=0.05 griffin_acc=0.8 griffin_acc_sd=0.05", I, NULL},
    {"phonebook_hawk_weakest", "best=0 mqa_acc=0 mqa_acc_sd=0 hawk_acc=0 hawk_acc_sd=0 griffin_acc=0 griffin_acc_sd=0", I, "learned"},
    {"phonebook_hawk_weakest", "best=0.8 mqa_acc=0.01 mqa_acc_sd=0.01 hawk_acc=0.05 hawk_acc_sd=0.01 griffin_acc=0.8 griffin_acc_sd=0.05", I, "not learned by the families compared"},
    {"phonebook_hawk_weakest", "best=0.8 mqa_acc=0.01 mqa_acc_sd=0.01 hawk_acc=0.6 hawk_acc_sd=0.05 griffin_acc=0.8 griffin_acc_sd=0.05", N, NULL},
    /* scan_linear_beats_assoc */
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.2 linear_max=0.102 linear_min=0.099 assoc_max=0.21 assoc_min=0.19 validated=1", R, NULL},
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.125 linear_max=0.101 linear_min=0.099 assoc_max=0.13 assoc_min=0.12 validated=1", R, NULL},
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.1249 linear_max=0.101 linear_min=0.099 assoc_max=0.13 assoc_min=0.12 validated=1", I, "1.25"},
    /* noise: the repetitions overlap although the medians are far apart */
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.2 linear_max=0.19 linear_min=0.099 assoc_max=0.21 assoc_min=0.19 validated=1", I, "assoc_min"},
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.2 linear_max=0.102 linear_min=0.099 assoc_max=0.21 assoc_min=0.19 validated=0", I, "validation"},
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.2 linear_max=0.102 linear_min=0.099 assoc_max=0.21 assoc_min=0.19 validated=1 busy=0.2", I, "other processes"},
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.2 linear_max=0.102 linear_min=0.099 assoc_max=0.21 assoc_min=0.19 validated=1 spread=0.06", I, "spread"},
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.08 linear_max=0.102 linear_min=0.099 assoc_max=0.085 assoc_min=0.078 validated=1", N, NULL},
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.1 linear_max=0.102 linear_min=0.099 assoc_max=0.0989 assoc_min=0.098 validated=1", N, NULL},
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.09 linear_max=0.102 linear_min=0.099 assoc_max=0.0991 assoc_min=0.085 validated=1", I, NULL},
    {"scan_linear_beats_assoc", "linear_time=0.1 assoc_time=0.1001 linear_max=0.102 linear_min=0.099 assoc_max=0.0989 assoc_min=0.098 validated=1", I, NULL},
    /* scan_memory_bound */
    {"scan_memory_bound", "frac_copy=0.8 intensity=0.1667 ridge=7 bytes_over_cache=20 validated=1", R, NULL},
    {"scan_memory_bound", "frac_copy=0.5 intensity=0.1667 ridge=7 bytes_over_cache=2 validated=1", R, NULL},
    {"scan_memory_bound", "frac_copy=1.25 intensity=0.1667 ridge=7 bytes_over_cache=20 validated=1", R, NULL},
    {"scan_memory_bound", "frac_copy=0.4999 intensity=0.1667 ridge=7 bytes_over_cache=20 validated=1", I, "frac_copy"},
    {"scan_memory_bound", "frac_copy=1.2501 intensity=0.1667 ridge=7 bytes_over_cache=20 validated=1", I, "frac_copy"},
    {"scan_memory_bound", "frac_copy=0.25 intensity=0.1667 ridge=7 bytes_over_cache=20 validated=1", N, NULL},
    {"scan_memory_bound", "frac_copy=0.2501 intensity=0.1667 ridge=7 bytes_over_cache=20 validated=1", I, NULL},
    {"scan_memory_bound", "frac_copy=0.8 intensity=7 ridge=7 bytes_over_cache=20 validated=1", N, NULL},
    {"scan_memory_bound", "frac_copy=0.8 intensity=0.1667 ridge=7 bytes_over_cache=1.99 validated=1", I, "caches"},
    {"scan_memory_bound", "frac_copy=0.8 intensity=0.1667 ridge=7 bytes_over_cache=20 validated=0", I, "validation"},
    {"scan_memory_bound", "frac_copy=0.8 intensity=0.1667 ridge=7 bytes_over_cache=20 validated=1 busy=0.11", I, "other processes"},
    {"scan_memory_bound", "frac_copy=0.1 intensity=0.1667 ridge=7 bytes_over_cache=20 validated=1 reps=3", I, "fewer than 5"},
};

/* Remove input `name` from v (if present). */
static void unset_input(claim_values *v, const char *name) {
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->names[i], name)) { v->names[i] = v->names[v->n - 1]; v->values[i] = v->values[v->n - 1]; v->n--; return; }
}

/* Parse "a=1 b=2" on top of the defaults into v (names point into a
 * static pool that lives as long as the process). */
static void load(claim_values *v, const char *inputs) {
    static char pool[1 << 16];
    static size_t used;
    claim_values_init(v);
    const char *srcs[2] = {k_defaults, inputs};
    for (int s = 0; s < 2; s++) {
        const char *p = srcs[s];
        while (*p) {
            while (*p == ' ') p++;
            if (!*p) break;
            const char *eq = strchr(p, '=');
            const char *end = strchr(p, ' ');
            if (!end) end = p + strlen(p);
            if (!eq || eq > end) break;
            size_t nl = (size_t)(eq - p);
            if (used + nl + 1 > sizeof pool) used = 0; /* never reached by this table */
            char *name = pool + used;
            memcpy(name, p, nl);
            name[nl] = 0;
            used += nl + 1;
            char val[64];
            snprintf(val, sizeof val, "%.*s", (int)(end - eq - 1), eq + 1);
            if (!strcmp(val, "-")) unset_input(v, name);
            else claim_set(v, name, !strcmp(val, "nan") ? NAN : strtod(val, NULL));
            p = end;
        }
    }
}

static void test_vectors(void) {
    int n = (int)(sizeof k_vecs / sizeof k_vecs[0]);
    for (int i = 0; i < n; i++) {
        const claim_def *c = claims_find(k_vecs[i].id);
        TEST_CHECK(c != NULL, "vector %d names an unknown claim %s", i, k_vecs[i].id);
        if (!c) continue;
        claim_values v;
        load(&v, k_vecs[i].inputs);
        char why[2048];
        claim_verdict got = claims_evaluate(c, &v, why, sizeof why);
        TEST_CHECK(got == k_vecs[i].want, "%s {%s}: %s, want %s (%s)", c->id, k_vecs[i].inputs, claim_verdict_name(got),
                   claim_verdict_name(k_vecs[i].want), why);
        TEST_CHECK(why[0] != 0, "%s: why is empty", c->id);
        TEST_CHECK(!strstr(why, "registry error"), "%s {%s}: %s", c->id, k_vecs[i].inputs, why);
        if (k_vecs[i].why_has)
            TEST_CHECK(strstr(why, k_vecs[i].why_has) != NULL, "%s {%s}: why '%s' lacks '%s'", c->id, k_vecs[i].inputs, why,
                       k_vecs[i].why_has);
    }
}

/* Every claim reaches all three verdicts in the table. */
static void test_symmetry(void) {
    int n = (int)(sizeof k_vecs / sizeof k_vecs[0]);
    for (const claim_def *c = claims_registry; c->id; c++) {
        int seen[3] = {0, 0, 0};
        for (int i = 0; i < n; i++) {
            if (strcmp(k_vecs[i].id, c->id)) continue;
            claim_values v;
            load(&v, k_vecs[i].inputs);
            seen[claims_evaluate(c, &v, NULL, 0)]++;
        }
        TEST_CHECK(seen[0] && seen[1] && seen[2], "%s: driven to reproduced %d, not reproduced %d, inconclusive %d times (each must be > 0)",
                   c->id, seen[0], seen[1], seen[2]);
    }
}

/* The first reproduced vector of a claim (NULL if none). */
static const vec *repro_vec(const claim_def *c) {
    for (size_t i = 0; i < sizeof k_vecs / sizeof k_vecs[0]; i++)
        if (!strcmp(k_vecs[i].id, c->id) && k_vecs[i].want == CLAIM_REPRODUCED) return &k_vecs[i];
    return NULL;
}

static void test_bad_inputs(void) {
    for (const claim_def *c = claims_registry; c->id; c++) {
        const vec *rv = repro_vec(c);
        if (!rv) continue; /* test_symmetry reports it */
        for (int k = 0; k < CLAIM_MAX_INPUTS && c->inputs[k].name; k++) {
            const char *name = c->inputs[k].name;
            const char *kinds[] = {"nan", "inf", "-inf", "range", "missing"};
            for (int q = 0; q < 5; q++) {
                claim_values v;
                load(&v, rv->inputs);
                double x = q == 0 ? NAN : q == 1 ? INFINITY : q == 2 ? -INFINITY : 0;
                if (q == 3) x = c->inputs[k].max * 2 + 1;
                if (q < 4) claim_set(&v, name, x);
                else unset_input(&v, name);
                char why[2048];
                claim_verdict got = claims_evaluate(c, &v, why, sizeof why);
                const char *want_why = q == 0 ? "NaN" : q == 1 ? "+inf" : q == 2 ? "-inf" : q == 3 ? "outside" : "missing";
                TEST_CHECK(got == CLAIM_INCONCLUSIVE && strstr(why, name) && strstr(why, want_why),
                           "%s with %s %s: %s (%s)", c->id, name, kinds[q], claim_verdict_name(got), why);
            }
        }
    }
}

/* Random inputs over each claim's ranges (log-uniform where the range is
 * wide and positive): the two rules never hold at once, and each verdict's
 * rule agrees with the evaluator. */
static void test_exclusive(void) {
    rng_t r;
    rng_seed(&r, 7);
    for (const claim_def *c = claims_registry; c->id; c++) {
        int both = 0, counts[3] = {0, 0, 0};
        for (int it = 0; it < 20000; it++) {
            claim_values v;
            claim_values_init(&v);
            for (int k = 0; k < CLAIM_MAX_INPUTS && c->inputs[k].name; k++) {
                const claim_input *in = &c->inputs[k];
                double u = rng_uniform(&r), x;
                if (!strcmp(in->name, "reps") || !strcmp(in->name, "seeds")) x = 5;
                else if (!strcmp(in->name, "busy") || !strcmp(in->name, "spread")) x = 0.01;
                else if (strstr(in->name, "steps")) x = 2000 * u;
                else if (!strcmp(in->unit, "nats")) x = -1 + 2 * u;
                else if (!strcmp(in->unit, "fraction")) x = u;
                else x = 0.25 * pow(32, u); /* ratios, rates, times: 0.25 .. 8 */
                if (strstr(in->name, "_sd")) x = fabs(x) * 0.2;
                if (x < in->min) x = in->min;
                if (x > in->max) x = in->max;
                claim_set(&v, in->name, x);
            }
            int a = claims_rule_eval(c->reproduced_if, &v, NULL, 0), b = claims_rule_eval(c->not_reproduced_if, &v, NULL, 0);
            if (a == 1 && b == 1) both++;
            counts[claims_evaluate(c, &v, NULL, 0)]++;
        }
        TEST_CHECK(both == 0, "%s: both rules hold for %d of 20000 random inputs", c->id, both);
        if (getenv("GRIFFIN_TEST_VERBOSE"))
            printf("  %-28s random inputs: R %d, NR %d, I %d\n", c->id, counts[0], counts[1], counts[2]);
    }
}

static void test_registry(void) {
    char err[256];
    TEST_CHECK(claims_registry_check(err, sizeof err) == 0, "registry check: %s", err);
    TEST_CHECK(claims_count() >= 12, "registry has %d claims", claims_count());
    char *j = claims_registry_json();
    json *doc = json_parse(j, err, sizeof err);
    TEST_CHECK(doc && doc->type == JSON_ARR && doc->n == claims_count(), "registry JSON is an array of every claim (%s)", doc ? "" : err);
    for (int i = 0; doc && i < doc->n; i++) {
        const json *o = doc->items[i];
        const char *keys[] = {"id", "paper", "statement", "reproduced_if", "not_reproduced_if", "thresholds", "suite"};
        for (int k = 0; k < 7; k++) {
            const json *f = json_get(o, keys[k]);
            TEST_CHECK(f && f->type == JSON_STR && f->str[0], "claim %d: field %s is a non-empty string", i, keys[k]);
        }
        const json *in = json_get(o, "inputs");
        TEST_CHECK(in && in->type == JSON_ARR && in->n > 0, "claim %d: inputs is a non-empty array", i);
        for (int k = 0; in && k < in->n; k++) {
            const json *e = in->items[k];
            TEST_CHECK(json_get(e, "name") && json_get(e, "name")->type == JSON_STR && json_get(e, "unit") &&
                           json_get(e, "unit")->type == JSON_STR && json_get(e, "min") && json_get(e, "min")->type == JSON_NUM &&
                           json_get(e, "max") && json_get(e, "max")->type == JSON_NUM,
                       "claim %d input %d has name, unit, min, max", i, k);
        }
        const json *g = json_get(o, "guards");
        TEST_CHECK(g && g->type == JSON_ARR, "claim %d: guards is an array", i);
    }
    json_free(doc);
    free(j);
    /* the rule record stored with a verdict is valid JSON naming the rules */
    char *rj = claims_rule_json(&claims_registry[0]);
    json *rd = json_parse(rj, err, sizeof err);
    TEST_CHECK(rd && json_get_str(rd, "reproduced_if", NULL) && !strcmp(json_get_str(rd, "reproduced_if", ""), claims_registry[0].reproduced_if),
               "rule JSON carries the rule text");
    json_free(rd);
    free(rj);
    claim_values v;
    load(&v, "mqa_growth=nan hawk_growth=1");
    char *ij = claims_inputs_json(&claims_registry[0], &v);
    TEST_CHECK(strstr(ij, "\"mqa_growth\":null") && strstr(ij, "\"hawk_growth\":1"), "inputs JSON: %s", ij);
    free(ij);
}

static void test_expressions(void) {
    claim_values v;
    claim_values_init(&v);
    claim_set(&v, "a", 2);
    claim_set(&v, "b", 3);
    struct { const char *e; int want; } t[] = {
        {"a < b", 1}, {"a >= b", 0}, {"a + 1 == b", 1}, {"2 * a - 1 == b", 1}, {"a * 2 - 1 == b", 1},
        {"-a < 0", 1}, {"a - b - 1 == -2", 1}, {"a / 4 == 0.5", 1}, {"max(a, b) == 3 && min(a, b) == 2", 1},
        {"abs(a - b) == 1", 1}, {"a > 1 || b > 10 && 0", 1}, {"(a > 1 || b > 10) && 0", 0}, {"!(a > b)", 1},
        {"a != b", 1}, {"1.5e1 > b * 4", 1}, {"a<=2&&b>=3", 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char err[128];
        int r = claims_rule_eval(t[i].e, &v, err, sizeof err);
        TEST_CHECK(r == t[i].want, "'%s' = %d, want %d (%s)", t[i].e, r, t[i].want, err);
    }
    const char *bad[] = {"a <", "c > 1", "max(a)", "(a > 1", "a > 1 )", "a >> 1", "foo(a, b)", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128];
        TEST_CHECK(claims_rule_eval(bad[i], &v, err, sizeof err) == -1 && err[0], "'%s' is an error", bad[i]);
    }
}

int main(void) {
    test_expressions();
    test_registry();
    test_vectors();
    test_symmetry();
    test_bad_inputs();
    test_exclusive();
    return test_summary();
}
