# CMake toolchain file for the mps2-an385 port: bare-metal Cortex-M3
# (Thumb-2) on QEMU's model of Arm's MPS2 board with the AN385 image, no C
# library.
#
#   cmake -S examples/qemu-cortex-m -B build/qemu-cortex-m -DHOTRELOAD_HOTD=.../hotd \
#         -DCMAKE_TOOLCHAIN_FILE=agent/port/mps2-an385/toolchain.cmake
include(${CMAKE_CURRENT_LIST_DIR}/flags.cmake)

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER ${HOTRELOAD_ARM_PREFIX}gcc)
set(CMAKE_ASM_COMPILER ${HOTRELOAD_ARM_PREFIX}gcc)
# Without a C library a test program cannot link: compile checks only.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

list(JOIN HOTRELOAD_ARM_C_FLAGS " " _hr_flags)
set(CMAKE_C_FLAGS_INIT "${_hr_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_hr_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib")
unset(_hr_flags)
