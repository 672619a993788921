/* cmd_model.c — `griffin info | models | init | generate | forward`. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "commands.h"
#include "machine.h"
#include "gpu.h"
#include "matmul.h"
#include "modelargs.h"
#include "npy.h"
#include "util.h"

static const char *yesno(int x) { return x ? "yes" : "no"; }

int cmd_info(int argc, char **argv) {
    int threads = 0, json = 0;
    flag_def defs[] = {
        {"threads", FLAG_INT, &threads, "0", "threads to report (0 = all cores)", "[0,4096]"},
        {"json", FLAG_BOOL, &json, "0", "print the machine record as JSON"},
        {NULL}};
    char *pos[1];
    int np, rc = flags_parse(defs, argc, argv, pos, 0, &np, "griffin info [--threads N] [--json]",
                             "Machine, BLAS core and config, threads and the features this build has.");
    if (rc >= 0) return rc;
    util_set_threads(threads);
    blas_set_threads(util_threads());
    machine_info m;
    machine_collect(&m);
    if (json) {
        char *j = machine_json(&m);
        printf("%s\n", j);
        free(j);
        return 0;
    }
    printf("machine      %s\n", m.hostname);
    printf("cpu          %s (%d logical cores, SIMD: %s)\n", m.cpu_model, m.cores, m.simd);
    printf("memory       %.1f GiB\n", (double)m.mem_bytes / (1 << 30));
    printf("os           %s\n", m.os);
    printf("compiler     %s\n", m.compiler);
    printf("blas         %s core, %s\n", m.blas_core, m.blas_config);
    printf("openblas env %s\n", m.openblas_env[0] ? m.openblas_env : "(none)");
    printf("openmp env   %s\n", m.omp_env[0] ? m.omp_env : "(none: libgomp defaults)");
    if (!strcmp(m.blas_core, "Prescott") && strstr(m.simd, "avx")) {
        printf("note         OpenBLAS chose its generic Prescott kernels on a CPU with %s: its sgemm is several\n"
               "             times slower than it could be. The model uses the project's own GEMM (gemm %s).\n",
               strstr(m.simd, "avx512f") ? "AVX-512" : "AVX2", gemm_variant_resolved());
    }
    printf("gpu          %s\n", m.gpu[0] ? m.gpu : "(none)");
    printf("threads      %d\n", util_threads());
    printf("fingerprint  %s\n", m.fingerprint);
    printf("build        commit %s%s, flags %s\n", build_commit(), build_dirty() ? " (dirty)" : "", build_flags());
#ifdef _OPENMP
    int omp = 1;
#else
    int omp = 0;
#endif
#ifdef HAVE_OPENBLAS
    int blas = 1;
#else
    int blas = 0;
#endif
#ifdef HAVE_SQLITE
    int sq = 1;
#else
    int sq = 0;
#endif
#ifdef HAVE_CUDA
    int cu = 1;
#else
    int cu = 0;
#endif
    printf("features     openmp %s, openblas %s, sqlite %s, cuda %s\n", yesno(omp), yesno(blas), yesno(sq), yesno(cu));
    printf("variants     rglru:");
    for (const rglru_variant *v = rglru_variants; v->name; v++) printf(" %s", v->name);
    printf("; attention:");
    for (const attn_variant *v = attn_variants; v->name; v++) printf(" %s", v->name);
    printf("; gemm: %s (bf16-dp %s)\n", gemm_variants_list(), gemm_bf16_dp_available() ? "built" : "not built: no avx512_bf16 target");
    return 0;
}

static void human(char *buf, size_t n, double x) {
    if (x >= 1e9) snprintf(buf, n, "%.3fB", x / 1e9);
    else if (x >= 1e6) snprintf(buf, n, "%.1fM", x / 1e6);
    else if (x >= 1e3) snprintf(buf, n, "%.1fK", x / 1e3);
    else snprintf(buf, n, "%.0f", x);
}

static void human_bytes(char *buf, size_t n, double x) {
    if (x >= 1 << 30) snprintf(buf, n, "%.2f GiB", x / (1 << 30));
    else if (x >= 1 << 20) snprintf(buf, n, "%.2f MiB", x / (1 << 20));
    else if (x >= 1 << 10) snprintf(buf, n, "%.1f KiB", x / (1 << 10));
    else snprintf(buf, n, "%.0f B", x);
}

int cmd_models(int argc, char **argv) {
    int len = 4096, exact = 0;
    flag_def defs[] = {
        {"len", FLAG_INT, &len, "4096", "sequence length for the KV-cache columns", "[1,1073741824]"},
        {"exact", FLAG_BOOL, &exact, "0", "print exact parameter counts"},
        {NULL}};
    char *pos[1];
    int np, rc = flags_parse(defs, argc, argv, pos, 0, &np, "griffin models [--len N] [--exact]",
                             "Every preset with its parameter counts (total and non-embedding) and the decode\n"
                             "state per sequence in fp32: RG-LRU h + conv state, local-attention KV ring\n"
                             "(W slots), global-attention KV at --len tokens.");
    if (rc >= 0) return rc;
    if (len < 1) { fprintf(stderr, "error: --len must be >= 1\n"); return 2; }
    printf("%-20s %-8s %5s %3s %3s %5s %5s %-8s %10s %10s %11s %11s %11s\n", "preset", "family", "D", "N", "H",
           "D_RNN", "W", "pattern", "params", "non-embed", "rec state", "local KV", "global KV");
    for (int i = 0; i < config_npresets(); i++) {
        const char *name = config_preset_name(i);
        model_config c;
        if (config_preset(name, &c) != 0) continue;
        int64_t tot = config_params_total(&c), emb = config_params_embedding(&c), r, l, g;
        config_state_bytes(&c, len, &r, &l, &g);
        char a[32], b[32], sr[32], sl[32], sg[32], pat[12];
        if (exact) { snprintf(a, sizeof a, "%lld", (long long)tot); snprintf(b, sizeof b, "%lld", (long long)(tot - emb)); }
        else { human(a, sizeof a, (double)tot); human(b, sizeof b, (double)(tot - emb)); }
        human_bytes(sr, sizeof sr, (double)r);
        human_bytes(sl, sizeof sl, (double)l);
        human_bytes(sg, sizeof sg, (double)g);
        snprintf(pat, sizeof pat, "%.6s%s", c.pattern, strlen(c.pattern) > 6 ? ".." : "");
        printf("%-20s %-8s %5d %3d %3d %5d %5d %-8s %10s %10s %11s %11s %11s\n", name, family_name(c.family), c.width,
               c.depth, c.heads, strchr(c.pattern, 'R') ? c.lru_width : 0, strchr(c.pattern, 'L') ? c.window : 0, pat, a, b,
               sr, sl, sg);
    }
    printf("\nnon-embedding excludes the tied V x D embedding; state columns are bytes per sequence at %d tokens.\n", len);
    return 0;
}

int cmd_init(int argc, char **argv) {
    model_args ma = {0};
    const char *out = NULL;
    long long seed = 0;
    flag_def defs[] = {
        MODELARGS_SHAPE_FLAGS(&ma),
        MODELARGS_CKPT_FLAGS(&ma),
        {"o", FLAG_STR, &out, NULL, "output checkpoint (.safetensors)"},
        {"seed", FLAG_LONG, &seed, "0", "initialisation seed"},
        {NULL}};
    char *pos[1];
    int np, rc = flags_parse(defs, argc, argv, pos, 1, &np, "griffin init PRESET|--family F [shape flags] --o FILE [--seed S]",
                             "Write a randomly initialised checkpoint (spec init table, seeded).");
    if (rc >= 0) return rc;
    if (np == 1) ma.preset = pos[0];
    if (!out) { fprintf(stderr, "error: --o FILE is required\n"); return 2; }
    model_config c;
    if (modelargs_config(&ma, &c) != 0) return 2;
    model m;
    if (model_create(&m, &c) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
    model_init_weights(&m, (uint64_t)seed);
    if (ckpt_save(&m, out, NULL, NULL, 0) != 0) {
        fprintf(stderr, "error: %s\n", util_last_error());
        model_free(&m);
        return 1;
    }
    char a[32];
    human(a, sizeof a, (double)m.nparams);
    printf("wrote %s: %s %s, %lld parameters, seed %lld\n", out, c.name, family_name(c.family), (long long)config_params_total(&c), seed);
    model_free(&m);
    return 0;
}

/* Load --m with --weights, then --device and the variants (modelargs_apply). */
static int load_model(const model_args *ma, const char *path, model *m) {
    ckpt_overrides ov;
    weights_dtype wd;
    modelargs_overrides(ma, &ov);
    if (modelargs_weights(ma, &wd) != 0) return 2;
    if (!path) { fprintf(stderr, "error: --m CHECKPOINT is required\n"); return 2; }
    if (ckpt_load_as(m, path, &ov, wd) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
    if (modelargs_apply(ma, m) != 0) { model_free(m); return 2; }
    return 0;
}

/* Sample from logits (V) with temperature and top-k. */
static int sample_token(const float *logits, int V, double temp, int topk, rng_t *r, float *scratch) {
    if (temp <= 0) {
        int best = 0;
        for (int v = 1; v < V; v++) if (logits[v] > logits[best]) best = v;
        return best;
    }
    float thresh = -INFINITY;
    if (topk > 0 && topk < V) {
        /* the k-th largest logit by partial selection on a copy */
        memcpy(scratch, logits, (size_t)V * sizeof(float));
        for (int i = 0; i < topk; i++) {
            int bi = i;
            for (int j = i + 1; j < V; j++) if (scratch[j] > scratch[bi]) bi = j;
            float t = scratch[i]; scratch[i] = scratch[bi]; scratch[bi] = t;
        }
        thresh = scratch[topk - 1];
    }
    double mx = -INFINITY, sum = 0;
    for (int v = 0; v < V; v++) if (logits[v] >= thresh && logits[v] > mx) mx = logits[v];
    for (int v = 0; v < V; v++) sum += logits[v] >= thresh ? exp((logits[v] - mx) / temp) : 0;
    double u = rng_uniform(r) * sum, acc = 0;
    int last = 0;
    for (int v = 0; v < V; v++) {
        if (logits[v] < thresh) continue;
        acc += exp((logits[v] - mx) / temp);
        last = v;
        if (acc >= u) return v;
    }
    return last;
}

static void print_bytes(FILE *f, const int32_t *t, int n) {
    for (int i = 0; i < n; i++) {
        int c = t[i];
        if (c == '\n' || c == '\t' || (c >= 32 && c < 127)) fputc(c, f);
        else fprintf(f, "\\x%02x", c & 0xFF);
    }
}

int cmd_generate(int argc, char **argv) {
    model_args ma = {0};
    const char *path = NULL, *prompt = "";
    int n = 64, topk = 0, batch = 1, quiet = 0;
    double temp = 0.8;
    long long seed = 0;
    flag_def defs[] = {
        {"m", FLAG_STR, &path, NULL, "checkpoint (.safetensors)"},
        {"prompt", FLAG_STR, &prompt, "", "prompt text (bytes; empty starts from a newline)", ""},
        {"n", FLAG_INT, &n, "64", "tokens to sample", "[0,16777216]"},
        {"temperature", FLAG_FLOAT, &temp, "0.8", "sampling temperature (0 = greedy)", "[0,1000]"},
        {"top-k", FLAG_INT, &topk, "0", "sample among the k most likely (0 = all)", "[0,16777216]"},
        {"seed", FLAG_LONG, &seed, "0", "sampling seed"},
        {"batch", FLAG_INT, &batch, "1", "sequences decoded together (batched decode)", "[1,65536]"},
        {"quiet", FLAG_BOOL, &quiet, "0", "print only the timing line"},
        MODELARGS_WEIGHTS_FLAG(&ma),
        MODELARGS_CKPT_FLAGS(&ma),
        MODELARGS_RUN_FLAGS(&ma),
        {NULL}};
    char *pos[1];
    int np, rc = flags_parse(defs, argc, argv, pos, 0, &np, "griffin generate --m FILE [--prompt TEXT] [--n N] [flags]",
                             "Sample bytes from a checkpoint: one prefill of the prompt, then batched decode.\n"
                             "Prints the text, then prefill and decode throughput.");
    if (rc >= 0) return rc;
    if (n < 0 || batch < 1 || batch > 4096) { fprintf(stderr, "error: need --n >= 0 and 1 <= --batch <= 4096\n"); return 2; }
    model m;
    if ((rc = load_model(&ma, path, &m)) != 0) return rc;
    const int V = m.cfg.vocab;
    int T = (int)strlen(prompt);
    const char *p = T ? prompt : "\n";
    if (!T) T = 1;
    int32_t *tok = malloc((size_t)batch * T * sizeof(int32_t)), *ps = malloc((size_t)batch * T * sizeof(int32_t));
    CHECK_ALLOC(tok); CHECK_ALLOC(ps);
    for (int b = 0; b < batch; b++)
        for (int t = 0; t < T; t++) {
            tok[(size_t)b * T + t] = (unsigned char)p[t] % V;
            ps[(size_t)b * T + t] = t;
        }
    model_acts a;
    decode_state st;
    if (model_acts_alloc(&a, &m, batch, T, 0) != 0 || decode_state_alloc(&st, &m, batch, T + n + 1) != 0) {
        fprintf(stderr, "error: %s\n", util_last_error());
        return 1;
    }
    double t0 = util_now();
    const float *plog = NULL; /* prefill logits (B,T,V) */
    if (model_forward(&m, &a, tok, ps, &st) != 0 || !(plog = model_acts_logits(&a))) {
        fprintf(stderr, "error: %s\n", util_last_error());
        return 1;
    }
    double t_prefill = util_now() - t0;
    int32_t *out = malloc(((size_t)batch * n + 1) * sizeof(int32_t)), *cur = malloc((size_t)batch * sizeof(int32_t));
    float *logits = malloc((size_t)batch * V * sizeof(float)), *scratch = malloc((size_t)V * sizeof(float));
    CHECK_ALLOC(out); CHECK_ALLOC(cur); CHECK_ALLOC(logits); CHECK_ALLOC(scratch);
    rng_t *rngs = malloc((size_t)batch * sizeof(rng_t));
    CHECK_ALLOC(rngs);
    for (int b = 0; b < batch; b++) rng_seed(&rngs[b], (uint64_t)seed * 1000003ULL + (uint64_t)b);
    for (int b = 0; b < batch; b++)
        cur[b] = n > 0 ? sample_token(plog + ((size_t)b * T + T - 1) * V, V, temp, topk, &rngs[b], scratch) : 0;
    double t1 = util_now();
    for (int i = 0; i < n; i++) {
        for (int b = 0; b < batch; b++) out[(size_t)b * n + i] = cur[b];
        if (i + 1 == n) break;
        if (model_decode_step(&m, &st, cur, NULL, logits) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
        for (int b = 0; b < batch; b++) cur[b] = sample_token(logits + (size_t)b * V, V, temp, topk, &rngs[b], scratch);
    }
    double t_dec = util_now() - t1;
    int steps = n > 1 ? n - 1 : 0;
    if (!quiet) {
        for (int b = 0; b < batch; b++) {
            if (batch > 1) printf("--- sample %d ---\n", b);
            print_bytes(stdout, tok, (int)strlen(prompt));
            print_bytes(stdout, out + (size_t)b * n, n);
            printf("\n");
        }
    }
    fprintf(stderr, "prefill: %d tokens x %d in %.2f ms (%.0f tokens/s); decode: %d steps x %d in %.3f s (%.0f tokens/s, %.2f ms/step)\n",
            T, batch, 1e3 * t_prefill, (double)T * batch / (t_prefill > 0 ? t_prefill : 1e-9), steps, batch, t_dec,
            steps ? (double)steps * batch / t_dec : 0.0, steps ? 1e3 * t_dec / steps : 0.0);
    free(tok); free(ps); free(out); free(cur); free(logits); free(scratch); free(rngs);
    decode_state_free(&st);
    model_acts_free(&a);
    model_free(&m);
    return 0;
}

static int read_tokens_file(const char *path, int32_t **tok, size_t *n) {
    size_t len = strlen(path);
    if (len > 4 && !strcmp(path + len - 4, ".npy")) return npy_read_i32(path, tok, n);
    FILE *f = fopen(path, "r");
    if (!f) { util_error("%s: cannot open", path); return -1; }
    size_t cap = 1024, cnt = 0;
    int32_t *v = malloc(cap * sizeof(int32_t));
    CHECK_ALLOC(v);
    long x;
    int c;
    while ((c = fscanf(f, "%ld", &x)) == 1) {
        if (cnt == cap) { cap *= 2; v = realloc(v, cap * sizeof(int32_t)); CHECK_ALLOC(v); }
        v[cnt++] = (int32_t)x;
        while ((c = fgetc(f)) == ',' || isspace(c)) {}
        if (c != EOF) ungetc(c, f);
    }
    int bad = !feof(f);
    fclose(f);
    if (bad) { free(v); util_error("%s: expected integers separated by spaces or commas", path); return -1; }
    *tok = v;
    *n = cnt;
    return 0;
}

int cmd_forward(int argc, char **argv) {
    model_args ma = {0};
    const char *path = NULL, *text = NULL, *tokfile = NULL, *out = NULL;
    flag_def defs[] = {
        {"m", FLAG_STR, &path, NULL, "checkpoint (.safetensors)"},
        {"text", FLAG_STR, &text, NULL, "input text (bytes are the tokens)"},
        {"tokens", FLAG_STR, &tokfile, NULL, "input token ids: .npy (int32/int64) or a text file of integers"},
        {"o", FLAG_STR, &out, NULL, "output logits .npy (float32, T x V)"},
        MODELARGS_WEIGHTS_FLAG(&ma),
        MODELARGS_CKPT_FLAGS(&ma),
        MODELARGS_RUN_FLAGS(&ma),
        {NULL}};
    char *pos[1];
    int np, rc = flags_parse(defs, argc, argv, pos, 0, &np, "griffin forward --m FILE --text TEXT|--tokens FILE --o LOGITS.npy",
                             "Prefill logits of one sequence (positions 0..T-1) as a NumPy file: the hook for\n"
                             "checking this implementation against others.");
    if (rc >= 0) return rc;
    if (!out || (!text == !tokfile)) { fprintf(stderr, "error: need --o and exactly one of --text / --tokens\n"); return 2; }
    int32_t *tok = NULL;
    size_t T = 0;
    if (text) {
        T = strlen(text);
        tok = malloc((T ? T : 1) * sizeof(int32_t));
        CHECK_ALLOC(tok);
        for (size_t i = 0; i < T; i++) tok[i] = (unsigned char)text[i];
    } else if (read_tokens_file(tokfile, &tok, &T) != 0) {
        fprintf(stderr, "error: %s\n", util_last_error());
        return 1;
    }
    if (T == 0) { fprintf(stderr, "error: empty input\n"); free(tok); return 2; }
    model m;
    if ((rc = load_model(&ma, path, &m)) != 0) { free(tok); return rc; }
    int32_t *ps = malloc(T * sizeof(int32_t));
    CHECK_ALLOC(ps);
    for (size_t i = 0; i < T; i++) ps[i] = (int32_t)i;
    model_acts a = {0};
    if (model_acts_alloc(&a, &m, 1, (int)T, 0) != 0) {
        fprintf(stderr, "error: %s\n", util_last_error());
        return 1;
    }
    rc = 0;
    double t0 = util_now();
    const float *lg = NULL;
    if (model_forward(&m, &a, tok, ps, NULL) != 0 || !(lg = model_acts_logits(&a))) {
        fprintf(stderr, "error: %s\n", util_last_error());
        rc = 1;
    }
    double dt = util_now() - t0;
    int64_t shape[2] = {(int64_t)T, m.cfg.vocab};
    if (!rc && npy_write_f32(out, lg, shape, 2) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); rc = 1; }
    if (!rc) fprintf(stderr, "wrote %s: %zu x %d logits (%.0f tokens/s on %s)\n", out, T, m.cfg.vocab, (double)T / dt, m.be->name);
    model_acts_free(&a);
    model_free(&m);
    free(tok);
    free(ps);
    return rc;
}
