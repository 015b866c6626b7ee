# Tests registered outside the modules' own module.cmake files: one hc_test per line.
hc_test(test_map SOURCES tests/unit/test_map.c LIBS hc_splitmap hc_reclaim LABELS unit concurrency)
hc_test(test_index SOURCES tests/unit/test_index.c LIBS hc_map hc_reclaim LABELS unit concurrency)
# The index's broken variants: index.c built with one define, and test_index's race
# against it must fail (WILL_FAIL). INDEX_BROKEN_NO_GRACE (replaced tables freed without
# a grace period) in the release tree, as sb_reclaim_broken; INDEX_BROKEN_RELAXED_PUBLISH
# (entries published without release) under TSan, which reports the race.
function(hc_index_broken name define)
  add_library(${name}_obj OBJECT map/index.c)
  target_link_libraries(${name}_obj PUBLIC hc_reclaim PkgConfig::SODIUM)
  target_compile_definitions(${name}_obj PRIVATE ${define}=1)
  hc_test(${name} SOURCES tests/unit/test_index.c $<TARGET_OBJECTS:${name}_obj>
          LIBS hc_reclaim PkgConfig::SODIUM LABELS unit concurrency ARGS race)
  set_tests_properties(${name} PROPERTIES WILL_FAIL TRUE)
endfunction()
if(NOT HC_SANITIZE)
  hc_index_broken(test_index_broken INDEX_BROKEN_NO_GRACE)
elseif(HC_SANITIZE STREQUAL "thread")
  hc_index_broken(test_index_relaxed INDEX_BROKEN_RELAXED_PUBLISH)
endif()
hc_test(test_reclaim SOURCES tests/unit/test_reclaim.c LIBS hc_reclaim LABELS unit concurrency)
hc_test(test_alloc_init SOURCES tests/unit/test_alloc_init.c LIBS hc_reclaim LABELS unit concurrency)
# Six sections of HC_STRESS_SECONDS each: `make soak` (60 s) needs more than the default
# 300 s (it timed out at 300 s after five sections).
hc_test(stress_map SOURCES tests/stress/stress_map.c LIBS hc_splitmap hc_reclaim LABELS stress concurrency
        TIMEOUT 600)
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
  # The broken variant stops as soon as it is caught, so it may run for up to 30 s. It
  # is caught only while its reader and poller run at the same time on two cores, so it
  # runs alone (RUN_SERIAL): next to two busy processes it took up to 14 s here and
  # missed 2 of 8 runs of 20 s (and one CI run of 30 s), alone 8 of 8 within 70 ms.
  add_executable(sb_reclaim tests/stress/sb_reclaim.c)
  add_executable(sb_reclaim_broken tests/stress/sb_reclaim.c)
  add_test(NAME sb_reclaim COMMAND sb_reclaim 5)
  add_test(NAME sb_reclaim_broken COMMAND sb_reclaim_broken 30)
  set_tests_properties(sb_reclaim sb_reclaim_broken PROPERTIES LABELS stress TIMEOUT 60
                       SKIP_RETURN_CODE 77)
  target_link_libraries(sb_reclaim PRIVATE hc_reclaim Threads::Threads)
  target_link_libraries(sb_reclaim_broken PRIVATE hc_reclaim_broken Threads::Threads)
  set_tests_properties(sb_reclaim_broken PROPERTIES WILL_FAIL TRUE RUN_SERIAL TRUE)
  # Switch mode: the read-section mode changes every few polls; the broken variant's
  # reclaim.c stops the barriers with the switch to fenced instead of after the next
  # one (reclaim.h, "Choosing the mode").
  add_library(hc_reclaim_broken_switch OBJECT reclaim/alloc.c reclaim/reclaim.c)
  target_link_libraries(hc_reclaim_broken_switch PUBLIC PkgConfig::CK Threads::Threads
                        ${CMAKE_DL_LIBS})
  target_compile_definitions(hc_reclaim_broken_switch PRIVATE HC_RECLAIM_BROKEN_SWITCH=1)
  add_executable(sb_reclaim_switch_broken tests/stress/sb_reclaim.c)
  target_link_libraries(sb_reclaim_switch_broken PRIVATE hc_reclaim_broken_switch
                        Threads::Threads)
  # The second control loads the mode before announcing the section (reclaim.h).
  add_executable(sb_reclaim_mode_first tests/stress/sb_reclaim.c)
  target_link_libraries(sb_reclaim_mode_first PRIVATE hc_reclaim Threads::Threads)
  target_compile_definitions(sb_reclaim_mode_first PRIVATE HC_RECLAIM_BROKEN_MODE_FIRST=1)
  add_test(NAME sb_reclaim_mode_first COMMAND sb_reclaim_mode_first 55 3 60)
  add_test(NAME sb_reclaim_switch_gap COMMAND sb_reclaim 5 3 60)
  add_test(NAME sb_reclaim_switch COMMAND sb_reclaim 5 3)
  add_test(NAME sb_reclaim_switch_broken COMMAND sb_reclaim_switch_broken 30 3)
  set_tests_properties(sb_reclaim_switch sb_reclaim_switch_gap sb_reclaim_switch_broken
                       sb_reclaim_mode_first
                       PROPERTIES LABELS stress TIMEOUT 60 SKIP_RETURN_CODE 77)
  # Caught within 0.07-8 s in 8 runs here (sections are 60 us long): 55 s of margin.
  set_tests_properties(sb_reclaim_switch_broken sb_reclaim_mode_first
                       PROPERTIES WILL_FAIL TRUE RUN_SERIAL TRUE)
  set_tests_properties(sb_reclaim_mode_first PROPERTIES TIMEOUT 80)
endif()
# The own signed KERI streams of tests/data/keri-own (the Rust crate's tests read them):
# the committed bytes are what tests/tools/keri_fixtures.c generates from fixed seeds.
hc_test(keri_fixtures SOURCES tests/tools/keri_fixtures.c LIBS hc_internal LABELS unit
        ARGS --check ${CMAKE_SOURCE_DIR}/tests/data/keri-own)
# Issue 10's property test: permutations of valid KELs' messages (events, witness
# receipts, a delegator's anchors) reach the in-order state (HC_PERMUTE_SEEDS=n for more).
hc_test(test_kel_permute SOURCES tests/unit/test_kel_permute.c LIBS hc_internal LABELS unit)
