# griffin — build, test, bench, figures, nightly.
#
#   make            build everything the machine supports (reports ✓/✗ per feature)
#   make test       unit + integration tests (prints "N passed, N failed" last)
#   make test-asan  the C unit tests under AddressSanitizer + UBSan (build-debug/; CI runs it)
#   make bench      Google Benchmark micro-benchmarks (griffin-bench)
#   make fuzz       libFuzzer target for the checkpoint parser (clang), FUZZ_SECONDS (60) s,
#                   seeds in tests/fuzz_corpus
#   make figures    the main job: run every suite at --preset cpu and draw the figures
#   make nightly    the nightly regression job (scripts/nightly.sh)
# Switches: NO_OMP=1 (no OpenMP), NO_CUDA=1 (skip CUDA even if nvcc exists),
#           NO_MPI=1 (no MPI: one-process training only; mpirun launches then say so),
#           BUILD=dir (output folder).

SHELL := /bin/bash
BUILD ?= build
CC ?= gcc
CXX ?= g++
ifeq ($(CC),cc)
CC := gcc
endif
OPT ?= -O3 -march=native
ifeq ($(SAN),1)
OPT := -O1 -g -march=native -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation -Wno-missing-field-initializers -Wshadow -Wformat=2 -I. -Ikernels -Imodels -Isuites -Iresults -Ibench
CFLAGS ?=
CFLAGS += $(OPT) $(CFLAGS_BASE)
CXXFLAGS += $(OPT) -std=c++17 -Wall -I. -Ikernels -Ibench
LDLIBS := -lm -lpthread

# ---- feature detection -------------------------------------------------
HAVE_OMP := $(if $(NO_OMP),,$(shell echo 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo 1))
HAVE_BLAS := $(shell pkg-config --exists openblas 2>/dev/null && echo 1)
HAVE_SQLITE := $(shell pkg-config --exists sqlite3 2>/dev/null && echo 1)
HAVE_BENCH := $(shell test -f /usr/include/benchmark/benchmark.h && echo 1)
HAVE_ZLIB := $(shell pkg-config --exists zlib 2>/dev/null && echo 1)
HAVE_GNUPLOT := $(shell command -v gnuplot >/dev/null 2>&1 && echo 1)
HAVE_NVCC := $(if $(NO_CUDA),,$(shell command -v nvcc >/dev/null 2>&1 && echo 1))
HAVE_CLANG := $(shell command -v clang >/dev/null 2>&1 && echo 1)
# MPI (data-parallel training over ranks): Open MPI or MPICH through pkg-config
MPI_PC := $(if $(NO_MPI),,$(shell pkg-config --exists ompi-c 2>/dev/null && echo ompi-c || (pkg-config --exists mpich 2>/dev/null && echo mpich)))
HAVE_MPI := $(if $(MPI_PC),1)

ifeq ($(HAVE_OMP),1)
CFLAGS += -fopenmp
CXXFLAGS += -fopenmp
LDFLAGS += -fopenmp
else
CFLAGS += -fopenmp-simd
endif
ifeq ($(HAVE_BLAS),1)
CFLAGS += $(shell pkg-config --cflags openblas) -DHAVE_OPENBLAS
LDLIBS += $(shell pkg-config --libs openblas)
endif
ifeq ($(HAVE_SQLITE),1)
CFLAGS += -DHAVE_SQLITE
LDLIBS += $(shell pkg-config --libs sqlite3)
endif
ifeq ($(HAVE_ZLIB),1)
LDLIBS += -lz
endif
ifeq ($(HAVE_MPI),1)
CFLAGS += $(shell pkg-config --cflags $(MPI_PC)) -DHAVE_MPI
LDLIBS += $(shell pkg-config --libs $(MPI_PC))
endif
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GIT_DIRTY := $(shell test -n "$$(git status --porcelain --untracked-files=no 2>/dev/null)" && echo 1 || echo 0)
CFLAGS += -DGRIFFIN_COMMIT='"$(GIT_COMMIT)"' -DGRIFFIN_DIRTY=$(GIT_DIRTY) \
          -DGRIFFIN_CFLAGS='"$(OPT)$(if $(HAVE_OMP), -fopenmp)"' -DGRIFFIN_HAVE_GNUPLOT=0$(HAVE_GNUPLOT)

# The commit and dirty flag are compiled into kernels/machine.c (runs record
# them): rebuild that object whenever they change, through a stamp file that
# is rewritten only when its content differs.
VERSION_STAMP := $(BUILD)/version.stamp
$(shell mkdir -p $(BUILD) && echo '$(GIT_COMMIT) $(GIT_DIRTY)' | cmp -s - $(VERSION_STAMP) 2>/dev/null || echo '$(GIT_COMMIT) $(GIT_DIRTY)' > $(VERSION_STAMP))

yn = $(if $(1),✓,✗)

