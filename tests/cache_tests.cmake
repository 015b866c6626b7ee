# cache/ concurrency tests: single flight and freshness with a fake store, the policy's
# scan resistance and bounded work, and the cache stress test. Included from
# tests/tests.cmake. Threaded tests carry the concurrency label (the TSan build runs it).
hc_test(test_cache_flight SOURCES tests/unit/test_cache_flight.c tests/unit/history.c
        tests/unit/evict.c LIBS hc_internal
        LABELS unit concurrency TIMEOUT 120)
# Freshness of a store-less cache, whose writes take the shard mutex only.
hc_test(test_cache_fresh_memory SOURCES tests/unit/test_cache_fresh_memory.c LIBS hc_internal
        LABELS unit concurrency TIMEOUT 120)
hc_test(test_cache_policy SOURCES tests/unit/test_cache_policy.c LIBS hc_internal m
        LABELS unit TIMEOUT 120)
hc_test(stress_cache SOURCES tests/stress/stress_cache.c LIBS hc_internal
        LABELS stress concurrency TIMEOUT 300)
# Issue 11's core contracts: HC_EBUSY only for a stalled reader, admission before
# eviction, idle reclamation, membarrier failure reported.
hc_test(test_cache_core SOURCES tests/unit/test_cache_core.c LIBS hc_internal
        LABELS unit concurrency TIMEOUT 120)
# fork under load: the child puts, gets, drains and closes (pthread_atfork handlers).
hc_test(test_cache_fork SOURCES tests/unit/test_cache_fork.c LIBS hc_internal
        LABELS unit TIMEOUT 300)
