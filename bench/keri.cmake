# bench/keri.cmake: keri_bench (issue 5): a cached key state against a full KEL replay,
# and hc_kel_append against the bare Ed25519 verify rate. Its signed KELs come from the
# load test's generator (tools/kelgen.c). Never run under ctest.
add_executable(keri_bench bench/keri_bench.c tools/kelgen.c)
target_link_libraries(keri_bench PRIVATE hc_internal Threads::Threads)
hc_use_jemalloc(keri_bench)
set_target_properties(keri_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)

# recovery_bench (issue 13): hc_open and the first read after kill -9, against unflushed
# WAL and KEL length. Never run under ctest.
add_executable(recovery_bench bench/recovery_bench.c tools/kelgen.c)
# kelgen signs with keri/ internals; the cache itself is used through libhotcache.so.
target_link_libraries(recovery_bench PRIVATE hotcache hc_keri PkgConfig::SODIUM Threads::Threads)
target_include_directories(recovery_bench PRIVATE ${CMAKE_SOURCE_DIR})
set_target_properties(recovery_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
