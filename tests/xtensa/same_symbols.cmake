# The second firmware link only appends calc v2's image: every symbol but
# __bound_end must keep the address the first link gave it, since `hotd bind
# --absolute` wrote those addresses into the module.
#   cmake -DNM=xtensa-lx106-elf-nm -DFIRST=a.elf -DSECOND=b.elf -P same_symbols.cmake
foreach(which FIRST SECOND)
  execute_process(COMMAND ${NM} ${${which}} OUTPUT_VARIABLE syms_${which} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} ${${which}} failed")
  endif()
  string(REGEX REPLACE "[0-9a-f]+ [A-Za-z] __bound_end\n" "" syms_${which} "${syms_${which}}")
endforeach()
if(NOT syms_FIRST STREQUAL syms_SECOND)
  file(REMOVE ${SECOND}) # or the next build would take it as up to date
  message(FATAL_ERROR "${SECOND} moved symbols of ${FIRST}: the module bound against the "
                      "first link would call the wrong addresses (diff the two with nm)")
endif()
