/* ab_busy.c — run one command and say how much of the machine other
 * processes took meanwhile (kernels/busy.h), for scripts/ab-speed.sh.
 *
 *   ab_busy CMD [ARGS...]
 *
 * Runs CMD with its stdout and stderr untouched, waits for it, then prints
 * one line to stderr:
 *   ab_busy: wall=SECONDS others=FRACTION steal=FRACTION rc=STATUS
 * others is busy_fraction() over the interval with CMD's own CPU time
 * (its user + system seconds, from RUSAGE_CHILDREN) taken out, so it is what
 * processes other than CMD (and the hypervisor's steal) took, as a fraction
 * of all CPUs over the wall time. Exit status: CMD's; 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "busy.h"

static double children_cpu(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0) return 0;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout, "usage: ab_busy CMD [ARGS...]\n"
                "Runs CMD and prints 'ab_busy: wall= others= steal= rc=' to stderr: the fraction of\n"
                "the machine other processes (steal included) took while CMD ran.\n");
        return argc < 2 ? 2 : 0;
    }
    double c0 = children_cpu();
    busy_mark mk;
    busy_begin(&mk);
    pid_t pid = fork();
    if (pid < 0) { perror("ab_busy: fork"); return 2; }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "ab_busy: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {}
    busy_result r = busy_end(&mk);
    double child = children_cpu() - c0;
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    double others = busy_fraction(r.cpu_s, r.others_s - child, r.steal_s);
    double steal = r.cpu_s > 0 ? r.steal_s / r.cpu_s : -1;
    fprintf(stderr, "ab_busy: wall=%.3f others=%.4f steal=%.4f rc=%d\n", r.wall, others, steal, rc);
    return rc;
}
