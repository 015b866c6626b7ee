# bench/map.cmake: map_bench (our map against ck_hs + writer spinlock, liburcu's
# rculfhash and a pthread_rwlock open-addressing table) and the peers' unit test.
# Benchmarks never run under ctest; test_map_peers (put/get/del on each peer) does.

# rculfhash needs an RCU flavour besides liburcu-cds: the membarrier one.
pkg_check_modules(URCU_MEMB IMPORTED_TARGET liburcu-memb)
if(NOT URCU_MEMB_FOUND)
  message(FATAL_ERROR "map_bench needs liburcu-memb: install the Debian package "
                      "liburcu-dev (apt-get install liburcu-dev).")
endif()

add_library(hc_bench_map_peers STATIC bench/map_peer_ours.c bench/map_peer_ckhs.c
            bench/map_peer_rculfhash.c bench/map_peer_rwlock.c bench/map_peer_index.c)
target_link_libraries(hc_bench_map_peers PUBLIC hc_map hc_splitmap hc_reclaim PkgConfig::CK
                      PkgConfig::URCU PkgConfig::URCU_MEMB Threads::Threads)

add_executable(map_bench bench/map_bench.c)
target_link_libraries(map_bench PRIVATE hc_bench_map_peers hc_bench_zipf)
# `make run` runs build/release/bench/map_bench.
set_target_properties(map_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)

hc_test(test_map_peers SOURCES tests/unit/test_map_peers.c LIBS hc_bench_map_peers
        LABELS unit)

# Run on jemalloc, as embedders are told to (reclaim/module.cmake): then mem_alloc, and
# so every table's nodes, come from the private jemalloc arena with exact size classes.
if(COMMAND hc_use_jemalloc)
  hc_use_jemalloc(map_bench)
  hc_use_jemalloc(test_map_peers)
endif()
