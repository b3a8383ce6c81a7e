# SPDX-License-Identifier: Apache-2.0
# Third-party libraries, all from Debian 12 packages (scripts/deps.sh).
find_package(OpenSSL 3.0 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(P11KIT REQUIRED IMPORTED_TARGET p11-kit-1)
pkg_check_modules(LIBP11 REQUIRED IMPORTED_TARGET libp11)
pkg_get_variable(P11KIT_PROXY_MODULE p11-kit-1 proxy_module)
pkg_get_variable(P11KIT_MODULE_PATH p11-kit-1 p11_module_path)
if(SISIGN_BUILD_GUI)
  pkg_check_modules(GTK4 IMPORTED_TARGET gtk4)
endif()
