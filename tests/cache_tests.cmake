# cache/ concurrency tests: single flight and freshness with a fake store, the policy's
# scan resistance and bounded work, and the cache stress test. Included from
# tests/tests.cmake. Threaded tests carry the concurrency label (the TSan build runs it).
hc_test(test_cache_flight SOURCES tests/unit/test_cache_flight.c tests/unit/history.c
        tests/unit/evict.c LIBS hc_internal
        LABELS unit concurrency TIMEOUT 120)
# Freshness of a store-less cache, whose writes take the shard mutex only.
hc_test(test_cache_fresh_memory SOURCES tests/unit/test_cache_fresh_memory.c LIBS hc_internal
        LABELS unit concurrency TIMEOUT 120)
# With bench/'s exact LRU (its sources: the sanitizer builds have no bench targets).
hc_test(test_cache_policy SOURCES tests/unit/test_cache_policy.c bench/sim_lru.c
        bench/sim_table.c bench/sim_wtinylfu.c bench/trace.c tools/zipf.c LIBS hc_internal m
        LABELS unit TIMEOUT 120)
hc_test(stress_cache SOURCES tests/stress/stress_cache.c LIBS hc_internal
        LABELS stress concurrency TIMEOUT 300)
# Issue 11's core contracts: HC_EBUSY only for a stalled reader, admission before
# eviction, idle reclamation, membarrier failure reported.
hc_test(test_cache_core SOURCES tests/unit/test_cache_core.c LIBS hc_internal
        LABELS unit concurrency TIMEOUT 120)
# The same with HC_NO_MEMBARRIER set: fenced read sections and no membarrier, what a
# write-heavy embedder on a virtual machine may choose (README, Performance).
add_test(NAME test_cache_core_fenced COMMAND test_cache_core)
get_test_property(test_cache_core ENVIRONMENT hc_core_env)
set_tests_properties(test_cache_core_fenced PROPERTIES LABELS "unit;concurrency" TIMEOUT 120
  ENVIRONMENT "${hc_core_env};HC_NO_MEMBARRIER=1")
# fork under load: the child puts, gets, drains and closes (pthread_atfork handlers).
hc_test(test_cache_fork SOURCES tests/unit/test_cache_fork.c LIBS hc_internal
        LABELS unit TIMEOUT 300)
