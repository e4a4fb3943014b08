# The mps2-an385 target's compiler flags, shared by the toolchain file and
# the tests that compile modules by hand: Thumb-2 for the Cortex-M3, soft
# float, Debian's arm-none-eabi cross gcc (its libgcc for the M3 comes from
# the thumb/v7-m multilib these flags select).
set(HOTRELOAD_ARM_PREFIX arm-none-eabi-)
set(HOTRELOAD_ARM_ARCH_FLAGS -mcpu=cortex-m3 -mthumb -mfloat-abi=soft)
# No C library at all: the agent brings the few string functions it needs.
set(HOTRELOAD_ARM_C_FLAGS ${HOTRELOAD_ARM_ARCH_FLAGS} -ffreestanding)
