# The Rust crate's tests (unit, threads, KERI import, the README's doc-test) as one ctest
# test, run by Debian's cargo against this tree's libhotcache.so (HOTCACHE_LIB_DIR, with
# an rpath), offline, with its target directory inside the build tree. Debian's
# toolchain by path: a rustup toolchain earlier on PATH would test another rustc than
# the 1.63 the crate promises. Release-style trees only: a sanitized library needs the
# sanitizer's runtime loaded first, which cargo's test binaries do not do.
if(NOT HC_SANITIZE AND NOT HC_FUZZ)
  find_program(HC_CARGO cargo PATHS /usr/bin NO_DEFAULT_PATH)
  find_program(HC_RUSTC rustc PATHS /usr/bin NO_DEFAULT_PATH)
  find_program(HC_RUSTDOC rustdoc PATHS /usr/bin NO_DEFAULT_PATH)
  if(HC_CARGO AND HC_RUSTC AND HC_RUSTDOC)
    add_test(NAME test_rust
             COMMAND ${CMAKE_COMMAND} -E env
                     CARGO_TARGET_DIR=${CMAKE_BINARY_DIR}/rust
                     HOTCACHE_LIB_DIR=$<TARGET_FILE_DIR:hotcache>
                     RUSTC=${HC_RUSTC} RUSTDOC=${HC_RUSTDOC}
                     ${HC_CARGO} test --offline --quiet
                     --manifest-path ${CMAKE_SOURCE_DIR}/bindings/rust/Cargo.toml)
    set_tests_properties(test_rust PROPERTIES LABELS unit TIMEOUT 300)
  else()
    message(WARNING "Debian's cargo, rustc and rustdoc are not in /usr/bin (tools/deps.sh "
                    "installs package cargo): the Rust crate's tests will not run")
  endif()
endif()
