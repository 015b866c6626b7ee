include(bench/map.cmake OPTIONAL)
include(bench/cache.cmake OPTIONAL)
include(bench/keri.cmake OPTIONAL)
