/* busy.c — see busy.h. */
#include "busy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int read_stat(unsigned long long t[10]) {
    memset(t, 0, 10 * sizeof *t);
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    char line[512];
    int ok = 0;
    if (fgets(line, sizeof line, f) && !strncmp(line, "cpu ", 4))
        ok = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &t[0], &t[1], &t[2], &t[3], &t[4],
                    &t[5], &t[6], &t[7], &t[8], &t[9]) >= 8;
    fclose(f);
    return ok;
}

static double own_cpu_seconds(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

void busy_begin(busy_mark *m) {
    m->have_stat = read_stat(m->ticks);
    m->own_cpu = own_cpu_seconds();
    m->wall = util_now();
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

busy_result busy_end(const busy_mark *m) {
    busy_result r = {0};
    unsigned long long t[10];
    int have = read_stat(t);
    double own = own_cpu_seconds() - m->own_cpu;
    r.wall = util_now() - m->wall;
    if (!have || !m->have_stat) return r;
    /* user nice system idle iowait irq softirq steal (guest is inside user) */
    double d[8], total = 0;
    for (int i = 0; i < 8; i++) {
        d[i] = t[i] >= m->ticks[i] ? (double)(t[i] - m->ticks[i]) : 0;
        total += d[i];
    }
    if (total <= 0) return r;
    double hz = (double)sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
    double idle = d[3] + d[4], steal = d[7];
    double nonidle = total - idle - steal;           /* ticks some process ran */
    double own_ticks = own * hz;
    double other_ticks = nonidle - own_ticks;        /* tick sampling: may dip below 0 */
    r.cpu_s = total / hz;
    r.others_s = other_ticks / hz;                   /* signed: sums of many short intervals cancel the rounding */
    r.steal_s = steal / hz;
    if (r.wall < BUSY_MIN_SECONDS) return r;
    r.ok = 1;
    r.steal = clamp01(steal / total);
    r.own = clamp01(own_ticks / total);
    r.idle = clamp01(idle / total);
    r.others = clamp01((other_ticks > 0 ? other_ticks : 0) / total + r.steal);
    return r;
}

busy_result busy_sample(double seconds) {
    busy_mark m;
    busy_begin(&m);
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {}
    return busy_end(&m);
}

double busy_fraction(double cpu_s, double others_s, double steal_s) {
    if (!(cpu_s > 0)) return NAN;
    return clamp01(((others_s > 0 ? others_s : 0) + (steal_s > 0 ? steal_s : 0)) / cpu_s);
}
