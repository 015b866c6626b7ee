# Tests registered outside the modules' own module.cmake files: one hc_test per line.
hc_test(test_map SOURCES tests/unit/test_map.c LIBS hc_map hc_reclaim LABELS unit concurrency)
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
