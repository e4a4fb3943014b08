# Runs the lx106 firmware on QEMU's sim machine and judges the run: QEMU
# must exit by itself with status 0 (the firmware's verdict, through
# semihosting) and the firmware's summary must report no failed check.
#   cmake -DQEMU=qemu-system-xtensa -DFW=fw.elf -DMIN_CHECKS=N -P run.cmake
execute_process(
  COMMAND ${QEMU} -M sim -cpu lx106 -nographic -monitor none -semihosting -kernel ${FW}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 60)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "xtensa: QEMU ended with '${rc}' (firmware status, or no exit)")
endif()
if(NOT out MATCHES "xtensa: ([0-9]+) checks passed, 0 failed")
  message(FATAL_ERROR "xtensa: no summary line reporting 0 failed checks")
endif()
if(CMAKE_MATCH_1 LESS MIN_CHECKS)
  message(FATAL_ERROR "xtensa: only ${CMAKE_MATCH_1} checks ran, expected at least ${MIN_CHECKS}")
endif()
