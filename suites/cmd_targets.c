/* cmd_targets.c — `griffin targets FILE...`: issue 13's speed targets judged
 * over the rounds that `griffin bench-model --record FILE` appended
 * (suites/targets.h has the targets and the verdict rule).
 *
 *   scripts/targets.sh --rounds 3 --out /tmp/t.tsv    # runs the rounds, then this
 *   griffin targets /tmp/t.tsv
 *   griffin targets --rules
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "busy.h"
#include "commands.h"
#include "flags.h"
#include "suite.h"
#include "targets.h"
#include "util.h"

typedef struct {
    target_row key; /* the first row of the cell */
    const target_rule *rule;
    double *v, *busy;
    int n, cap;
} cell;

static int same_cell(const target_row *a, const target_row *b) {
    return !strcmp(a->commit, b->commit) && !strcmp(a->preset, b->preset) && !strcmp(a->weights, b->weights) &&
           !strcmp(a->kase, b->kase) && a->batch == b->batch && a->tokens == b->tokens && a->threads == b->threads && !strcmp(a->omp, b->omp);
}

static void print_rules(void) {
    printf("issue 13's targets (limits measured in the same run as the case):\n"
           "  decode B=1,  *-400m / *-1b:   step <= 1.15x the memory limit (weight + state bytes / read bandwidth)\n"
           "    read bandwidth: of the weights themselves, in passes between the timed repetitions (wread_gbs);\n"
           "    a row without it (format v1) uses the roofline probe's array (read_gbs)\n"
           "  decode B=16, *-400m / *-1b:   step <= 1.5x the larger of the memory and compute limits\n"
           "  decode B=64, *-400m / *-1b:   compute limit / step >= 65%% (FLOPs / sgemm rate)\n"
           "  prefill T >= 1024, *-400m / *-1b: >= 75%% of the sgemm rate\n"
           "  prefill T >= 1024, small-*:   >= 70%% of the sgemm rate\n"
           "  train   T >= 1024, small-*:   >= 55%% of the sgemm rate\n"
           "verdict of a cell over its rounds: rounds with interference above --busy-max (or not measured, or a\n"
           "non-finite value) are not judged; fewer than --min-rounds judged rounds: inconclusive; met when every\n"
           "judged round meets the target, missed when none does, otherwise inconclusive (the noise straddles it).\n");
}

