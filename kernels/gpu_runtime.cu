/* gpu_runtime.cu — device query, memory helpers, CUDA-event timers, L2
 * flush, and the two probes every GPU timing is reported against: the
 * device-to-device copy bandwidth and the cuBLAS sgemm rate (gpu.h).
 *
 * Tests: tests/test_gpu.c. Benchmarks: scripts/gpu-check.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_common.cuh"
#include "gpu.h"

static int g_capturing = 0; /* between gpu_graph_begin and gpu_graph_end */

extern "C" int gpu_debug_sync(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("GRIFFIN_CUDA_SYNC");
        v = (e && *e && strcmp(e, "0") != 0) ? 1 : 0;
    }
    return v && !g_capturing; /* a synchronise would break a capture */
}

/* ---- the stream --------------------------------------------------------------- */

static cudaStream_t g_stream = 0;
static int g_stream_ok = 0;

cudaStream_t gpu_s(void) {
    if (!g_stream_ok) {
        /* blocking (not cudaStreamNonBlocking): work anyone still issues on
         * the legacy stream stays ordered with ours */
        cudaError_t e = cudaStreamCreateWithFlags(&g_stream, cudaStreamDefault);
        if (e != cudaSuccess) {
            util_error("%s:%d: cudaStreamCreate failed: %s", __FILE__, __LINE__, cudaGetErrorString(e));
            (void)cudaGetLastError();
            return 0;
        }
        g_stream_ok = 1;
    }
    return g_stream;
}

extern "C" void *gpu_stream(void) {
    cudaStream_t s = gpu_s();
    return g_stream_ok ? (void *)s : NULL;
}

/* ---- CUDA graphs ---------------------------------------------------------------- */

static unsigned long g_graph_epoch = 0;
extern "C" unsigned long gpu_graph_epoch(void) { return g_graph_epoch; }
extern "C" void gpu_graph_invalidate(void) { g_graph_epoch++; }

struct gpu_graph {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
};

extern "C" int gpu_graph_begin(void) {
    if (!gpu_stream()) return -1;
    if (g_capturing) {
        util_error("gpu_graph_begin: a capture is already in progress");
        return -1;
    }
    CUDA_CHECK(cudaStreamBeginCapture(g_stream, cudaStreamCaptureModeThreadLocal));
    g_capturing = 1;
    return 0;
}

extern "C" gpu_graph *gpu_graph_end(void) {
    if (!g_capturing) {
        util_error("gpu_graph_end: no capture in progress (gpu_graph_begin first)");
        return NULL;
    }
    g_capturing = 0;
    cudaGraph_t graph = NULL;
    cudaError_t e = cudaStreamEndCapture(g_stream, &graph);
    if (e != cudaSuccess) {
        util_error("%s:%d: cudaStreamEndCapture failed: %s (a call inside the capture was not capturable)",
                   __FILE__, __LINE__, cudaGetErrorString(e));
        if (graph) cudaGraphDestroy(graph);
        (void)cudaGetLastError();
        return NULL;
    }
    gpu_graph *g = (gpu_graph *)calloc(1, sizeof *g);
    if (!g) {
        cudaGraphDestroy(graph);
        util_error("gpu_graph_end: out of memory");
        return NULL;
    }
    g->graph = graph;
    e = cudaGraphInstantiate(&g->exec, graph, 0);
    if (e != cudaSuccess) {
        util_error("%s:%d: cudaGraphInstantiate failed: %s", __FILE__, __LINE__, cudaGetErrorString(e));
        cudaGraphDestroy(graph);
        free(g);
        (void)cudaGetLastError();
        return NULL;
    }
    return g;
}

extern "C" int gpu_graph_launch(gpu_graph *g) {
    if (!g) {
        util_error("gpu_graph_launch: NULL graph");
        return -1;
    }
    CUDA_CHECK(cudaGraphLaunch(g->exec, gpu_s()));
    if (gpu_debug_sync()) CUDA_CHECK(cudaStreamSynchronize(gpu_s()));
    return 0;
}

