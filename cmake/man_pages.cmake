# Man pages pstkit(1) and pstkit-COMMAND(1), made by help2man (Debian
# package help2man) from the built tool's --help, so they cannot drift from
# it, plus the hand-written sections of docs/man/NAME.h2m (description,
# exit status, environment, examples, see also). Installed under man1;
# tests/scripts/test_man_pages.py checks them. Without help2man the build
# goes on without them (and says so).
find_program(HELP2MAN_EXECUTABLE help2man)
if(NOT HELP2MAN_EXECUTABLE)
  message(STATUS "Man pages not built: needs help2man")
  return()
endif()

# Every command of `pstkit --help` (the test fails when one is missing here).
set(PSTKIT_MAN_COMMANDS info ls show dump check create mkdir rm mv import export plan readpst repair recover profile)
set(man_dir ${CMAKE_CURRENT_BINARY_DIR}/man)
set(man_pages)

# help2man names a page after the program it runs: pstkit-COMMAND is a
# two-line script running `pstkit COMMAND`.
foreach(page pstkit ${PSTKIT_MAN_COMMANDS})
  if(page STREQUAL "pstkit")
    set(program $<TARGET_FILE:pstkit_cli>)
    set(out ${man_dir}/pstkit.1)
  else()
    set(program ${man_dir}/bin/pstkit-${page})
    set(out ${man_dir}/pstkit-${page}.1)
    file(GENERATE OUTPUT ${program}
         CONTENT "#!/bin/sh\nexec \"$<TARGET_FILE:pstkit_cli>\" ${page} \"$@\"\n"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endif()
  set(include_file ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/${page}.h2m)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${HELP2MAN_EXECUTABLE} --no-info --version-string=${PROJECT_VERSION} --include=${include_file}
            --output=${out} ${program}
    DEPENDS pstkit_cli ${include_file}
    COMMENT "Man page ${page}"
    VERBATIM)
  list(APPEND man_pages ${out})
endforeach()
add_custom_target(pstkit_man_pages ALL DEPENDS ${man_pages})
install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
