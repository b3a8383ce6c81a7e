# SPDX-License-Identifier: Apache-2.0
# Man pages and shell completions, made at build time from the programs' own
# --help by scripts/clidocs.py (so they cannot drift from it), plus the
# hand-written prose in man/*.extra and the completion logic in
# completions/*.in.  Included from the top-level CMakeLists.txt after src/.
#
#   build/man/*.1                  sisign(1), sisign-COMMAND(1), signsis(1),
#                                  makekeys(1), sisign-gtk(1) (with the app)
#   build/completions/sisign       bash   -> share/bash-completion/completions/
#                                            {sisign,signsis,makekeys}
#   build/completions/_sisign      zsh    -> share/zsh/vendor-completions/
#   build/completions/sisign.fish  fish   -> share/fish/vendor_completions.d/
#                                            {sisign,signsis,makekeys}.fish
option(SISIGN_BUILD_DOCS "Make man pages and shell completions from --help (needs Python 3)" ON)
if(NOT SISIGN_BUILD_DOCS)
  return()
endif()
find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  message(WARNING "Python 3 not found: no man pages or shell completions (scripts/deps.sh installs it)")
  return()
endif()
if(CMAKE_CROSSCOMPILING)
  message(WARNING "Cross-compiling: the built sisign cannot run here to print its --help, so no man pages or completions")
  return()
endif()

set(SISIGN_CLIDOCS ${PROJECT_SOURCE_DIR}/scripts/clidocs.py)

# Man pages: their number follows the command table, so a stamp stands for
# the directory.
set(SISIGN_MAN_DIR ${PROJECT_BINARY_DIR}/man)
file(GLOB _man_extra CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.extra)
set(_man_gtk)
set(_man_gtk_dep)
if(TARGET sisign_gtk)
  set(_man_gtk --gtk $<TARGET_FILE:sisign_gtk>)
  set(_man_gtk_dep sisign_gtk)
endif()
add_custom_command(OUTPUT ${SISIGN_MAN_DIR}/.stamp
  COMMAND ${Python3_EXECUTABLE} ${SISIGN_CLIDOCS} man --sisign $<TARGET_FILE:sisign_cli> ${_man_gtk}
    --extra ${PROJECT_SOURCE_DIR}/man --out ${SISIGN_MAN_DIR} --version ${PROJECT_VERSION}
  COMMAND ${CMAKE_COMMAND} -E touch ${SISIGN_MAN_DIR}/.stamp
  DEPENDS sisign_cli ${_man_gtk_dep} ${SISIGN_CLIDOCS} ${_man_extra}
  COMMENT "Man pages from --help"
  VERBATIM)
add_custom_target(sisign_man ALL DEPENDS ${SISIGN_MAN_DIR}/.stamp)
# sisign-gtk(1) goes with the app (the sisign-gtk package), the rest with
# the command-line tools.
install(DIRECTORY ${SISIGN_MAN_DIR}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT cli
  FILES_MATCHING PATTERN "*.1" PATTERN "sisign-gtk.1" EXCLUDE)
if(TARGET sisign_gtk)
  install(FILES ${SISIGN_MAN_DIR}/sisign-gtk.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT gui)
endif()
# Debian packages carry their man pages compressed with gzip -9n (policy
# 12.1; lintian: uncompressed-manual-page): done on the staged install.
if(SISIGN_PACKAGE_DEBIAN)
  foreach(c cli gui)
    install(CODE "
      file(GLOB _pages \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man1/*.1\")
      if(_pages)
        execute_process(COMMAND gzip -9nf \${_pages} RESULT_VARIABLE _rc)
        if(NOT _rc EQUAL 0)
          message(FATAL_ERROR \"gzip of the man pages failed\")
        endif()
      endif()" COMPONENT ${c})
  endforeach()
endif()

# Completions: the option lists from --help, the logic from the templates.
set(SISIGN_COMPLETION_DIR ${PROJECT_BINARY_DIR}/completions)
set(_completion_files)
foreach(pair "bash:sisign" "zsh:_sisign" "fish:sisign.fish")
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 sh)
  list(GET pair 1 out)
  set(tpl ${PROJECT_SOURCE_DIR}/completions/sisign.${sh}.in)
  add_custom_command(OUTPUT ${SISIGN_COMPLETION_DIR}/${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${SISIGN_COMPLETION_DIR}
    COMMAND ${Python3_EXECUTABLE} ${SISIGN_CLIDOCS} completion --sisign $<TARGET_FILE:sisign_cli>
      --shell ${sh} --template ${tpl} --out ${SISIGN_COMPLETION_DIR}/${out}
    DEPENDS sisign_cli ${SISIGN_CLIDOCS} ${tpl}
    COMMENT "${sh} completion from --help"
    VERBATIM)
  list(APPEND _completion_files ${SISIGN_COMPLETION_DIR}/${out})
endforeach()
add_custom_target(sisign_completions ALL DEPENDS ${_completion_files})
foreach(prog sisign signsis makekeys)
  install(FILES ${SISIGN_COMPLETION_DIR}/sisign DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    RENAME ${prog})
  install(FILES ${SISIGN_COMPLETION_DIR}/sisign.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d
    RENAME ${prog}.fish)
endforeach()
install(FILES ${SISIGN_COMPLETION_DIR}/_sisign DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