extern "C" void gpu_graph_free(gpu_graph *g) {
    if (!g) return;
    cudaGraphExecDestroy(g->exec);
    cudaGraphDestroy(g->graph);
    free(g);
}

/* ---- pinned host memory, asynchronous copies ---------------------------------- */

extern "C" void *gpu_host_alloc(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = 4;
    cudaError_t e = cudaMallocHost(&p, bytes);
    if (e != cudaSuccess) {
        util_error("%s:%d: cudaMallocHost(%zu bytes) failed: %s", __FILE__, __LINE__, bytes, cudaGetErrorString(e));
        (void)cudaGetLastError();
        return NULL;
    }
    memset(p, 0, bytes);
    return p;
}

extern "C" void gpu_host_free(void *p) {
    if (p) cudaFreeHost(p);
}

extern "C" int gpu_upload_async(void *dst, const void *src, size_t bytes) {
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, gpu_s()));
    return 0;
}

extern "C" int gpu_download_async(void *dst, const void *src, size_t bytes) {
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, gpu_s()));
    return 0;
}

/* ---- device query ----------------------------------------------------------- */

static int g_device_ok = -1;
static char g_device_why[256];

extern "C" int gpu_available(char *why, size_t n) {
    if (g_device_ok < 0) {
        int count = 0;
        cudaError_t e = cudaGetDeviceCount(&count);
        if (e != cudaSuccess) {
            snprintf(g_device_why, sizeof g_device_why, "no usable CUDA device: %s (%s)",
                     cudaGetErrorString(e), cudaGetErrorName(e));
            (void)cudaGetLastError(); /* clear the (non-sticky) error state */
            g_device_ok = 0;
        } else if (count == 0) {
            snprintf(g_device_why, sizeof g_device_why, "no CUDA device found (cudaGetDeviceCount = 0)");
            g_device_ok = 0;
        } else {
            int dev = 0;
            const char *env = getenv("GRIFFIN_GPU");
            if (env && *env) dev = atoi(env);
            if (dev < 0 || dev >= count) {
                snprintf(g_device_why, sizeof g_device_why, "GRIFFIN_GPU=%d but only %d device(s)", dev, count);
                g_device_ok = 0;
            } else if ((e = cudaSetDevice(dev)) != cudaSuccess || (e = cudaFree(0)) != cudaSuccess) {
                snprintf(g_device_why, sizeof g_device_why, "cannot initialise CUDA device %d: %s", dev,
                         cudaGetErrorString(e));
                g_device_ok = 0;
            } else {
                g_device_ok = 1;
                g_device_why[0] = 0;
            }
        }
    }
    if (why && n) snprintf(why, n, "%s", g_device_ok ? "" : g_device_why);
    return g_device_ok;
}

static void version_str(char *buf, size_t n, int v) {
    snprintf(buf, n, "%d.%d", v / 1000, (v % 1000) / 10);
}

extern "C" int gpu_info_get(gpu_info *info) {
    memset(info, 0, sizeof *info);
    char why[256];
    if (!gpu_available(why, sizeof why)) {
        util_error("%s", why);
        return -1;
    }
    int dev = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp p;
    CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
    snprintf(info->name, sizeof info->name, "%.159s", p.name);
    int dv = 0, rv = 0;
    CUDA_CHECK(cudaDriverGetVersion(&dv));
    CUDA_CHECK(cudaRuntimeGetVersion(&rv));
    version_str(info->driver, sizeof info->driver, dv);
    version_str(info->runtime, sizeof info->runtime, rv);
    info->cc_major = p.major;
    info->cc_minor = p.minor;
    snprintf(info->cc, sizeof info->cc, "%d.%d", p.major, p.minor);
    info->sm_count = p.multiProcessorCount;
    info->mem_bytes = p.totalGlobalMem;
    info->l2_bytes = (size_t)p.l2CacheSize;
    int clock_khz = 0, bus_bits = 0;
    /* memoryClockRate / memoryBusWidth left cudaDeviceProp in CUDA 13: ask the attributes. */
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, dev) == cudaSuccess &&
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev) == cudaSuccess)
        info->peak_bw_gbs = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
    (void)cudaGetLastError();
    return 0;
}

