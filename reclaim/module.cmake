# reclaim/: the allocation seam and epoch-based reclamation over ck_epoch.
# hc_reclaim carries the allocation-failure seam (mem_fail_after) for the tests and
# everything built on hc_internal; the installed library is built from hc_reclaim_lib,
# the same sources without it, so its allocations pay no test hook.
add_library(hc_reclaim OBJECT reclaim/alloc.c reclaim/reclaim.c)
target_link_libraries(hc_reclaim PUBLIC PkgConfig::CK Threads::Threads ${CMAKE_DL_LIBS})
target_compile_definitions(hc_reclaim PUBLIC HC_FAULT_INJECTION=1)
add_library(hc_reclaim_lib OBJECT reclaim/alloc.c reclaim/reclaim.c)
target_link_libraries(hc_reclaim_lib PUBLIC PkgConfig::CK Threads::Threads ${CMAKE_DL_LIBS})
# HC_PORTABLE: no membarrier and no Linux-only call in reclaim/ (what macOS and
# other systems get anyway); sections then use the fenced start (reclaim.h).
option(HC_PORTABLE "build the portable reclamation path (no membarrier)" OFF)
if(HC_PORTABLE)
  target_compile_definitions(hc_reclaim PUBLIC HC_PORTABLE=1)
  target_compile_definitions(hc_reclaim_lib PUBLIC HC_PORTABLE=1)
endif()
# Lock-rank checks (reclaim/lockrank.h) where the tests run under sanitizers or debug.
if(HC_SANITIZE OR CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_definitions(hc_reclaim PUBLIC HC_LOCK_RANKS=1)
  target_compile_definitions(hc_reclaim_lib PUBLIC HC_LOCK_RANKS=1)
endif()

# Programs (tests, benches, the CLI) run on jemalloc as embedders are told to: linked
# into the executable, so it is the process's allocator throughout. The library
# itself only finds it at run time (reclaim/alloc.c).
function(hc_use_jemalloc target)
  if(NOT HC_SANITIZE)
    target_link_options(${target} PRIVATE -Wl,--no-as-needed)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  endif()
endfunction()
