# bench/cache.cmake: the cache benchmarks (cache_bench, hitratio, memory_bench), the
# RocksDB peer adapter, the reference policy simulators and their unit test.
# Benchmarks never run under ctest; only test_sim (the simulators on hand-computed
# traces) does, and memory_bench --check, which makes the README's memory bounds tests
# (test_memory_bound, test_rss_bound, soak_rss_bound below). Until the hotcache library
# exists, cache_bench runs the peers only and hitratio the simulators only;
# memory_bench needs the library.

# The Zipf generator and rng, shared with the map bench.
add_library(hc_bench_zipf STATIC tools/zipf.c)
target_link_libraries(hc_bench_zipf PUBLIC m)

# HyperClockCache and LRUCache behind a C interface; packaged librocksdb only.
add_library(rocks_cache_adapter STATIC bench/rocks_cache_adapter.cc)
target_link_libraries(rocks_cache_adapter PUBLIC PkgConfig::ROCKSDB)

# The reference policies (exact LRU, CLOCK, S3-FIFO, ARC, W-TinyLFU, Belady's OPT) and their unit test.
add_library(hc_bench_sim STATIC bench/sim_table.c bench/sim_lru.c bench/sim_clock.c
            bench/sim_s3fifo.c bench/sim_arc.c bench/sim_wtinylfu.c bench/sim_opt.c)
hc_test(test_sim SOURCES tests/unit/test_sim.c LIBS hc_bench_sim LABELS unit)

# Links a bench to the hotcache library, on jemalloc as embedders are told to run it
# (hc_use_jemalloc, reclaim/module.cmake): the whole process, peers included, then uses
# one allocator, and jemalloc is named before libc and libstdc++. (A libhotcache.so that
# pulled libjemalloc.so in behind them made operator new come from jemalloc and free()
# from glibc, and librocksdb's static initialisers aborted at startup.)
function(hcb_link_hotcache target)
  if(COMMAND hc_use_jemalloc)
    hc_use_jemalloc(${target})
  elseif(TARGET PkgConfig::JEMALLOC)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  endif()
  target_link_libraries(${target} PRIVATE hotcache)
  target_compile_definitions(${target} PRIVATE HCB_HAVE_HOTCACHE=1)
endfunction()

add_executable(cache_bench bench/cache_bench.c tools/hist.c)
add_executable(hitratio bench/hitratio.c bench/trace.c)
if(TARGET hotcache)
  hcb_link_hotcache(cache_bench)
  # hitratio links the library's internal objects (the same code as libhotcache) for
  # cache_fix_seed, the bench seam that fixes the hash seed (cache/cache.h), so its
  # rows repeat from run to run.
  if(COMMAND hc_use_jemalloc)
    hc_use_jemalloc(hitratio)
  elseif(TARGET PkgConfig::JEMALLOC)
    target_link_libraries(hitratio PRIVATE PkgConfig::JEMALLOC)
  endif()
  target_link_libraries(hitratio PRIVATE hc_internal)
  target_compile_definitions(hitratio PRIVATE HCB_HAVE_HOTCACHE=1 HCB_HAVE_SEED=1)
  # A fixed run of cache-only puts for counting profilers (cachegrind): no timing.
  add_executable(put_loop bench/put_loop.c)
  hcb_link_hotcache(put_loop)
  target_link_libraries(put_loop PRIVATE hc_bench_zipf)
  add_executable(memory_bench bench/memory_bench.c)
  hcb_link_hotcache(memory_bench)
  target_link_libraries(memory_bench PRIVATE hc_bench_zipf Threads::Threads)
  # The bound holds when the process's allocator returns freed pages within about a
  # second (README, Memory): jemalloc's decay at 0, as a daemon that needs it sets.
  # --quick writes 100 MB (about 3 s; peak 69 of 112 MiB when added), the soak form
  # 500 MB (92-102 MiB idle).
  add_test(NAME test_rss_bound COMMAND memory_bench --rocksdb --quick --check)
  add_test(NAME soak_rss_bound COMMAND memory_bench --rocksdb --check)
  set_tests_properties(test_rss_bound soak_rss_bound PROPERTIES
                       ENVIRONMENT "MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0")
  # Cache only (README, Performance): accounted <= limit + slack and RSS growth <=
  # 1.15 x limit + the fixed overhead under 5 s of churn at a 256 MiB limit (285-288
  # of 300.9 MiB when added).
  add_test(NAME test_memory_bound COMMAND memory_bench --quick --check)
  set_tests_properties(test_rss_bound soak_rss_bound test_memory_bound PROPERTIES
                       RUN_SERIAL TRUE TIMEOUT 300)
  set_tests_properties(test_rss_bound test_memory_bound PROPERTIES LABELS unit)
  set_tests_properties(soak_rss_bound PROPERTIES LABELS soak)
endif()
target_link_libraries(cache_bench PRIVATE rocks_cache_adapter hc_bench_zipf Threads::Threads ${CMAKE_DL_LIBS})
target_link_libraries(hitratio PRIVATE hc_bench_sim hc_bench_zipf)
# Next to map_bench: build/<dir>/bench/.
set_target_properties(cache_bench hitratio PROPERTIES
                      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
if(TARGET memory_bench)
  set_target_properties(memory_bench put_loop PROPERTIES
                        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endif()

# HOOK for cache_bench's "hotcache_batch" rows: this probe must match loop_batch() in
# bench/cache_bench.c. If the batch API is absent (or has another signature) the rows
# are skipped and configure says so.
if(TARGET hotcache)
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_INCLUDES ${CMAKE_SOURCE_DIR}/include)
  set(CMAKE_REQUIRED_FLAGS "-Werror=implicit-function-declaration -Werror=incompatible-pointer-types -Werror=int-conversion")
  # Declaration only: the probe compiles, it need not link.
  set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
  unset(HCB_HAVE_BATCH CACHE) # re-probe on every configure: the header is evolving
  check_c_source_compiles("
#include <stddef.h>
#include \"hotcache.h\"
static void fn(size_t i, int st, const void *v, size_t n, void *a)
{ (void)i; (void)st; (void)v; (void)n; (void)a; }
int main(void) {
  const void *k[1] = { \"k\" }; size_t kl[1] = { 1 };
  return hc_read_batch((hc_cache *)0, 1, k, kl, fn, (void *)0);
}" HCB_HAVE_BATCH)
  unset(CMAKE_TRY_COMPILE_TARGET_TYPE)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_INCLUDES)
  if(HCB_HAVE_BATCH)
    target_compile_definitions(cache_bench PRIVATE HCB_HAVE_BATCH=1)
  else()
    message(STATUS "cache_bench: no hc_read_batch with the expected signature in hotcache.h; "
                   "the hotcache_batch rows are skipped (see HOOK in bench/cache_bench.c)")
  endif()
endif()
