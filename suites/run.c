/* run.c — `griffin run SUITE|all --preset smoke|cpu|paper`: drives the
 * experiment suites, records each as a run in the results store, draws its
 * figures and prints the paper's claims beside what this run measured. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "busy.h"
#include "comm.h"
#include "commands.h"
#include "flags.h"
#include "matmul.h"
#include "store.h"
#include "suite.h"
#include "util.h"

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

typedef struct {
    const char *name;
    suite_fn fn;
    const char *figures; /* space-separated figure names for griffin plot */
    const char *about;
    double minutes[3];   /* rough expected minutes on 2 cores: smoke, cpu, paper */
    int distributed;     /* runs under --ranks (trains data parallel); the timing suites time one process */
} suite_def;

static const suite_def k_suites[] = {
    {"throughput", suite_throughput, "fig3_train_step fig1b_decode_throughput", "training step time vs T (Fig. 3); decode throughput (Fig. 1b)", {0.5, 5, 600}},
    {"latency", suite_latency, "fig4_latency fig4b_decode_model", "decode latency with empty/long prompt (Fig. 4); decode-step memory model (§5.1)", {0.3, 4, 300}},
    {"longctx", suite_longctx, "fig5_longctx", "loss by position beyond the training length (Fig. 5)", {0.5, 18, 6000}, 1},
    {"copyret", suite_copyret, "fig6_copyret", "selective copying, induction heads, phonebook and MQAR (Fig. 6)", {0.7, 20, 600}, 1},
    {"kernels", suite_kernels, "scan attention roofline", "kernel variants: RG-LRU scans, local attention, GEMMs against the measured limits (App. D)", {0.1, 2, 10}},
    {NULL, NULL, NULL, NULL, {0, 0, 0}},
};

static int render(const char *db, const char *fig, store_id run, const char *out) {
    char *av[12], rs[32];
    int n = 0;
    av[n++] = "plot";
    av[n++] = (char *)fig;
    if (out) { av[n++] = "--out"; av[n++] = (char *)out; }
    if (db) { av[n++] = "--db"; av[n++] = (char *)db; }
    snprintf(rs, sizeof rs, "%lld", run);
    av[n++] = "--run";
    av[n++] = rs;
    av[n] = NULL;
    fflush(stdout);
    return cmd_plot(n, av);
}

/* The claims table: each judged claim with what was measured, the verdict
 * and why (the rule that decided it, or the reason it is inconclusive);
 * `griffin claims` prints the rules themselves. */
static void print_claims(const suite_ctx *all) {
    printf("\n%-28s | %-15s | %s\n", "claim (griffin claims)", "verdict", "this run / why");
    for (int i = 0; i < 110; i++) putchar('-');
    putchar('\n');
    for (int k = 0; k < all->nclaims; k++) {
        const suite_claim_row *r = &all->claim[k];
        const char *w = strchr(r->statement, '[');
        printf("%-28.28s | %-15s | %s%s%.*s\n", r->id, r->verdict, r->measured, w ? " " : "", w ? (int)strcspn(w, "]") + 1 : 0, w ? w : "");
        printf("%-28s | %-15s |   %s\n", "", "", r->why);
    }
}