int cmd_targets(int argc, char **argv) {
    int min_rounds = TARGETS_MIN_ROUNDS, fail_on_miss = 0, rules = 0;
    double busy_max = BUSY_JUDGE_MAX;
    flag_def defs[] = {
        {"min-rounds", FLAG_INT, &min_rounds, "3", "judged rounds a verdict needs", "[1,100000]"},
        {"busy-max", FLAG_FLOAT, &busy_max, "0.03", "interference above which a round is not judged", "[0,1]"},
        {"fail-on-miss", FLAG_BOOL, &fail_on_miss, "0", "exit 1 when any cell is missed"},
        {"rules", FLAG_BOOL, &rules, "0", "print the targets and the verdict rule, then exit"},
        {NULL}};
    char *pos[64];
    int np, rc = flags_parse(defs, argc, argv, pos, 64, &np, "griffin targets FILE... | --rules",
                             "Judge issue 13's speed targets over the rounds `griffin bench-model --record FILE` appended\n"
                             "(scripts/targets.sh runs the rounds). Each cell (preset, weights, case, batch, tokens,\n"
                             "threads, OpenMP wait setting, build) gets met, missed or inconclusive, with the reason. Exit 0 when every file\n"
                             "was read (1 with --fail-on-miss and a missed cell), 2 on a bad file.");
    if (rc >= 0) return rc;
    if (rules) {
        print_rules();
        return 0;
    }
    if (np < 1) {
        fprintf(stderr, "error: no record file given (griffin targets FILE...; griffin targets --help)\n");
        return 2;
    }
    cell *cells = NULL;
    int nc = 0, ccap = 0, rows = 0, nwread = 0, nprobe = 0;
    char line[2048], err[256];
    for (int i = 0; i < np; i++) {
        FILE *f = fopen(pos[i], "r");
        if (!f) {
            fprintf(stderr, "error: cannot read %s\n", pos[i]);
            return 2;
        }
        int ln = 0;
        while (fgets(line, sizeof line, f)) {
            ln++;
            if (line[0] == '#' || line[0] == '\n') continue;
            target_row x;
            if (target_parse_line(line, &x, err, sizeof err) != 0) {
                fprintf(stderr, "error: %s:%d: %s\n", pos[i], ln, err);
                fclose(f);
                return 2;
            }
            rows++;
            int c = 0;
            while (c < nc && !same_cell(&cells[c].key, &x)) c++;
            if (c == nc) {
                if (nc == ccap) {
                    ccap = ccap ? 2 * ccap : 16;
                    cells = realloc(cells, (size_t)ccap * sizeof *cells);
                    CHECK_ALLOC(cells);
                }
                memset(&cells[nc], 0, sizeof *cells);
                cells[nc].key = x;
                cells[nc].rule = target_rule_for(x.preset, x.kase, x.batch, x.tokens);
                nc++;
            }
            cell *k = &cells[c];
            if (k->n == k->cap) {
                k->cap = k->cap ? 2 * k->cap : 8;
                k->v = realloc(k->v, (size_t)k->cap * sizeof(double));
                k->busy = realloc(k->busy, (size_t)k->cap * sizeof(double));
                CHECK_ALLOC(k->v);
                CHECK_ALLOC(k->busy);
            }
            k->v[k->n] = k->rule ? target_value(k->rule, &x) : NAN;
            if (k->rule && k->rule->metric != TM_CMP_FRAC) { if (target_uses_wread(&x)) nwread++; else nprobe++; }
            k->busy[k->n] = x.busy;
            k->n++;
        }
        int bad = ferror(f);
        fclose(f);
        if (bad) {
            fprintf(stderr, "error: reading %s failed\n", pos[i]);
            return 2;
        }
    }
    if (rows == 0) {
        fprintf(stderr, "error: no rounds in %s%s (record them with griffin bench-model --record FILE)\n", pos[0],
                np > 1 ? " and the other files" : "");
        return 2;
    }
    int nmet = 0, nmiss = 0, ninc = 0, nnone = 0;
    int momp = 0; /* more than one OpenMP setting: show it */
    for (int c = 1; c < nc; c++) momp |= strcmp(cells[c].key.omp, cells[0].key.omp) != 0;
    if (!momp && nc) printf("OpenMP wait setting of every round: %s\n", cells[0].key.omp);
    printf("%-14s %-5s %-16s %-13s %s%-32s %-6s %-28s %s\n", "preset", "wts", "case", "build", momp ? "omp                   " : "",
           "target", "rounds", "values (median)", "verdict");
    for (int c = 0; c < nc; c++) {
        cell *k = &cells[c];
        if (!k->rule) { nnone++; continue; }
        char cs[40], vals[160] = "", one[24], why[320];
        if (!strcmp(k->key.kase, "decode")) snprintf(cs, sizeof cs, "decode B=%d", k->key.batch);
        else snprintf(cs, sizeof cs, "%s B=%d T=%d", k->key.kase, k->key.batch, k->key.tokens);
        size_t at = 0;
        for (int r = 0; r < k->n && at + 24 < sizeof vals; r++) {
            target_format(k->rule, k->v[r], one, sizeof one);
            int busy = !(k->busy[r] <= busy_max);
            at += (size_t)snprintf(vals + at, sizeof vals - at, "%s%s%s", r ? " " : "", one, busy ? "*" : "");
        }
        double *tmp = malloc((size_t)k->n * sizeof(double));
        CHECK_ALLOC(tmp);
        int nf = 0;
        for (int r = 0; r < k->n; r++)
            if (isfinite(k->v[r]) && k->busy[r] <= busy_max) tmp[nf++] = k->v[r];
        double med = nf ? suite_median(tmp, nf) : NAN;
        free(tmp);
        target_format(k->rule, med, one, sizeof one);
        char vm[200];
        snprintf(vm, sizeof vm, "%s (%s)", vals, one);
        target_verdict v = target_judge(k->rule, k->v, k->busy, k->n, min_rounds, busy_max, why, sizeof why);
        nmet += v == TV_MET;
        nmiss += v == TV_MISSED;
        ninc += v == TV_INCONCLUSIVE;
        char om[64] = "";
        if (momp) snprintf(om, sizeof om, "%-21.21s ", k->key.omp);
        printf("%-14s %-5s %-16s %-13.13s %s%-32s %-6d %-28s %s: %s\n", k->key.preset, k->key.weights, cs, k->key.commit, om,
               k->rule->text, k->n, vm, target_verdict_name(v), why);
    }
    printf("(* = not judged: interference above %.0f%% or not measured)\n", 100 * busy_max);
    if (nwread + nprobe)
        printf("memory limits: %d round%s at the weights' own read rate, %d at the probe array's (rows without wread_gbs)\n",
               nwread, nwread == 1 ? "" : "s", nprobe);
    if (nnone) printf("%d recorded cell%s with no target in issue 13 (other presets, batches or lengths): not judged\n", nnone,
                      nnone == 1 ? "" : "s");
    printf("%d met, %d missed, %d inconclusive\n", nmet, nmiss, ninc);
    for (int c = 0; c < nc; c++) {
        free(cells[c].v);
        free(cells[c].busy);
    }
    free(cells);
    return fail_on_miss && nmiss ? 1 : 0;
}
