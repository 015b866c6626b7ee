# Tests registered outside the modules' own module.cmake files: one hc_test per line.
hc_test(test_map SOURCES tests/unit/test_map.c LIBS hc_map hc_reclaim LABELS unit concurrency)
hc_test(test_index SOURCES tests/unit/test_index.c LIBS hc_map hc_reclaim LABELS unit concurrency)
# The index's broken variant (index.c with INDEX_BROKEN_NO_GRACE: replaced tables freed
# without a grace period) must be caught by test_index's race (WILL_FAIL). Release
# tree only, as sb_reclaim_broken.
if(NOT HC_SANITIZE)
  add_library(hc_index_broken OBJECT map/index.c)
  target_link_libraries(hc_index_broken PUBLIC hc_reclaim PkgConfig::SODIUM)
  target_compile_definitions(hc_index_broken PRIVATE INDEX_BROKEN_NO_GRACE=1)
  hc_test(test_index_broken SOURCES tests/unit/test_index.c $<TARGET_OBJECTS:hc_index_broken>
          LIBS hc_reclaim PkgConfig::SODIUM LABELS unit concurrency ARGS race)
  set_tests_properties(test_index_broken PROPERTIES WILL_FAIL TRUE)
endif()
# Under TSan: index.c publishing entries without release (INDEX_BROKEN_RELAXED_PUBLISH)
# must be reported as a race by the same test.
if(HC_SANITIZE STREQUAL "thread")
  add_library(hc_index_relaxed OBJECT map/index.c)
  target_link_libraries(hc_index_relaxed PUBLIC hc_reclaim PkgConfig::SODIUM)
  target_compile_definitions(hc_index_relaxed PRIVATE INDEX_BROKEN_RELAXED_PUBLISH=1)
  hc_test(test_index_relaxed SOURCES tests/unit/test_index.c $<TARGET_OBJECTS:hc_index_relaxed>
          LIBS hc_reclaim PkgConfig::SODIUM LABELS unit concurrency ARGS race)
  set_tests_properties(test_index_relaxed PROPERTIES WILL_FAIL TRUE)
endif()
hc_test(test_reclaim SOURCES tests/unit/test_reclaim.c LIBS hc_reclaim LABELS unit concurrency)
hc_test(stress_map SOURCES tests/stress/stress_map.c LIBS hc_map hc_reclaim LABELS stress concurrency)
hc_test(torture_reclaim SOURCES tests/stress/torture_reclaim.c LIBS hc_reclaim LABELS stress concurrency)
include(tests/model/model.cmake)
# On the system allocator whatever the build (no hc_use_jemalloc): the alignment of
# cache-line-aligned types is malloc's to get wrong.
add_executable(test_alloc_line tests/unit/test_alloc_line.c)
target_link_libraries(test_alloc_line PRIVATE hc_reclaim PkgConfig::CMOCKA Threads::Threads)
add_test(NAME test_alloc_line COMMAND test_alloc_line)
set_tests_properties(test_alloc_line PROPERTIES LABELS unit)
# The store-buffering harness (tests/stress/sb_reclaim.c): the only test that fails
# when the poller's membarrier is missing. Release tree only (the fenceless sections
# are not compiled under TSan, and ASan's slowdown hides the window); the broken
# variant's reclaim.c polls without the barrier and must be caught (WILL_FAIL), as the
# spin models' negative controls are. 77: no membarrier here, both skip.
if(NOT HC_SANITIZE)
  add_library(hc_reclaim_broken OBJECT reclaim/alloc.c reclaim/reclaim.c)
  target_link_libraries(hc_reclaim_broken PUBLIC PkgConfig::CK Threads::Threads ${CMAKE_DL_LIBS})
  target_compile_definitions(hc_reclaim_broken PRIVATE HC_RECLAIM_BROKEN_NO_BARRIER=1)
  foreach(v sb_reclaim sb_reclaim_broken)
    add_executable(${v} tests/stress/sb_reclaim.c)
    add_test(NAME ${v} COMMAND ${v} 5)
    set_tests_properties(${v} PROPERTIES LABELS stress TIMEOUT 60 SKIP_RETURN_CODE 77)
  endforeach()
  target_link_libraries(sb_reclaim PRIVATE hc_reclaim Threads::Threads)
  target_link_libraries(sb_reclaim_broken PRIVATE hc_reclaim_broken Threads::Threads)
  set_tests_properties(sb_reclaim_broken PROPERTIES WILL_FAIL TRUE)
endif()