int cmd_run(int argc, char **argv) {
    const char *scale = "cpu", *families = "mqa,hawk,griffin", *db = NULL, *corpus = NULL, *plots_out = NULL, *device = "cpu";
    int threads = 0, reps = 0, no_plot = 0, quiet = 0, yes = 0, no_db = 0, ranks = 0;
    double comm_timeout = 300;
    long long seed = 0;
    double mem_mb = 0;
    flag_def defs[] = {
        {"preset", FLAG_STR, &scale, "cpu", "scale: smoke (CI, minutes), cpu (every figure in about an hour on 2 cores), paper (Appendix C sizes)"},
        {"families", FLAG_STR, &families, "mqa,hawk,griffin", "families to run"},
        {"threads", FLAG_INT, &threads, "0", "threads (0 = all cores)", "[0,4096]"},
        {"reps", FLAG_INT, &reps, "0", "timed repetitions per case (0 = the preset's: smoke 3, cpu 5, paper 5)", "[0,100000]"},
        {"seed", FLAG_LONG, &seed, "0", "seed for models, data and tasks"},
        {"mem-budget", FLAG_FLOAT, &mem_mb, "0", "MiB for decode caches in the throughput suite (0 = the preset's)", "[0,16777216]"},
        {"corpus", FLAG_STR, &corpus, NULL, "text corpus folder (longctx; default data/corpus, smoke: /usr/share/common-licenses)"},
        {"db", FLAG_STR, &db, NULL, "results database (default results/griffin.sqlite or $GRIFFIN_DB)"},
        {"no-db", FLAG_BOOL, &no_db, "0", "run without recording (prints the summary only)"},
        {"plots-out", FLAG_STR, &plots_out, NULL, "folder for the rendered figures (default plots/out)"},
        {"no-plot", FLAG_BOOL, &no_plot, "0", "do not render figures"},
        {"yes", FLAG_BOOL, &yes, "0", "do not ask before a long paper-scale run"},
        {"quiet", FLAG_BOOL, &quiet, "0", "no progress output"},
        {"device", FLAG_STR, &device, "cpu", "cpu | cuda: where the models run (cuda: every suite but kernels; one process, no --ranks)"},
        {"ranks", FLAG_INT, &ranks, "0", "train longctx/copyret data parallel over N ranks: relaunches under mpirun "
                                         "(extra mpirun options from $GRIFFIN_MPIRUN_ARGS; 0 = as launched)", "[0,65536]"},
        {"comm-timeout", FLAG_FLOAT, &comm_timeout, "300", "under --ranks: seconds a rank waits for another before the job is aborted", "(0,1e6]"},
        {NULL}};
    char *pos[8];
    int np, rc = flags_parse(defs, argc, argv, pos, 8, &np, "griffin run SUITE|all [--preset smoke|cpu|paper] [flags]",
                             "Run experiment suites: throughput, latency, longctx, copyret, kernels (or all).\n"
                             "Each records machine, build, argv, seed, raw repetitions and curves in the results\n"
                             "database, renders its figures into plots/out and prints the paper's claims beside\n"
                             "what this run measured, with a verdict. Ctrl-C keeps the finished cases.\n"
                             "--ranks N (or mpirun -np N / srun): longctx and copyret train each model data\n"
                             "parallel over N ranks; rank 0 alone writes (README: multi-rank training).");
    if (rc >= 0) return rc;
    if (np < 1) { fprintf(stderr, "error: name a suite (throughput, latency, longctx, copyret, kernels) or all\n"); return 2; }
    suite_scale sc;
    if (!strcmp(scale, "smoke")) sc = SCALE_SMOKE;
    else if (!strcmp(scale, "cpu")) sc = SCALE_CPU;
    else if (!strcmp(scale, "paper")) sc = SCALE_PAPER;
    else { fprintf(stderr, "error: --preset must be smoke, cpu or paper\n"); return 2; }
    int fam[3] = {0, 0, 0};
    {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", families);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
            model_family f;
            if (family_parse(t, &f)) { fprintf(stderr, "error: unknown family '%s' in --families\n", t); return 2; }
            fam[f] = 1;
        }
    }
    const suite_def *chosen[8];
    int nch = 0;
    for (int i = 0; i < np; i++) {
        if (!strcmp(pos[i], "all")) {
            for (const suite_def *s = k_suites; s->name; s++) chosen[nch++] = s;
            break;
        }
        const suite_def *found = NULL;
        for (const suite_def *s = k_suites; s->name; s++)
            if (!strcmp(s->name, pos[i])) found = s;
        if (!found) { fprintf(stderr, "error: unknown suite '%s' (throughput, latency, longctx, copyret, kernels, all)\n", pos[i]); return 2; }
        if (nch < 8) chosen[nch++] = found;
    }
    const int nr0 = ranks > 0 ? ranks : comm_launched_size();
    if (nr0 > 1 && device && strcmp(device, "cpu")) {
        fprintf(stderr, "error: --ranks %d with --device %s: data-parallel training reduces the gradients in host memory on the cpu "
                        "backend only; on a device run one process (one device) without --ranks\n", nr0, device);
        return 2;
    }
    const backend *dev[8];
    for (int i = 0; i < nch; i++)
        if (suite_device_open(device, chosen[i]->name, &dev[i]) != 0) return 2;
    double est = 0;
    for (int i = 0; i < nch; i++) est += chosen[i]->minutes[sc];
    if (sc == SCALE_PAPER && !yes) {
        fprintf(stderr, "--preset paper trains and decodes the Appendix C sizes on this CPU: that is about %.0f hours.\n"
                        "Re-run with --yes to go ahead (a GPU backend is the intended home of this scale).\n", est / 60);
        return 2;
    }
    /* ranks: --ranks N started by hand relaunches under mpirun; started by a
     * launcher (mpirun, srun, or that relaunch) every rank joins */
    const int launched = comm_launched_size(), nranks = ranks > 0 ? ranks : launched;
    for (int i = 0; i < nch && nranks > 1; i++)
        if (!chosen[i]->distributed) {
            fprintf(stderr, "error: %s is not distributed (it times one process): run it without --ranks or mpirun\n", chosen[i]->name);
            return 2;
        }
    if (nranks > 1 && launched == 1) {
        comm_mpirun(nranks, argv, argc);
        fprintf(stderr, "error: %s\n", util_last_error());
        return 2;
    }
    if (ranks > 0 && launched != ranks) {
        fprintf(stderr, "error: --ranks %d, but the launcher started %d ranks\n", ranks, launched);
        return 2;
    }
    comm *cm = NULL;
    if (launched > 1) {
        comm_options co = {"mpi", comm_timeout, 0};
        if (comm_open(&cm, &co) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 2; }
        if (comm_rank(cm) != 0) { quiet = 1; no_db = 1; no_plot = 1; } /* rank 0 alone writes and prints */
    }
    if (!quiet) fprintf(stderr, "griffin run: %d suite(s) at --preset %s, expected about %.0f minute%s on a 2-core CPU\n", nch, scale,
                        est < 1 ? 1 : est, est < 1.5 ? "" : "s");
    util_set_threads(threads);
    if (cm && threads == 0) util_set_threads(util_threads() / comm_local_size() > 0 ? util_threads() / comm_local_size() : 1);
    blas_set_threads(util_threads());
    if (!no_db) {
        /* a timing taken now would be stored as measured under interference
         * and not judged by the regression check: say so before starting */
        busy_result b = busy_sample(0.5);
        if (b.ok && b.others > BUSY_JUDGE_MAX)
            fprintf(stderr, "warning: the machine is already busy: other processes take %.0f%% of the CPU (limit %.0f%%); "
                            "timings taken now are recorded with that and the regression check will not judge them\n",
                    100 * b.others, 100 * BUSY_JUDGE_MAX);
    }
    store *st = NULL;
    int bad = !no_db && store_open(&st, db) != 0;
    if (bad) fprintf(stderr, "error: %s\n", util_last_error());
    if (comm_any(cm, bad)) { comm_close(cm); return 2; }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int tty = isatty(2);
    int failed = 0;
    suite_ctx all_claims = {0};
    for (int i = 0; i < nch && !comm_any(cm, g_stop); i++) {
        suite_ctx c;
        memset(&c, 0, sizeof c);
        c.suite = chosen[i]->name;
        c.scale = sc;
        c.scale_name = scale;
        memcpy(c.fam, fam, sizeof fam);
        c.threads = util_threads();
        c.reps = reps > 0 ? reps : (sc == SCALE_SMOKE ? 3 : 5);
        c.seed = (uint64_t)seed;
        c.mem_budget = mem_mb > 0 ? mem_mb * (1 << 20) : (sc == SCALE_SMOKE ? 2.0 : sc == SCALE_CPU ? 768.0 : 16384.0) * (1 << 20);
        c.corpus = corpus ? corpus : (sc == SCALE_SMOKE ? "/usr/share/common-licenses" : "data/corpus");
        c.quiet = quiet;
        c.tty = tty && !quiet;
        c.db = st;
        c.stop = &g_stop;
        c.be = dev[i];
        c.comm = cm;
        bad = st && store_run_begin(st, c.suite, scale, argc, argv, (unsigned long long)seed, &c.run) != 0;
        if (bad) fprintf(stderr, "error: %s\n", util_last_error());
        if (comm_any(cm, bad)) {
            failed = 1;
            break;
        }
        double t0 = util_now();
        if (!quiet) fprintf(stderr, "== %s: %s\n", c.suite, chosen[i]->about);
        int src = chosen[i]->fn(&c);
        suite_progress_done(&c);
        if (g_stop) src = 130;
        if (src == 0 && c.store_errors) {
            fprintf(stderr, "error: %s: %d write(s) to the results store failed (above); the run is marked failed\n", c.suite, c.store_errors);
            src = 1;
        }
        if (st && store_run_end(st, c.run, src == 0 ? "ok" : src == 130 ? "interrupted" : "failed") != 0) {
            fprintf(stderr, "error: %s\n", util_last_error());
            if (src == 0) src = 1;
        }
        if (!quiet) fprintf(stderr, "== %s %s in %.1f s\n", c.suite, src == 0 ? "done" : src == 130 ? "interrupted" : "FAILED", util_now() - t0);
        if (src != 0) failed = src == 130 ? 130 : 1;
        for (int k = 0; k < c.nclaims && all_claims.nclaims < SUITE_MAX_CLAIMS; k++) all_claims.claim[all_claims.nclaims++] = c.claim[k];
        if (st && !no_plot && src != 130) {
            char figs[256];
            snprintf(figs, sizeof figs, "%s", chosen[i]->figures);
            for (char *f = strtok(figs, " "); f; f = strtok(NULL, " "))
                if (render(db, f, c.run, plots_out) != 0) fprintf(stderr, "warning: figure %s not rendered\n", f);
        }
    }
    if (st) store_close(st);
    if (!cm || comm_rank(cm) == 0) {
        print_claims(&all_claims);
        if (sc == SCALE_SMOKE) printf("(smoke models are too small to reproduce the paper's claims: verdicts are informative only)\n");
    }
    comm_close(cm);
    return failed;
}
