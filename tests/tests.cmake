# Tests registered outside the modules' own module.cmake files: one hc_test per line.
hc_test(test_map SOURCES tests/unit/test_map.c LIBS hc_map hc_reclaim LABELS unit concurrency)
hc_test(test_reclaim SOURCES tests/unit/test_reclaim.c LIBS hc_reclaim LABELS unit concurrency)
hc_test(stress_map SOURCES tests/stress/stress_map.c LIBS hc_map hc_reclaim LABELS stress concurrency)
hc_test(torture_reclaim SOURCES tests/stress/torture_reclaim.c LIBS hc_reclaim LABELS stress concurrency)
include(tests/model/model.cmake)
