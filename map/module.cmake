# map/: the split-ordered lock-free hash map, and the open-addressed index (one writer,
# lock-free readers) that is to replace it on the cache's hit path (map/index.c).
add_library(hc_map OBJECT map/map.c map/index.c)
target_link_libraries(hc_map PUBLIC hc_reclaim PkgConfig::SODIUM)
