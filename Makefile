# Thin wrapper over CMake. `make run` and `make test` are the README's quick start;
# both install missing Debian packages first (as root; otherwise they say what to run).
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE   ?= cmake
RELEASE := build/release
ASAN    := build/asan
TSAN    := build/tsan
HC_STRESS_SECONDS ?= 3
export HC_STRESS_SECONDS

.PHONY: all deps build run test test-release asan-build test-asan test-tsan bench soak seed-sweep clean

all: build

deps:
	@sh tools/deps.sh

$(RELEASE)/CMakeCache.txt: | deps
	$(CMAKE) -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release

build: deps $(RELEASE)/CMakeCache.txt
	$(CMAKE) --build $(RELEASE) -j$(JOBS)

# The main job: a node-daemon load test against a fresh temporary store, then the same
# workload with the cache bypassed, and the report (about 30 s).
run: build
	$(RELEASE)/hotcache load --seconds 12 --compare

test: test-release test-asan test-tsan
	@echo "make test: release, ASan+UBSan and TSan suites passed"

test-release: build
	cd $(RELEASE) && ctest --output-on-failure -j$(JOBS) -LE soak

# The ASan+UBSan tree is also the portable one (HC_PORTABLE: no membarrier, fenced
# read sections), so every test runs on the path macOS and other systems take.
asan-build: deps
	$(CMAKE) -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHC_SANITIZE=address,undefined -DHC_BENCH=OFF -DHC_PORTABLE=ON
	$(CMAKE) --build $(ASAN) -j$(JOBS)

test-asan: asan-build
	cd $(ASAN) && ctest --output-on-failure -j$(JOBS) -LE soak

test-tsan: deps
	$(CMAKE) -S . -B $(TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHC_SANITIZE=thread -DHC_BENCH=OFF
	$(CMAKE) --build $(TSAN) -j$(JOBS)
	cd $(TSAN) && ctest --output-on-failure -j$(JOBS) -L 'concurrency|stress' -LE soak

bench: build
	$(RELEASE)/bench/map_bench
	$(RELEASE)/bench/cache_bench
	$(RELEASE)/bench/hitratio
	$(RELEASE)/bench/memory_bench
	$(RELEASE)/bench/recovery_bench

# Long runs (minutes to an hour): 200 crash and power-loss cycles, the larger spin
# models, stress tests for 60 s each. Reported in the notes, never part of `make test`.
soak: build
	cd $(RELEASE) && HC_STRESS_SECONDS=60 ctest --output-on-failure -L 'stress|soak'

# The cache tests over fixed hash seeds 1-40 (SEEDS="FIRST LAST"), release and ASan
# trees: thresholds that fail on a few of the random seeds (tests/tools/seed_sweep.sh).
SEEDS ?= 1 40
seed-sweep: build asan-build
	sh tests/tools/seed_sweep.sh $(RELEASE) $(SEEDS)
	sh tests/tools/seed_sweep.sh $(ASAN) $(SEEDS)

clean:
	rm -rf build
