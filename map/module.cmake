# map/: the split-ordered lock-free hash map.
add_library(hc_map OBJECT map/map.c)
target_link_libraries(hc_map PUBLIC hc_reclaim PkgConfig::SODIUM)
