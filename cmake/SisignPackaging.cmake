# SPDX-License-Identifier: Apache-2.0
# Debian packages with CPack's DEB generator, one package per install
# component (cmake/SisignInstall.cmake):
#   sisign (cli)  libsisign0 (lib)  libsisign-dev (dev)  sisign-gtk (gui)
# Configure with -DCMAKE_INSTALL_PREFIX=/usr -DSISIGN_PACKAGE_DEBIAN=ON (so
# the library lands in /usr/lib/<multiarch> and each package gets its
# /usr/share/doc/<package>/ files), build, then `cpack -G DEB`.
# tests/integration/test_deb.sh does exactly that.
option(SISIGN_PACKAGE_DEBIAN "Install each Debian package's copyright and changelog.Debian.gz (for cpack -G DEB)" OFF)
set(SISIGN_DEB_MAINTAINER "sisign maintainers <sisign@users.noreply.github.com>" CACHE STRING
  "Maintainer field of the Debian packages")

set(_sisign_components cli lib dev)
if(TARGET sisign_gtk)
  list(APPEND _sisign_components gui)
endif()
set(_sisign_pkg_cli sisign)
set(_sisign_pkg_lib libsisign${SISIGN_SOVERSION})
set(_sisign_pkg_dev libsisign-dev)
set(_sisign_pkg_gui sisign-gtk)

if(SISIGN_PACKAGE_DEBIAN)
  # Debian policy 12.5 and 12.7: every package carries the copyright (the
  # licence by reference to /usr/share/common-licenses) and a changelog.
  string(TIMESTAMP _sisign_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
  file(WRITE ${PROJECT_BINARY_DIR}/debian/changelog.Debian
    "sisign (${PROJECT_VERSION}-1) unstable; urgency=medium\n\n"
    "  * Built from the sisign source tree with CPack (cmake/SisignPackaging.cmake).\n\n"
    " -- ${SISIGN_DEB_MAINTAINER}  ${_sisign_deb_date}\n")
  execute_process(COMMAND gzip -9nf ${PROJECT_BINARY_DIR}/debian/changelog.Debian RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "gzip of debian/changelog.Debian failed")
  endif()
  foreach(c IN LISTS _sisign_components)
    install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/copyright ${PROJECT_BINARY_DIR}/debian/changelog.Debian.gz
      DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${_sisign_pkg_${c}} COMPONENT ${c})
    install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/lintian-overrides
      DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME ${_sisign_pkg_${c}} COMPONENT ${c})
  endforeach()
else()
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT cli)
endif()

set(CPACK_PACKAGE_NAME sisign)
set(CPACK_PACKAGE_VENDOR "The sisign developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SISIGN_DEB_MAINTAINER}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL ${_sisign_components})
set(CPACK_GENERATOR DEB)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SISIGN_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Depends from dpkg-shlibdeps, plus libsisign0 (= this version) from the
# component dependencies below; libsisign0 gets a shlibs file for others.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps runs in each component's staging dir; the programs find
# libsisign.so.0 in the lib component's, its sibling.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "../lib${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}")
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_POST_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/SisignDebTriggers.cmake)

foreach(c IN LISTS _sisign_components)
  string(TOUPPER ${c} C)
  set(CPACK_DEBIAN_${C}_PACKAGE_NAME ${_sisign_pkg_${c}})
endforeach()
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_CLI_DEPENDS lib)
set(CPACK_COMPONENT_DEV_DEPENDS lib)
set(CPACK_COMPONENT_GUI_DEPENDS lib)
# p11-kit's proxy module is the default PKCS#11 module (dlopen'ed, so
# dpkg-shlibdeps cannot see it); SoftHSM and OpenSC are the usual tokens.
set(CPACK_DEBIAN_CLI_PACKAGE_RECOMMENDS "p11-kit-modules")
set(CPACK_DEBIAN_CLI_PACKAGE_SUGGESTS "opensc, softhsm2")
set(CPACK_DEBIAN_GUI_PACKAGE_RECOMMENDS "p11-kit-modules")

set(CPACK_DEBIAN_CLI_DESCRIPTION "sign Symbian SIS packages with PKCS#11 tokens or key files
sisign signs, verifies and inspects Symbian OS 9 SIS packages (S60 3rd and
5th edition, Symbian^3). The private key can stay on a smartcard, USB token
or HSM named by a pkcs11: URI; key files and PKCS#12 files work too.
.
This package holds the sisign command and the signsis and makekeys
commands of the Symbian SDK, which it implements.")
set(CPACK_DEBIAN_LIB_DESCRIPTION "library to sign Symbian SIS packages with PKCS#11 tokens
libsisign reads, signs and verifies Symbian OS 9 SIS packages; the
signature can be made by a key on a PKCS#11 token or in a file.
.
This package holds the shared library.")
set(CPACK_DEBIAN_DEV_DESCRIPTION "library to sign Symbian SIS packages - development files
libsisign reads, signs and verifies Symbian OS 9 SIS packages; the
signature can be made by a key on a PKCS#11 token or in a file.
.
This package holds the headers, the pkg-config file libsisign.pc and the
CMake package (find_package(sisign), target sisign::sisign).")
set(CPACK_DEBIAN_GUI_DESCRIPTION "sign Symbian SIS packages with PKCS#11 tokens - desktop app
sisign-gtk is a GTK 4 app that signs, verifies and removes the signatures
of Symbian OS 9 SIS packages, many at once, with a key on a PKCS#11 token
or in a file.")

include(CPack)
