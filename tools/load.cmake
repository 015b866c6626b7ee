# tools/load.cmake: `hotcache load` (included by tools/tools.cmake). The Zipf generator
# lives here (tools/zipf.c); the benchmarks borrow it.
set(HC_LOAD_SOURCES tools/load.c tools/kelgen.c tools/hist.c tools/report.c tools/plot.c
    tools/zipf.c)
# TSan builds: backing/tsan_rocksdb.c's __tsan_default_suppressions sits in the static
# hc_internal, where nothing pulls it in (libtsan's weak default satisfies the symbol
# first), so the tool would report RocksDB's internal memtable accesses. Compile it in.
if(HC_SANITIZE MATCHES "thread")
  list(APPEND HC_LOAD_SOURCES backing/tsan_rocksdb.c)
endif()

# The CLI's argument and config errors, and short runs whose JSON reports are checked.
add_test(NAME test_load_cli
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/tools/test_load.sh $<TARGET_FILE:hotcache_cli>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(test_load_cli PROPERTIES LABELS unit TIMEOUT 120)