extern "C" int gpu_describe(char *buf, size_t n) {
    gpu_info g;
    if (gpu_info_get(&g) != 0) {
        snprintf(buf, n, "none");
        return -1;
    }
    snprintf(buf, n, "%s, cc %s, driver %s, runtime %s, %d SMs, %.1f GiB, L2 %.0f MiB", g.name, g.cc,
             g.driver, g.runtime, g.sm_count, g.mem_bytes / 1073741824.0, g.l2_bytes / 1048576.0);
    return 0;
}

/* ---- memory ------------------------------------------------------------------- */

extern "C" void *gpu_alloc(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = 4;
    cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
        util_error("%s:%d: cudaMalloc(%zu bytes = %.2f GiB) failed: %s", __FILE__, __LINE__, bytes,
                   bytes / 1073741824.0, cudaGetErrorString(e));
        (void)cudaGetLastError();
        return NULL;
    }
    /* on the stream, so later launches on it see the zeros; then wait, so
     * the buffer is also zero for a legacy-stream user */
    e = cudaMemsetAsync(p, 0, bytes, gpu_s());
    if (e == cudaSuccess) e = cudaStreamSynchronize(gpu_s());
    if (e != cudaSuccess) {
        util_error("%s:%d: cudaMemset failed: %s", __FILE__, __LINE__, cudaGetErrorString(e));
        cudaFree(p);
        return NULL;
    }
    return p;
}

extern "C" void gpu_free(void *p) {
    if (!p) return;
    cudaFree(p);
    gpu_graph_invalidate(); /* a graph may hold p */
}

/* Synchronous for the host: ordered after everything already on the
 * stream, and src (upload) is free / dst (download) is filled on return. */
extern "C" int gpu_upload(void *dst, const void *src, size_t bytes) {
    if (bytes) {
        CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, gpu_s()));
        CUDA_CHECK(cudaStreamSynchronize(gpu_s()));
    }
    return 0;
}

extern "C" int gpu_download(void *dst, const void *src, size_t bytes) {
    if (bytes) {
        CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, gpu_s()));
        CUDA_CHECK(cudaStreamSynchronize(gpu_s()));
    }
    return 0;
}

extern "C" int gpu_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, gpu_s()));
    return 0;
}

extern "C" int gpu_memset(void *dst, int value, size_t bytes) {
    if (bytes) CUDA_CHECK(cudaMemsetAsync(dst, value, bytes, gpu_s()));
    return 0;
}

extern "C" int gpu_sync(void) {
    CUDA_CHECK(cudaStreamSynchronize(gpu_s()));
    CUDA_CHECK(cudaDeviceSynchronize()); /* and anything left on other streams */
    return 0;
}

extern "C" float *gpu_upload_floats(const float *src, size_t n) {
    float *d = (float *)gpu_alloc(n * sizeof(float));
    if (d && gpu_upload(d, src, n * sizeof(float)) != 0) {
        gpu_free(d);
        return NULL;
    }
    return d;
}

extern "C" int32_t *gpu_upload_ints(const int32_t *src, size_t n) {
    int32_t *d = (int32_t *)gpu_alloc(n * sizeof(int32_t));
    if (d && gpu_upload(d, src, n * sizeof(int32_t)) != 0) {
        gpu_free(d);
        return NULL;
    }
    return d;
}

/* ---- timers ---------------------------------------------------------------- */

struct gpu_timer {
    cudaEvent_t a, b;
};

