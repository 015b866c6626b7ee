# cache/: shards, policy, single-flight, the public API; and the hotcache library.
add_library(hc_cache OBJECT cache/policy.c cache/hotcache.c cache/store.c
            cache/store_rocksdb.c cache/kel.c)
target_link_libraries(hc_cache PUBLIC hc_map hc_reclaim hc_config hc_backing hc_keri PkgConfig::SODIUM)
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
set_target_properties(hotcache PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION 0
                      PUBLIC_HEADER include/hotcache.h)

hc_test(test_cache SOURCES tests/unit/test_cache.c LIBS hc_internal LABELS unit)
hc_test(test_cache_rocks SOURCES tests/unit/test_cache_rocks.c LIBS hc_internal LABELS unit)
target_link_options(hotcache PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/cache/hotcache.map)
set_target_properties(hotcache PROPERTIES LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cache/hotcache.map)
hc_test(test_kel SOURCES tests/unit/test_kel.c LIBS hc_internal LABELS unit concurrency)
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
