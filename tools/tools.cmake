# tools/: the hotcache command.
if(EXISTS ${CMAKE_SOURCE_DIR}/tools/load.cmake)
  include(tools/load.cmake)
else()
  set(HC_LOAD_SOURCES tools/load_stub.c)
endif()
add_executable(hotcache_cli tools/hotcache.c ${HC_LOAD_SOURCES})
set_target_properties(hotcache_cli PROPERTIES OUTPUT_NAME hotcache)
target_link_libraries(hotcache_cli PRIVATE hc_internal Threads::Threads m)
