# Installation for embedders: the shared library, hotcache.h, a pkg-config file and a
# CMake package (find_package(hotcache) -> hotcache::hotcache).
include(GNUInstallDirs)
install(TARGETS hotcache EXPORT hotcacheTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS hotcache_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT hotcacheTargets NAMESPACE hotcache::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hotcache)
configure_file(cmake/hotcacheConfig.cmake.in hotcacheConfig.cmake @ONLY)
# find_package(hotcache 0.2) accepts any 0.x from 0.2 on: the same soname, sized structs.
include(CMakePackageConfigHelpers)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/hotcacheConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/hotcacheConfig.cmake
              ${CMAKE_BINARY_DIR}/hotcacheConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hotcache)
# Relocatable: the prefix is found from where the .pc file is installed.
file(RELATIVE_PATH HC_PC_UP /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
configure_file(cmake/hotcache.pc.in hotcache.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/hotcache.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The public header compiles warning-free as C11, C17 and C++17.
add_test(NAME test_header COMMAND sh ${CMAKE_SOURCE_DIR}/tests/embed/header.sh
         ${CMAKE_C_COMPILER} ${CMAKE_CXX_COMPILER} ${CMAKE_SOURCE_DIR}/include)
set_tests_properties(test_header PROPERTIES LABELS unit TIMEOUT 60)

# The README's embedding example, built against an installed copy both ways.
if(NOT HC_SANITIZE)
  add_test(NAME test_embed COMMAND sh ${CMAKE_SOURCE_DIR}/tests/embed/run.sh
           ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_embed PROPERTIES LABELS unit TIMEOUT 300)
endif()
