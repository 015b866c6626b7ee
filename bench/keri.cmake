# bench/keri.cmake: keri_bench (issue 5): a cached key state against a full KEL replay,
# and hc_kel_append against the bare Ed25519 verify rate. Its signed KELs come from the
# load test's generator (tools/kelgen.c). Never run under ctest.
add_executable(keri_bench bench/keri_bench.c tools/kelgen.c)
target_link_libraries(keri_bench PRIVATE hc_internal Threads::Threads)
hc_use_jemalloc(keri_bench)
set_target_properties(keri_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