extern "C" gpu_timer *gpu_timer_create(void) {
    gpu_timer *t = (gpu_timer *)calloc(1, sizeof *t);
    CHECK_ALLOC(t);
    if (cudaEventCreate(&t->a) != cudaSuccess || cudaEventCreate(&t->b) != cudaSuccess) {
        util_error("%s:%d: cudaEventCreate failed", __FILE__, __LINE__);
        free(t);
        return NULL;
    }
    return t;
}

extern "C" void gpu_timer_free(gpu_timer *t) {
    if (!t) return;
    cudaEventDestroy(t->a);
    cudaEventDestroy(t->b);
    free(t);
}

extern "C" int gpu_timer_start(gpu_timer *t) {
    CUDA_CHECK(cudaEventRecord(t->a, gpu_s()));
    return 0;
}

static int timer_elapsed(gpu_timer *t, float *ms) {
    CUDA_CHECK(cudaEventRecord(t->b, gpu_s()));
    CUDA_CHECK(cudaEventSynchronize(t->b));
    CUDA_CHECK(cudaEventElapsedTime(ms, t->a, t->b));
    return 0;
}

extern "C" double gpu_timer_stop(gpu_timer *t) {
    float ms = 0;
    if (timer_elapsed(t, &ms) != 0) return -1.0;
    return ms;
}

/* ---- L2 flush ----------------------------------------------------------------- */

static void *g_flush_buf = NULL;
static size_t g_flush_bytes = 0;

extern "C" int gpu_l2_flush(void) {
    if (!g_flush_buf) {
        int dev = 0, l2 = 0;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
        g_flush_bytes = (size_t)(l2 > 0 ? l2 : (64 << 20)) * 2;
        g_flush_buf = gpu_alloc(g_flush_bytes);
        if (!g_flush_buf) return -1;
    }
    CUDA_CHECK(cudaMemsetAsync(g_flush_buf, 0x5a, g_flush_bytes, gpu_s()));
    CUDA_CHECK(cudaMemsetAsync(g_flush_buf, 0xa5, g_flush_bytes, gpu_s()));
    return 0;
}

/* ---- probes ---------------------------------------------------------------------- */

extern "C" double gpu_copy_bandwidth(size_t bytes, int reps) {
    void *a = gpu_alloc(bytes), *b = a ? gpu_alloc(bytes) : NULL;
    gpu_timer *t = gpu_timer_create();
    double best = 0;
    if (a && b && t) {
        gpu_copy(b, a, bytes); /* warm-up */
        for (int r = 0; r < reps; r++) {
            if (gpu_l2_flush() || gpu_timer_start(t) || gpu_copy(b, a, bytes)) break;
            double ms = gpu_timer_stop(t);
            if (ms <= 0) break;
            double gbs = 2.0 * (double)bytes / (ms * 1e-3) / 1e9;
            if (gbs > best) best = gbs;
        }
    }
    gpu_timer_free(t);
    gpu_free(a);
    gpu_free(b);
    return best;
}

extern "C" double gpu_sgemm_rate(int n, int reps) {
    size_t nn = (size_t)n * n;
    float *a = (float *)gpu_alloc(nn * 4), *b = a ? (float *)gpu_alloc(nn * 4) : NULL;
    float *c = b ? (float *)gpu_alloc(nn * 4) : NULL;
    gpu_timer *t = gpu_timer_create();
    double best = 0;
    if (a && b && c && t) {
        gpu_memset(a, 0x3c, nn * 4); /* ~0.01: finite, no denormals */
        gpu_memset(b, 0x3c, nn * 4);
        if (gpu_gemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n) == 0) {
            for (int r = 0; r < reps; r++) {
                if (gpu_timer_start(t) || gpu_gemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n)) break;
                double ms = gpu_timer_stop(t);
                if (ms <= 0) break;
                double gf = 2.0 * (double)n * n * n / (ms * 1e-3) / 1e9;
                if (gf > best) best = gf;
            }
        }
    }
    gpu_timer_free(t);
    gpu_free(a);
    gpu_free(b);
    gpu_free(c);
    return best;
}
