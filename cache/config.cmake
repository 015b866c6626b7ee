# cache/config.cmake: the config parser and the error seam (hc_config_*, hc_strerror,
# hc_last_error), their unit test and the config fuzz target.
add_library(hc_config OBJECT cache/config.c cache/error.c)
target_link_libraries(hc_config PUBLIC PkgConfig::INIH)
