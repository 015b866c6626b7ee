# cache/: shards, policy, single-flight, the public API; and the hotcache library.
add_library(hc_cache OBJECT cache/policy.c cache/hotcache.c cache/store.c)
target_link_libraries(hc_cache PUBLIC hc_map hc_reclaim hc_config PkgConfig::SODIUM)

# Internal objects for the tests (they reach module internals); the installed
# library exports only hotcache.h's symbols.
add_library(hc_internal STATIC $<TARGET_OBJECTS:hc_cache> $<TARGET_OBJECTS:hc_config>
            $<TARGET_OBJECTS:hc_map> $<TARGET_OBJECTS:hc_reclaim>)
target_link_libraries(hc_internal PUBLIC hc_cache)

add_library(hotcache SHARED $<TARGET_OBJECTS:hc_cache> $<TARGET_OBJECTS:hc_config>
            $<TARGET_OBJECTS:hc_map> $<TARGET_OBJECTS:hc_reclaim>)
target_link_libraries(hotcache PRIVATE hc_cache)
target_include_directories(hotcache PUBLIC $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
                                           $<INSTALL_INTERFACE:include>)
set_target_properties(hotcache PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION 0
                      PUBLIC_HEADER include/hotcache.h)

hc_test(test_cache SOURCES tests/unit/test_cache.c LIBS hc_internal LABELS unit)
