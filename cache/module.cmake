# cache/: shards, policy, single-flight, the public API; and the hotcache library.
add_library(hc_cache OBJECT cache/policy.c cache/hotcache.c cache/store.c
            cache/store_rocksdb.c cache/kel.c cache/log.c cache/backup.c
            cache/kel_export.c cache/kel_escrow.c cache/kel_history.c cache/kel_supersede.c cache/metrics.c
            cache/direct.c)
target_link_libraries(hc_cache PUBLIC hc_map hc_reclaim hc_config hc_backing hc_keri PkgConfig::SODIUM m)
target_compile_definitions(hc_cache PRIVATE HC_HAVE_BACKING=1)

# Internal objects for the tests (they reach module internals); the installed
# library exports only hotcache.h's symbols.
add_library(hc_internal STATIC $<TARGET_OBJECTS:hc_cache> $<TARGET_OBJECTS:hc_config>
            $<TARGET_OBJECTS:hc_map> $<TARGET_OBJECTS:hc_reclaim> $<TARGET_OBJECTS:hc_backing> $<TARGET_OBJECTS:hc_keri>)
target_link_libraries(hc_internal PUBLIC hc_cache)

add_library(hotcache SHARED $<TARGET_OBJECTS:hc_cache> $<TARGET_OBJECTS:hc_config>
            $<TARGET_OBJECTS:hc_map> $<TARGET_OBJECTS:hc_reclaim_lib> $<TARGET_OBJECTS:hc_backing> $<TARGET_OBJECTS:hc_keri>)
target_link_libraries(hotcache PRIVATE hc_cache)
target_include_directories(hotcache PUBLIC $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
                                           $<INSTALL_INTERFACE:include>)
# soname libhotcache.so.1: 0.2.0 gave every public struct a leading size field (a break
# from 0.1's layout); from then on structs only grow at their end, so it stays 1.
set_target_properties(hotcache PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION 1
                      PUBLIC_HEADER include/hotcache.h)

hc_test(test_cache SOURCES tests/unit/test_cache.c LIBS hc_internal LABELS unit)
hc_test(test_abi SOURCES tests/unit/test_abi.c LIBS hc_internal LABELS unit)
hc_test(test_log SOURCES tests/unit/test_log.c LIBS hc_internal LABELS unit)
hc_test(test_format SOURCES tests/unit/test_format.c LIBS hc_internal LABELS unit)
hc_test(test_kel_export SOURCES tests/unit/test_kel_export.c LIBS hc_internal LABELS unit)
hc_test(test_backup SOURCES tests/unit/test_backup.c LIBS hc_internal LABELS unit concurrency)
hc_test(test_cache_rocks SOURCES tests/unit/test_cache_rocks.c LIBS hc_internal LABELS unit)
target_link_options(hotcache PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/cache/hotcache.map)
set_target_properties(hotcache PROPERTIES LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cache/hotcache.map)
hc_test(test_kel SOURCES tests/unit/test_kel.c LIBS hc_internal LABELS unit concurrency)
hc_test(test_kel_escrow SOURCES tests/unit/test_kel_escrow.c LIBS hc_internal LABELS unit)
hc_test(test_kel_recovery SOURCES tests/unit/test_kel_recovery.c LIBS hc_internal LABELS unit
        concurrency)
hc_test(test_delegation SOURCES tests/unit/test_delegation.c LIBS hc_internal LABELS unit)
hc_test(test_delegated_recovery SOURCES tests/unit/test_delegated_recovery.c LIBS hc_internal LABELS unit)
include(tests/cache_tests.cmake)
include(tests/issue4.cmake OPTIONAL)

# The API-sequence fuzzer: its corpus replayed in every build; libFuzzer with HC_FUZZ.
hc_test(fuzz_api_replay SOURCES tests/fuzz/fuzz_api.c tests/fuzz/replay_main.c
        LIBS hc_internal LABELS unit ARGS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/api)
if(HC_FUZZ)
  add_executable(fuzz_api tests/fuzz/fuzz_api.c)
  target_link_options(fuzz_api PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_api PRIVATE hc_internal Threads::Threads)
endif()
hc_test(test_oom SOURCES tests/unit/test_oom.c LIBS hc_internal LABELS unit)
include(tests/issue7.cmake OPTIONAL)
# Issue 12: safe store handling, read-only inspection, the store's log (test_store_safety).
hc_test(test_store_safety SOURCES tests/unit/test_store_safety.c LIBS hc_internal
        LABELS unit TIMEOUT 120)

# The public metrics; promtool (Debian's prometheus, installed by tools/deps.sh) checks
# the Prometheus text.
hc_test(test_metrics SOURCES tests/unit/test_metrics.c LIBS hc_internal LABELS unit)
hc_test(test_direct SOURCES tests/unit/test_direct.c LIBS hc_internal LABELS unit)
add_test(NAME metrics_promtool
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/unit/promtool.sh $<TARGET_FILE:test_metrics>
                 ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(metrics_promtool PROPERTIES LABELS unit TIMEOUT 120
                     ENVIRONMENT "HC_SOURCE=${CMAKE_SOURCE_DIR}")
hc_test(test_alloc_decay SOURCES tests/unit/test_alloc_decay.c LIBS hc_internal LABELS unit)
