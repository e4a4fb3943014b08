# The rv32 target's compiler flags, shared by the toolchain file and the tests
# that compile modules by hand. Debian's cross gcc has an rv32im/ilp32
# multilib; -misa-spec=2.2 keeps CSR and fence.i instructions in rv32imc
# (later ISA specs split them into extensions whose names make gcc pick the
# rv64 default library instead).
set(HOTRELOAD_RV32_PREFIX riscv64-unknown-elf-)
set(HOTRELOAD_RV32_ARCH_FLAGS -misa-spec=2.2 -march=rv32imc -mabi=ilp32)
# No C library at all: the agent brings the few string functions it needs.
set(HOTRELOAD_RV32_C_FLAGS ${HOTRELOAD_RV32_ARCH_FLAGS} -ffreestanding)
