# Prints what the hotreload component compiles for a configured target, as
# components/hotreload/sources.cmake computes it from that target's
# sdkconfig.cmake (the configure's own CONFIG_* values), one NAME=a;b;c line
# per list, for c3_check_test.py.
# cmake -DSDKCONFIG_CMAKE=BUILD/config/sdkconfig.cmake -DSOURCES=.../sources.cmake -P this
include(${SDKCONFIG_CMAKE})
include(${SOURCES})
foreach(v hotreload_srcs hotreload_include_dirs hotreload_priv_include_dirs
    hotreload_definitions)
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${v}=${${v}}")
endforeach()
