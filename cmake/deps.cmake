# Every dependency comes from a Debian package and is found through pkg-config; a
# missing one stops the configure step with the package to install.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

function(hc_require var module package)
  pkg_check_modules(${var} IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "hotcache needs ${module}: install the Debian package ${package} "
                        "(apt-get install ${package}), or run `make` as root to install it.")
  endif()
endfunction()

hc_require(CK ck libck-dev)
hc_require(SODIUM libsodium libsodium-dev)
hc_require(ROCKSDB rocksdb librocksdb-dev)
hc_require(INIH inih libinih-dev)
hc_require(CMOCKA cmocka libcmocka-dev)
if(NOT HC_SANITIZE)
  hc_require(JEMALLOC jemalloc libjemalloc-dev)
endif()
if(HC_BENCH)
  hc_require(URCU liburcu-cds liburcu-dev)
endif()

# BLAKE3: Debian ships the official C sources inside librust-blake3-dev.
file(GLOB HC_BLAKE3_DIRS /usr/share/cargo/registry/blake3-*/c)
list(SORT HC_BLAKE3_DIRS)
list(REVERSE HC_BLAKE3_DIRS)
list(GET HC_BLAKE3_DIRS 0 HC_BLAKE3_DIR)
if(NOT EXISTS "${HC_BLAKE3_DIR}/blake3.h")
  message(FATAL_ERROR "hotcache needs the BLAKE3 C sources: install the Debian package "
                      "librust-blake3-dev (apt-get install librust-blake3-dev).")
endif()
