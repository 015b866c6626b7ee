# reclaim/: the allocation seam and epoch-based reclamation over ck_epoch.
add_library(hc_reclaim OBJECT reclaim/alloc.c reclaim/reclaim.c)
target_link_libraries(hc_reclaim PUBLIC PkgConfig::CK Threads::Threads)
if(NOT HC_SANITIZE)
  target_link_libraries(hc_reclaim PUBLIC PkgConfig::JEMALLOC)
endif()
