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
 * BUSY_MIN_SECONDS are reported with ok = 0 (too short to tell). Without
 * /proc/stat (not Linux) ok is 0 too. Never fails.
 */
#ifndef GRIFFIN_BUSY_H
#define GRIFFIN_BUSY_H

#ifdef __cplusplus
extern "C" {
#endif

#define BUSY_MIN_SECONDS 0.2

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
} busy_result;

void busy_begin(busy_mark *m);
busy_result busy_end(const busy_mark *m);
/* Sample the machine for `seconds` (sleeping): what others take right now. */
busy_result busy_sample(double seconds);

#ifdef __cplusplus
}
#endif
#endif
