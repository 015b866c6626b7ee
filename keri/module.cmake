# keri/: KERI v1 parsing, checks and key-state derivation (pure; see keri/keri.h).

# BLAKE3 from Debian's official C sources (librust-blake3-dev), built here, never copied.
set(HC_BLAKE3_SOURCES ${HC_BLAKE3_DIR}/blake3.c ${HC_BLAKE3_DIR}/blake3_dispatch.c
                      ${HC_BLAKE3_DIR}/blake3_portable.c)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  foreach(isa sse2 sse41 avx2 avx512)
    list(APPEND HC_BLAKE3_SOURCES ${HC_BLAKE3_DIR}/blake3_${isa}_x86-64_unix.S)
  endforeach()
  set(HC_BLAKE3_DEFS "")
else()
  set(HC_BLAKE3_DEFS BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512)
endif()
add_library(hc_blake3 STATIC ${HC_BLAKE3_SOURCES})
target_compile_options(hc_blake3 PRIVATE -w)
target_compile_definitions(hc_blake3 PRIVATE ${HC_BLAKE3_DEFS})
target_include_directories(hc_blake3 PUBLIC ${HC_BLAKE3_DIR})

set(HC_KERI_SOURCES keri/error.c keri/cesr.c keri/attach.c keri/json.c keri/threshold.c
                    keri/said.c keri/event.c keri/apply.c keri/state_json.c
                    keri/state_codec.c keri/delegate.c)
add_library(hc_keri OBJECT ${HC_KERI_SOURCES})
target_link_libraries(hc_keri PUBLIC hc_blake3 PkgConfig::SODIUM)

hc_test(test_keri SOURCES tests/unit/test_keri.c LIBS hc_keri LABELS unit)

# The fuzz target's corpus replayed by a plain driver in every build.
hc_test(fuzz_keri_replay SOURCES tests/fuzz/fuzz_keri.c LIBS hc_keri LABELS unit
        ARGS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/keri)
target_compile_definitions(fuzz_keri_replay PRIVATE HC_FUZZ_REPLAY_MAIN=1)

# libFuzzer build: configure with clang, e.g.
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DHC_FUZZ=ON -DHC_BENCH=OFF
#   cmake --build build-fuzz --target fuzz_keri
#   build-fuzz/fuzz_keri -max_total_time=300 tests/fuzz/corpus/keri
option(HC_FUZZ "build libFuzzer targets (needs clang)" OFF)
if(HC_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HC_FUZZ needs clang (CC=clang)")
  endif()
  # The KERI sources are compiled into the target itself so that libFuzzer's coverage
  # instrumentation reaches them.
  add_executable(fuzz_keri tests/fuzz/fuzz_keri.c ${HC_KERI_SOURCES})
  target_compile_options(fuzz_keri PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=all)
  target_link_options(fuzz_keri PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_keri PRIVATE hc_blake3 PkgConfig::SODIUM)
endif()
