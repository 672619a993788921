// gbench_shim.cc — the C++ side of bench/gbench.h: Google Benchmark 1.7.1
// (Debian libbenchmark-dev) behind an extern "C" API. gb_state is a
// benchmark::State, gb_bench a benchmark::internal::Benchmark; C function
// pointers are wrapped in lambdas that carry the context pointer.
//
// Every call of a benchmark function (one repetition, or one of the calls
// Google Benchmark makes to size the iteration count) is bracketed with
// busy_begin/busy_end (kernels/busy.h), and the raw CPU-seconds of the
// interval go out as three counters on that row: busy_cpu_s (all CPUs x
// wall), busy_others_s (what other processes ran, signed), busy_steal_s
// (hypervisor steal). `griffin import-gbench` adds them up over a
// benchmark's repetitions and stores others / cpu as result.busy, so the
// regression check can refuse to judge a timing taken on a busy machine.
#include "gbench.h"
#include "busy.h"

#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

namespace {
inline benchmark::State &S(gb_state *st) { return *reinterpret_cast<benchmark::State *>(st); }
inline benchmark::internal::Benchmark *B(gb_bench *b) {
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}
}  // namespace

extern "C" {

gb_bench *gb_register(const char *name, gb_fn fn, void *ctx) {
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(name, [fn, ctx](benchmark::State &st) {
        busy_mark mk;
        busy_begin(&mk);
        fn(reinterpret_cast<gb_state *>(&st), ctx);
        busy_result r = busy_end(&mk);
        if (!st.error_occurred() && r.cpu_s > 0) {  // counters are read after the function returns
            st.counters["busy_cpu_s"] = benchmark::Counter(r.cpu_s);
            st.counters["busy_others_s"] = benchmark::Counter(r.others_s);
            st.counters["busy_steal_s"] = benchmark::Counter(r.steal_s);
        }
    });
    return reinterpret_cast<gb_bench *>(b);
}

void gb_args_n(gb_bench *b, const int64_t *args, int n) {
    B(b)->Args(std::vector<int64_t>(args, args + n));
}

void gb_arg_names_n(gb_bench *b, const char *const *names, int n) {
    std::vector<std::string> v;
    for (int i = 0; i < n; i++) v.emplace_back(names[i]);
    B(b)->ArgNames(v);
}

void gb_ranges_n(gb_bench *b, const int64_t *lo, const int64_t *hi, int n) {
    std::vector<std::pair<int64_t, int64_t>> r;
    for (int i = 0; i < n; i++) r.emplace_back(lo[i], hi[i]);
    B(b)->Ranges(r);
}

void gb_range_multiplier(gb_bench *b, int mult) { B(b)->RangeMultiplier(mult); }
void gb_use_real_time(gb_bench *b) { B(b)->UseRealTime(); }
void gb_use_manual_time(gb_bench *b) { B(b)->UseManualTime(); }
void gb_min_time(gb_bench *b, double seconds) { B(b)->MinTime(seconds); }
void gb_fixed_iterations(gb_bench *b, int64_t n) { B(b)->Iterations((benchmark::IterationCount)n); }

void gb_unit(gb_bench *b, gb_time_unit u) {
    benchmark::TimeUnit t = benchmark::kNanosecond;
    switch (u) {
    case GB_NS: t = benchmark::kNanosecond; break;
    case GB_US: t = benchmark::kMicrosecond; break;
    case GB_MS: t = benchmark::kMillisecond; break;
    case GB_S: t = benchmark::kSecond; break;
    }
    B(b)->Unit(t);
}

int gb_keep_running(gb_state *st) { return S(st).KeepRunning() ? 1 : 0; }
int64_t gb_range(gb_state *st, int i) { return S(st).range((std::size_t)i); }
int64_t gb_iterations(gb_state *st) { return (int64_t)S(st).iterations(); }
void gb_set_bytes_processed(gb_state *st, int64_t bytes) { S(st).SetBytesProcessed(bytes); }
void gb_set_items_processed(gb_state *st, int64_t items) { S(st).SetItemsProcessed(items); }

void gb_counter(gb_state *st, const char *name, double value, int flags) {
    int f = 0;
    if (flags & GB_RATE) f |= benchmark::Counter::kIsRate;
    if (flags & GB_AVG_THREADS) f |= benchmark::Counter::kAvgThreads;
    if (flags & GB_ITER_INVARIANT) f |= benchmark::Counter::kIsIterationInvariant;
    if (flags & GB_AVG_ITERS) f |= benchmark::Counter::kAvgIterations;
    if (flags & GB_INVERT) f |= benchmark::Counter::kInvert;
    S(st).counters[name] = benchmark::Counter(value, (benchmark::Counter::Flags)f);
}

void gb_set_iteration_time(gb_state *st, double seconds) { S(st).SetIterationTime(seconds); }

void gb_skip_with_error(gb_state *st, const char *msg) {
    // 1.7.1 copies msg into a std::string; keep a copy anyway in case a
    // future version stores the pointer.
    static thread_local std::string keep;
    keep = msg ? msg : "error";
    S(st).SkipWithError(keep.c_str());
}

void gb_pause_timing(gb_state *st) { S(st).PauseTiming(); }
void gb_resume_timing(gb_state *st) { S(st).ResumeTiming(); }
void gb_set_label(gb_state *st, const char *label) { S(st).SetLabel(label); }

void gb_initialize(int *argc, char **argv) { benchmark::Initialize(argc, argv); }
int gb_report_unrecognized(int argc, char **argv) {
    return benchmark::ReportUnrecognizedArguments(argc, argv) ? 1 : 0;
}
void gb_add_context(const char *key, const char *value) {
    benchmark::AddCustomContext(key, value ? value : "");
}
int64_t gb_run_all(void) { return (int64_t)benchmark::RunSpecifiedBenchmarks(); }
void gb_shutdown(void) { benchmark::Shutdown(); }

}  // extern "C"
