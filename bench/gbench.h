/* gbench.h — Google Benchmark (Debian libbenchmark 1.7.1) from C.
 *
 * A thin extern "C" layer over benchmark::RegisterBenchmark and
 * benchmark::State (implemented in bench/gbench_shim.cc). The C side
 * registers plain function pointers with a context pointer and runs the
 * usual loop:
 *
 *   static void bm_copy(gb_state *st, void *ctx) {
 *       size_t n = (size_t)gb_range(st, 0);
 *       ... set up, validate (gb_skip_with_error + return on failure) ...
 *       while (gb_keep_running(st)) {
 *           memcpy(dst, src, n * 4);
 *           gb_do_not_optimize(dst);
 *       }
 *       gb_set_bytes_processed(st, gb_iterations(st) * (int64_t)n * 8);
 *   }
 *   gb_bench *b = gb_register("copy/memcpy", bm_copy, NULL);
 *   GB_ARG_NAMES(b, "n");
 *   GB_ARGS(b, 1 << 20);
 *
 *   int main(int argc, char **argv) {
 *       gb_initialize(&argc, argv);              // consumes --benchmark_* flags
 *       if (gb_report_unrecognized(argc, argv)) return 2;
 *       gb_run_all(); gb_shutdown(); return 0;
 *   }
 *
 * Names: register "family/variant" and set GB_ARG_NAMES; Google Benchmark
 * appends "/B:8/C:1024/T:4096". Repetitions come from the command line
 * (--benchmark_repetitions=N); never set them per benchmark (1.7.1 then
 * bakes them into the name). In 1.7.1 --benchmark_min_time is a plain
 * number of seconds (no "s" suffix).
 *
 * Time: kernels here use OpenMP threads, so call gb_use_real_time() on
 * every benchmark (otherwise rates are computed from the main thread's CPU
 * time). Manual time (gb_use_manual_time + gb_set_iteration_time) is for
 * CUDA events.
 *
 * DoNotOptimize is a C++ template; from C use gb_do_not_optimize(p), a
 * compiler barrier that makes the compiler assume *p is read and written.
 */
#ifndef GRIFFIN_GBENCH_H
#define GRIFFIN_GBENCH_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state; /* a benchmark::State, opaque */
typedef struct gb_bench gb_bench; /* a registered benchmark::internal::Benchmark */
typedef void (*gb_fn)(gb_state *st, void *ctx);

/* ---- counters flags (map onto benchmark::Counter::Flags) -------------- */
enum {
    GB_DEFAULT = 0,
    GB_RATE = 1,            /* value / elapsed seconds */
    GB_AVG_THREADS = 2,     /* value / benchmark threads */
    GB_ITER_INVARIANT = 4,  /* value * iterations (value is per iteration) */
    GB_AVG_ITERS = 8,       /* value / iterations */
    GB_INVERT = 16,         /* 1 / value (after the above) */
    /* per-iteration value -> per-second rate: value * iterations / seconds */
    GB_ITER_RATE = GB_RATE | GB_ITER_INVARIANT,
};

typedef enum { GB_NS = 0, GB_US, GB_MS, GB_S } gb_time_unit;

/* ---- registration ----------------------------------------------------- */
/* Register fn under `name` (copied). ctx is passed to every call and must
 * outlive gb_run_all(). Returns the handle for the setters below. */
gb_bench *gb_register(const char *name, gb_fn fn, void *ctx);
/* One argument tuple (one benchmark instance per call). */
void gb_args_n(gb_bench *b, const int64_t *args, int n);
/* Names for the tuple positions, shown as "name:value" in the full name. */
void gb_arg_names_n(gb_bench *b, const char *const *names, int n);
/* Ranges: instances over lo..hi per position (powers of the multiplier). */
void gb_ranges_n(gb_bench *b, const int64_t *lo, const int64_t *hi, int n);
void gb_range_multiplier(gb_bench *b, int mult);
void gb_use_real_time(gb_bench *b);
void gb_use_manual_time(gb_bench *b);
void gb_unit(gb_bench *b, gb_time_unit u);
void gb_min_time(gb_bench *b, double seconds);
void gb_fixed_iterations(gb_bench *b, int64_t n);

/* C convenience: GB_ARGS(b, 8, 1024, 4096); GB_ARG_NAMES(b, "B", "C", "T"). */
#define GB_ARGS(b, ...)                                                         \
    gb_args_n((b), (const int64_t[]){__VA_ARGS__},                              \
              (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define GB_ARG_NAMES(b, ...)                                                    \
    gb_arg_names_n((b), (const char *const[]){__VA_ARGS__},                     \
                   (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)))

/* ---- inside a benchmark ----------------------------------------------- */
int gb_keep_running(gb_state *st);       /* the timed loop condition */
int64_t gb_range(gb_state *st, int i);   /* argument i of this instance */
int64_t gb_iterations(gb_state *st);     /* iterations completed so far */
void gb_set_bytes_processed(gb_state *st, int64_t bytes); /* total over all iterations */
void gb_set_items_processed(gb_state *st, int64_t items); /* total over all iterations */
/* counters[name] = Counter(value, flags); name is copied. */
void gb_counter(gb_state *st, const char *name, double value, int flags);
void gb_set_iteration_time(gb_state *st, double seconds); /* manual time only */
/* Mark this instance failed with msg (copied); the loop is then not entered
 * (or ends). Return from the function after calling it. */
void gb_skip_with_error(gb_state *st, const char *msg);
void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);
void gb_set_label(gb_state *st, const char *label);

/* ---- program ------------------------------------------------------------ */
/* Consume the --benchmark_* flags from argv (argc updated). */
void gb_initialize(int *argc, char **argv);
/* Prints and returns 1 if argv still holds flags nobody consumed. */
int gb_report_unrecognized(int argc, char **argv);
/* Add a key/value to the "context" block of the output (JSON and console). */
void gb_add_context(const char *key, const char *value);
/* Run every registered benchmark that passes --benchmark_filter; returns
 * the number of benchmarks run. */
int64_t gb_run_all(void);
void gb_shutdown(void);

/* Compiler barrier in place of benchmark::DoNotOptimize: the compiler must
 * assume the memory behind p is read and written here. */
static inline void gb_do_not_optimize(void *p) { __asm__ volatile("" : : "g"(p) : "memory"); }
static inline void gb_clobber_memory(void) { __asm__ volatile("" : : : "memory"); }

#ifdef __cplusplus
}
#endif
#endif