# ---- sources -------------------------------------------------------------
LIB_SRC := $(wildcard kernels/*.c) $(wildcard models/*.c) $(wildcard results/*.c) \
           $(filter-out suites/main.c,$(wildcard suites/*.c))
CU_SRC := $(wildcard kernels/*.cu) $(wildcard models/*.cu)
ifeq ($(HAVE_NVCC)$(if $(CU_SRC),1),11)
CFLAGS += -DHAVE_CUDA
NVCC ?= nvcc
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(shell command -v nvcc))
CUDA_ARCH ?= $(shell nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d . | sed 's/^/-arch=sm_/')
ifeq ($(strip $(CUDA_ARCH)),)
CUDA_ARCH := -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
endif
NVCCFLAGS ?= -O3 -std=c++17 $(CUDA_ARCH) -Ikernels -Imodels -I. -Xcompiler -fPIC
LDLIBS += -L$(CUDA_HOME)/lib64 -L$(CUDA_HOME)/targets/x86_64-linux/lib -lcudart -lcublas -lstdc++
LIB_OBJ_CU := $(patsubst %.cu,$(BUILD)/%.cu.o,$(CU_SRC))
# NCCL (the GPU all-reduce of data-parallel training): needs MPI for the bootstrap
HAVE_NCCL := $(if $(HAVE_MPI),$(shell test -f $(CUDA_HOME)/include/nccl.h && echo 1))
ifeq ($(HAVE_NCCL),1)
$(BUILD)/kernels/comm.o: CFLAGS += -DHAVE_NCCL -I$(CUDA_HOME)/include
LDLIBS += -lnccl
endif
endif
LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC)) $(LIB_OBJ_CU)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
BENCH_SRC_C := $(wildcard bench/*.c)
BENCH_SRC_CC := $(wildcard bench/*.cc)
BENCH_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(BENCH_SRC_C)) $(patsubst %.cc,$(BUILD)/%.o,$(BENCH_SRC_CC))
TOOLS_SRC := $(wildcard scripts/*.c)
TOOLS_BIN := $(patsubst scripts/%.c,$(BUILD)/tools/%,$(TOOLS_SRC))

# gpu_bench (scripts/gpu-check.sh) is built everywhere so that it always compiles; without a device it says SKIP
ALL := $(BUILD)/griffin $(TEST_BIN) $(TOOLS_BIN) $(BUILD)/tests/gpu_bench
ifeq ($(HAVE_BENCH),1)
ALL += $(BUILD)/griffin-bench
endif

.PHONY: all deps features test test-asan test-bins bench fuzz figures nightly clean debug
all: features $(ALL)
	@ln -sf $(BUILD)/griffin griffin 2>/dev/null || true

features:
	@echo "griffin build ($(BUILD)):  OpenMP $(call yn,$(HAVE_OMP))  OpenBLAS $(call yn,$(HAVE_BLAS))  SQLite $(call yn,$(HAVE_SQLITE))  zlib $(call yn,$(HAVE_ZLIB))  GoogleBenchmark $(call yn,$(HAVE_BENCH))  gnuplot $(call yn,$(HAVE_GNUPLOT))  nvcc $(call yn,$(HAVE_NVCC))  MPI $(call yn,$(HAVE_MPI))  NCCL $(call yn,$(HAVE_NCCL))"

deps:
	@bash scripts/deps.sh

$(BUILD)/%.o: %.c $(wildcard kernels/*.h models/*.h suites/*.h results/*.h bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/kernels/machine.o: $(VERSION_STAMP)

$(BUILD)/%.o: %.cc $(wildcard bench/*.h kernels/*.h)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/%.cu.o: %.cu $(wildcard kernels/*.h kernels/*.cuh models/*.h)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(BUILD)/libgriffin.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/griffin: $(BUILD)/suites/main.o $(BUILD)/libgriffin.a
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/test.h tests/fd.h $(BUILD)/libgriffin.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(BUILD)/libgriffin.a -o $@ $(LDLIBS)

# the tests that drive the recording fake device link tests/fake_backend.c
FAKE_TESTS := $(BUILD)/tests/test_backend $(BUILD)/tests/test_devsuites
$(FAKE_TESTS): $(BUILD)/tests/%: tests/%.c tests/test.h tests/fake_backend.c tests/fake_backend.h $(BUILD)/libgriffin.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $< tests/fake_backend.c $(BUILD)/libgriffin.a -o $@ $(LDLIBS)

$(BUILD)/tools/%: scripts/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@ $(LDLIBS)

# tools on the library: scripts/ab-speed.sh's interference probe (kernels/busy.c),
# the small presets' GEMM shapes against the sgemm probe (gemm_fast, roofline)
LIB_TOOLS := $(BUILD)/tools/ab_busy $(BUILD)/tools/gemm_shapes
$(LIB_TOOLS): $(BUILD)/tools/%: scripts/%.c $(BUILD)/libgriffin.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(BUILD)/libgriffin.a -o $@ $(LDLIBS)

$(BUILD)/griffin-bench: $(BENCH_OBJ) $(BUILD)/libgriffin.a
	$(CXX) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lbenchmark

test: deps all
	@bash scripts/run-tests.sh $(BUILD)

debug:
	$(MAKE) BUILD=build-debug SAN=1 NO_CUDA=1 all

test-bins: $(TEST_BIN)

# The C unit tests only (the shell tests drive whole runs: too slow under
# ASan for CI); a sanitizer report fails the test that raised it.
test-asan: deps
	$(MAKE) BUILD=build-debug SAN=1 NO_CUDA=1 test-bins
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  bash scripts/run-tests.sh build-debug --unit

bench: deps all
	@echo "run: $(BUILD)/griffin-bench --benchmark_format=json --benchmark_repetitions=5"

FUZZ_SECONDS ?= 60
fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

figures: deps all
	@bash scripts/figures.sh

nightly: deps all
	@bash scripts/nightly.sh

clean:
	rm -rf build build-debug build-fuzz griffin
