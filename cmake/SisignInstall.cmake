# SPDX-License-Identifier: Apache-2.0
# Install layout, included before src/: GNUInstallDirs paths, install
# components and the RPATH installed programs find libsisign with.
#
# Components (one Debian package each, cmake/SisignPackaging.cmake):
#   cli   sisign, the signsis and makekeys links, and whatever else is
#         installed without a COMPONENT (man pages, completions)  -> sisign
#   lib   libsisign.so.0                                           -> libsisign0
#   dev   headers, libsisign.so, libsisign.pc, the CMake package    -> libsisign-dev
#   gui   sisign-gtk, its desktop file, metainfo and icon           -> sisign-gtk
set(CMAKE_INSTALL_DEFAULT_COMPONENT_NAME cli)

# The library's ABI name: libsisign.so.0, symbol version node SISIGN_0 in
# src/lib/libsisign.map.  Both change together, and only on an ABI break.
set(SISIGN_SOVERSION 0)
file(STRINGS ${PROJECT_SOURCE_DIR}/src/lib/libsisign.map _sisign_map_nodes REGEX "^SISIGN_[0-9]+ *{")
if(NOT _sisign_map_nodes MATCHES "^SISIGN_${SISIGN_SOVERSION} *{")
  message(FATAL_ERROR "src/lib/libsisign.map: version node '${_sisign_map_nodes}' does not match SOVERSION ${SISIGN_SOVERSION}")
endif()

# Installed programs find libsisign relative to themselves
# ($ORIGIN/../lib...), so an install to any prefix or through DESTDIR works
# where it lands.  No RPATH when the library goes to a directory the linker
# searches anyway (/usr/lib/<multiarch>: Debian policy forbids one there).
# The build tree keeps its own RUNPATH (BUILD_RPATH on each program).
file(RELATIVE_PATH _sisign_bin_to_lib ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
list(FIND CMAKE_C_IMPLICIT_LINK_DIRECTORIES ${CMAKE_INSTALL_FULL_LIBDIR} _sisign_libdir_is_system)
if(_sisign_libdir_is_system EQUAL -1 AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CMAKE_INSTALL_RPATH "$ORIGIN/${_sisign_bin_to_lib}")
endif()

# sisign_install_link(NAME TARGET COMPONENT): a relative symlink
# BINDIR/NAME -> TARGET made at install time inside the prefix actually
# installed to (cmake --install --prefix, DESTDIR, CPack's staging dir).
function(sisign_install_link name target component)
  install(CODE "
    set(_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
    message(STATUS \"Installing: \${_dir}/${name} -> ${target}\")
    file(MAKE_DIRECTORY \"\${_dir}\")
    file(CREATE_LINK \"${target}\" \"\${_dir}/${name}\" SYMBOLIC)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_dir}/${name}\")
  " COMPONENT ${component})
endfunction()
