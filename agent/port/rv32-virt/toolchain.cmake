# CMake toolchain file for the rv32-virt port: bare-metal rv32imc (the
# ESP32-C3's instruction set) on QEMU's virt machine, no C library.
#
#   cmake -S examples/qemu-riscv32 -B build/qemu-riscv32 -DHOTRELOAD_HOTD=.../hotd \
#         -DCMAKE_TOOLCHAIN_FILE=agent/port/rv32-virt/toolchain.cmake
include(${CMAKE_CURRENT_LIST_DIR}/flags.cmake)

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER ${HOTRELOAD_RV32_PREFIX}gcc)
set(CMAKE_ASM_COMPILER ${HOTRELOAD_RV32_PREFIX}gcc)
# Without a C library a test program cannot link: compile checks only.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

list(JOIN HOTRELOAD_RV32_C_FLAGS " " _hr_flags)
set(CMAKE_C_FLAGS_INIT "${_hr_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_hr_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib")
unset(_hr_flags)
