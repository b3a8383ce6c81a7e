# SPDX-License-Identifier: Apache-2.0
# CPack post-build script (CPACK_POST_BUILD_SCRIPTS, cmake/SisignPackaging.cmake).
# CPack gives a package holding a shared library under /usr/lib a
# postinst and a postrm that run ldconfig; Debian policy 8.1.1 wants the
# ldconfig trigger instead, and no maintainer script at all (lintian:
# lacks-ldconfig-trigger, maintscript-calls-ldconfig).  CPack has no
# setting for this, so the libsisign package is rebuilt here with
# DEBIAN/triggers in place of the two scripts; everything else is kept.
foreach(_deb IN LISTS CPACK_PACKAGE_FILES)
  if(NOT _deb MATCHES "/libsisign[0-9]+_[^/]*\\.deb$")
    continue()
  endif()
  set(_dir "${CPACK_TOPLEVEL_DIRECTORY}/ldconfig-trigger")
  file(REMOVE_RECURSE "${_dir}")
  execute_process(COMMAND dpkg-deb -R "${_deb}" "${_dir}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "dpkg-deb -R ${_deb} failed")
  endif()
  file(REMOVE "${_dir}/DEBIAN/postinst" "${_dir}/DEBIAN/postrm")
  file(WRITE "${_dir}/DEBIAN/triggers" "activate-noawait ldconfig\n")
  file(CHMOD "${_dir}/DEBIAN/triggers" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  execute_process(COMMAND dpkg-deb --root-owner-group -b "${_dir}" "${_deb}" RESULT_VARIABLE _rc OUTPUT_QUIET)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "dpkg-deb -b ${_dir} failed")
  endif()
  file(REMOVE_RECURSE "${_dir}")
  message(STATUS "${_deb}: ldconfig trigger in place of postinst/postrm")
endforeach()
