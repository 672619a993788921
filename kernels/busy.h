/* busy.h — how much of the machine other processes took while we measured.
 *
 * A timing taken while another process held a core is not a measurement of
 * this code. Every timed case brackets its timed region with busy_begin /
 * busy_end; the result says what fraction of all CPU time in the interval
 * went to other processes (from /proc/stat's non-idle time minus this
 * process's own CPU time from getrusage), and how much the hypervisor stole
 * (the steal column on VMs).
 *
 *   busy_mark mk; busy_begin(&mk);
 *   ... timed work ...
 *   busy_result r = busy_end(&mk);   // r.others: 0.0 .. 1.0 of all CPUs
 *
 * Fractions are of the whole machine (all online CPUs over the wall time).
 * /proc/stat counts in clock ticks (usually 10 ms): intervals shorter than
 * BUSY_MIN_SECONDS are reported with ok = 0 (too short to tell), but their
 * raw CPU-seconds (cpu_s, others_s, steal_s) are still filled so that a
 * caller timing many short intervals (griffin-bench: one per repetition)
 * can add them up and divide once (busy_fraction). Without /proc/stat (not
 * Linux) ok is 0 and the raw fields are 0. Never fails.
 *
 * BUSY_JUDGE_MAX is the interference above which a timing is not judged
 * (the regression check's --busy-max default; `griffin run` warns above
 * it). How it was fixed: README "Interference".
 */
#ifndef GRIFFIN_BUSY_H
#define GRIFFIN_BUSY_H

#ifdef __cplusplus
extern "C" {
#endif

#define BUSY_MIN_SECONDS 0.2
#define BUSY_JUDGE_MAX 0.03

typedef struct {
    double wall;         /* util_now() at the start */
    double own_cpu;      /* this process's user + system seconds at the start */
    unsigned long long ticks[10]; /* the /proc/stat "cpu" line */
    int have_stat;
} busy_mark;

typedef struct {
    int ok;              /* 1 when the interval was long enough and /proc/stat readable */
    double wall;         /* seconds */
    double others;       /* fraction of all CPU time used by other processes, steal included */
    double steal;        /* fraction stolen by the hypervisor (part of `others`) */
    double own;          /* fraction used by this process */
    double idle;         /* fraction idle */
    /* raw CPU-seconds of the interval (filled whenever /proc/stat is readable,
     * even when ok = 0): all CPUs x wall, used by others (may be slightly
     * negative: tick sampling), stolen by the hypervisor */
    double cpu_s, others_s, steal_s;
} busy_result;

void busy_begin(busy_mark *m);
busy_result busy_end(const busy_mark *m);
/* Sample the machine for `seconds` (sleeping): what others take right now. */
busy_result busy_sample(double seconds);
/* The fraction of the machine others took over intervals whose raw
 * CPU-seconds were summed: (max(0, others_s) + steal_s) / cpu_s, clamped to
 * [0, 1]; NaN when cpu_s <= 0. */
double busy_fraction(double cpu_s, double others_s, double steal_s);

#ifdef __cplusplus
}
#endif
#endif
