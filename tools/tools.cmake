# tools/: the hotcache command.
if(EXISTS ${CMAKE_SOURCE_DIR}/tools/load.cmake)
  include(tools/load.cmake)
else()
  set(HC_LOAD_SOURCES tools/load_stub.c)
endif()
add_executable(hotcache_cli tools/hotcache.c ${HC_LOAD_SOURCES})
set_target_properties(hotcache_cli PROPERTIES OUTPUT_NAME hotcache)
target_link_libraries(hotcache_cli PRIVATE hc_internal Threads::Threads m)
hc_use_jemalloc(hotcache_cli)

# The command's own parts (issue 12): --version, --help, unknown commands, and the read
# commands beside a process that holds the store as primary (tests/tools/store_holder).
add_executable(store_holder tests/tools/store_holder.c)
target_link_libraries(store_holder PRIVATE hc_internal Threads::Threads m)
hc_use_jemalloc(store_holder)
add_test(NAME test_cli
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/tools/test_cli.sh $<TARGET_FILE:hotcache_cli>
                 $<TARGET_FILE:store_holder> ${CMAKE_SOURCE_DIR})
set_tests_properties(test_cli PROPERTIES LABELS unit TIMEOUT 120)
