# backing/: the RocksDB store, sealing of payloads at rest, the data key file.
add_library(hc_backing OBJECT
  backing/error.c backing/nonce.c backing/seal.c backing/keyfile.c backing/store.c backing/memory.c backing/read.c
  backing/write.c backing/checkpoint.c backing/format.c backing/tsan_rocksdb.c)
target_link_libraries(hc_backing PUBLIC PkgConfig::ROCKSDB PkgConfig::SODIUM)

hc_test(test_backing SOURCES tests/unit/test_backing.c LIBS hc_backing LABELS unit TIMEOUT 120)

# The I/O-failure shim and the test that preloads it. LD_PRELOAD under ASan/TSan would
# need the sanitizer runtime first, so the test runs in plain builds only.
add_library(hc_iofail SHARED tests/shim/iofail.c)
target_link_libraries(hc_iofail PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(hc_iofail PROPERTIES C_VISIBILITY_PRESET hidden)
if(NOT HC_SANITIZE)
  hc_test(test_backing_iofail SOURCES tests/unit/test_backing_iofail.c LIBS hc_backing
          ${CMAKE_DL_LIBS} LABELS unit TIMEOUT 120)
  add_dependencies(test_backing_iofail hc_iofail)
  set_property(TEST test_backing_iofail APPEND PROPERTY ENVIRONMENT
               "LD_PRELOAD=$<TARGET_FILE:hc_iofail>")
endif()

hc_test(test_backing_threads SOURCES tests/unit/test_backing_threads.c LIBS hc_backing
        LABELS unit concurrency TIMEOUT 120)

# kill -9 during sync (and wal) writes; 20 cycles each here, more by argument.
hc_test(test_backing_crash SOURCES tests/unit/test_backing_crash.c tests/unit/crashlog.c
        LIBS hc_backing
        LABELS stress ARGS 20 sync TIMEOUT 300)
add_test(NAME test_backing_crash_wal COMMAND test_backing_crash 20 wal)
set_tests_properties(test_backing_crash_wal PROPERTIES LABELS stress TIMEOUT 300)
# The negative control: without a WAL a SIGKILL loses acknowledged writes, and the
# checker must say so.
add_test(NAME test_backing_crash_detects_loss COMMAND test_backing_crash 3 none)
set_tests_properties(test_backing_crash_detects_loss PROPERTIES LABELS stress TIMEOUT 120
                     PASS_REGULAR_EXPRESSION "lost an acknowledged write")

# The record decoder's fuzz target: its seed corpus replayed in every build, and a
# libFuzzer build with -DHC_FUZZ=ON (clang), e.g.
#   build-fuzz/fuzz_record -max_total_time=300 tests/fuzz/corpus/record
hc_test(fuzz_record_replay SOURCES tests/fuzz/fuzz_record.c tests/fuzz/replay_main.c
        LIBS hc_backing LABELS unit ARGS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/record)
option(HC_FUZZ "build libFuzzer targets (needs clang)" OFF)
if(HC_FUZZ)
  add_executable(fuzz_record tests/fuzz/fuzz_record.c backing/seal.c backing/nonce.c
                 backing/error.c)
  target_compile_options(fuzz_record PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=all)
  target_link_options(fuzz_record PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_record PRIVATE PkgConfig::SODIUM)
endif()

# The long forms for make soak: 200 kill -9 cycles each.
add_test(NAME soak_backing_crash_sync COMMAND test_backing_crash 200 sync)
add_test(NAME soak_backing_crash_wal COMMAND test_backing_crash 200 wal)
set_tests_properties(soak_backing_crash_sync soak_backing_crash_wal PROPERTIES
                     LABELS soak TIMEOUT 3600)
