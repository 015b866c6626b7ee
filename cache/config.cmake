# cache/config.cmake: the config parser and the error seam (hc_config_*, hc_strerror,
# hc_last_error), their unit test and the config fuzz target.
add_library(hc_config OBJECT cache/config.c cache/error.c cache/abi.c)
target_link_libraries(hc_config PUBLIC PkgConfig::INIH)

hc_test(test_config SOURCES tests/unit/test_config.c LIBS hc_config LABELS unit)

# The fuzz target's inputs replayed as a plain test in every build: the seed corpus and
# the good and bad files of the unit test. tests/fuzz/replay_main.c takes files or
# directories, so other fuzz targets reuse it the same way.
hc_test(fuzz_config_replay
  SOURCES tests/fuzz/fuzz_config.c tests/fuzz/replay_main.c
  LIBS hc_config LABELS unit
  ARGS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/config ${CMAKE_SOURCE_DIR}/tests/data/config)

# libFuzzer: configure a separate build directory with clang, e.g.
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DHC_FUZZ=ON -DHC_BENCH=OFF
#   cmake --build build-fuzz --target fuzz_config
#   build-fuzz/fuzz_config -max_total_time=300 build-fuzz/corpus-config tests/fuzz/corpus/config
# The parser's sources are compiled into the target itself so that they carry the
# fuzzer's coverage instrumentation (the hc_config object library does not).
option(HC_FUZZ "build libFuzzer targets with clang" OFF)
if(HC_FUZZ AND NOT TARGET fuzz_config)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HC_FUZZ=ON needs clang: configure this build directory with "
                        "CC=clang CXX=clang++")
  endif()
  add_executable(fuzz_config tests/fuzz/fuzz_config.c cache/config.c cache/error.c
                 cache/abi.c)
  target_compile_options(fuzz_config PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(fuzz_config PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_config PRIVATE PkgConfig::INIH)
endif()
