# Issue 4: the cache over the RocksDB backing. Cache-level crash, freshness, corruption
# and I/O-failure tests, and the backing benchmark. Included from cache/module.cmake.

# Bad data at rest through the cache: bit flips, moved and truncated records, wrong key.
hc_test(test_cache_corrupt SOURCES tests/unit/test_cache_corrupt.c LIBS hc_internal
        LABELS unit TIMEOUT 120)

# I/O errors under the cache through the LD_PRELOAD shim (plain builds only, as
# test_backing_iofail: the sanitizer runtime would have to be preloaded first).
if(NOT HC_SANITIZE)
  hc_test(test_cache_iofail SOURCES tests/unit/test_cache_iofail.c tests/unit/evict.c
          LIBS hc_internal ${CMAKE_DL_LIBS} LABELS unit TIMEOUT 120)
  add_dependencies(test_cache_iofail hc_iofail)
  set_property(TEST test_cache_iofail APPEND PROPERTY ENVIRONMENT
               "LD_PRELOAD=$<TARGET_FILE:hc_iofail>")
endif()

# The freshness rule over the real RocksDB store: recorded history, forced misses.
hc_test(test_cache_fresh_rocks SOURCES tests/unit/test_cache_fresh_rocks.c
        tests/unit/history.c tests/unit/evict.c LIBS hc_internal
        LABELS unit concurrency TIMEOUT 120)

# kill -9 of a process doing hc_put/hc_delete with sync (and wal) durability: 20 cycles
# here, more by argument (or HC_CRASH_CYCLES), e.g. `test_cache_crash 200 sync`.
hc_test(test_cache_crash SOURCES tests/unit/test_cache_crash.c tests/unit/crashlog.c
        LIBS hc_internal
        LABELS stress ARGS 20 sync TIMEOUT 600)
# The extra runs get hc_test's environment too (sanitizer options, TSan suppressions:
# backing/tsan_rocksdb.c's built-in ones do not reach programs linking the hc_internal
# archive, which drops that unreferenced object).
get_test_property(test_cache_crash ENVIRONMENT hc_issue4_env)
add_test(NAME test_cache_crash_wal COMMAND test_cache_crash 20 wal)
set_tests_properties(test_cache_crash_wal PROPERTIES LABELS stress TIMEOUT 600
                     ENVIRONMENT "${hc_issue4_env}")
# The negative control: without a WAL a SIGKILL loses acknowledged writes, and the
# checker must say so.
add_test(NAME test_cache_crash_detects_loss COMMAND test_cache_crash 3 none)
set_tests_properties(test_cache_crash_detects_loss PROPERTIES LABELS stress TIMEOUT 120
                     ENVIRONMENT "${hc_issue4_env}"
                     PASS_REGULAR_EXPRESSION "lost an acknowledged write")

# bench/backing_bench: hc_put/hc_get against bare RocksDB writes and reads of the same
# sealed records (never run by ctest).
if(HC_BENCH)
  add_executable(backing_bench bench/backing_bench.c)
  target_link_libraries(backing_bench PRIVATE hc_internal Threads::Threads)
  hc_use_jemalloc(backing_bench)
endif()
