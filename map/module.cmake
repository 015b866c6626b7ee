# map/: the cache's lookup structure, the open-addressed per-shard index (lock-free
# lookups, one writer: map/index.c), in the library; and the split-ordered lock-free
# hash map (map/map.c), which the cache no longer uses: it stays, outside the library,
# as map_bench's reference peer (the index is measured against it), the hostile-keys
# test's unkeyed control, and with its own tests and spin models (test_map, stress_map,
# tests/model/map*.pml) for as long as those comparisons are kept.
add_library(hc_map OBJECT map/index.c)
target_link_libraries(hc_map PUBLIC hc_reclaim PkgConfig::SODIUM)
add_library(hc_splitmap OBJECT map/map.c)
target_link_libraries(hc_splitmap PUBLIC hc_reclaim PkgConfig::SODIUM)
