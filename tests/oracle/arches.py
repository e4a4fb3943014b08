"""What the oracle builds for each architecture, and where it places it: the
compilers and their flags, the code-model variants, GNU ld's emulation, the
addresses given to both linkers, and the builds the loader may refuse.
Shared by the driver (oracle.py) and the per-build check (build_check.py).
"""

OPTS = ["-O0", "-O2", "-Os"]
COMMON_CFLAGS = ["-c", "-ffreestanding", "-fno-common", "-g", "-Wall", "-Werror"]

# One section per function and object: many sections, calls between them,
# and on Xtensa one .literal.<fn> per function.
SECTIONS = ["-ffunction-sections", "-fdata-sections"]

# Imports no firmware provides: they resolve to 0 (weak) in both linkers.
MISSING_PREFIX = "fw_optional"

ARCHES = {
    "x86_64": dict(
        cc=["gcc"], cflags=[],
        # -fno-plt: `call *f@GOTPCREL(%rip)`, the non-REX R_X86_64_GOTPCRELX
        variants={"pic": ["-fPIC"], "nopic": ["-fno-pic"], "noplt": ["-fPIC", "-fno-plt"],
                  "sections": ["-fno-pic"] + SECTIONS},
        ld=["ld", "-m", "elf_x86_64"], asm=["x86_64"],
        text=0x10000000, data=0x20000000,  # below 2 GiB: -fno-pic needs R_X86_64_32/32S
        fw=0x08000000,                     # imports: within reach of PC32 and 32S
        ldgot=0x50000000,                  # ld's own .got, away from the module
        bits=64),
    "rv32": dict(
        cc=["riscv64-unknown-elf-gcc"],
        cflags=["-misa-spec=2.2", "-march=rv32imc", "-mabi=ilp32"],
        variants={"medlow": ["-mcmodel=medlow"], "medany": ["-mcmodel=medany"],
                  "pic": ["-fPIC"], "sections": SECTIONS + ["-mcmodel=medany", "-mno-relax"],
                  "align": ["-falign-functions=16"]},
        ld=["riscv64-unknown-elf-ld", "-m", "elf32lriscv"], asm=["riscv"],
        text=0x10000000, data=0x20000000, fw=0x08000000, ldgot=0x50000000, bits=32),
    "rv64": dict(
        cc=["riscv64-unknown-elf-gcc"], cflags=["-march=rv64imac", "-mabi=lp64"],
        variants={"medlow": ["-mcmodel=medlow"], "medany": ["-mcmodel=medany"],
                  "pic": ["-fPIC"], "sections": SECTIONS + ["-mcmodel=medany", "-mno-relax"],
                  "align": ["-falign-functions=16"]},
        ld=["riscv64-unknown-elf-ld", "-m", "elf64lriscv"], asm=["riscv"],
        # medlow: everything within ±2 GiB of address 0
        text=0x10000000, data=0x20000000, fw=0x08000000, ldgot=0x50000000, bits=64),
    "xtensa": dict(
        cc=["xtensa-lx106-elf-gcc"], cflags=["-mlongcalls"],
        # -fPIC: calls through R_XTENSA_PLT literals
        variants={"lit": [], "textlit": ["-mtext-section-literals"],
                  "sections": SECTIONS, "pic": ["-fPIC"]},
        ld=["xtensa-lx106-elf-ld"], asm=["xtensa"],
        # IRAM for code, DRAM for data, imports in the ROM/flash window
        text=0x40100000, data=0x3ffe8000, fw=0x40210000, ldgot=0x60000000, bits=32),
    # Cortex-M, Thumb only. Code runs from SRAM (as modules do on the board);
    # the firmware within a BL's ±16 MiB.
    "arm": dict(
        cc=["arm-none-eabi-gcc"], cflags=["-mthumb"],
        variants={"m3": ["-mcpu=cortex-m3"], "m0": ["-mcpu=cortex-m0plus"],
                  "m33": ["-mcpu=cortex-m33"],
                  "sections": ["-mcpu=cortex-m4"] + SECTIONS,
                  "longcalls": ["-mcpu=cortex-m3", "-mlong-calls"],
                  "purecode": ["-mcpu=cortex-m3", "-mpure-code"],
                  "pic": ["-mcpu=cortex-m3", "-fPIC"],
                  "unwind": ["-mcpu=cortex-m4", "-funwind-tables"]},
        ld=["arm-none-eabi-ld"], asm=["arm"],
        # R_ARM_THM_CALL, THM_JUMP24, THM_JUMP19: their targets are Thumb
        # functions, whose addresses have bit 0 set
        thumb_relocs=(10, 30, 51),
        text=0x20000000, data=0x20100000, fw=0x20800000, ldgot=0x30000000, bits=32),
}

# Imports at a chosen address rather than in the firmware's block.
FW_FIXED = {
    "small_abs": 0x1f000,  # asm/riscv-forms.S: R_RISCV_RVC_LUI wants a 6-bit hi20
}

# Builds the loader may refuse: (arch, variant) -> regex its message must
# match. Those it loads must still be byte-exact.
EXPECT_REFUSE = {
    # -falign-functions with relaxation on: the assembler pads with nops and
    # emits R_RISCV_ALIGN for ld to delete the excess. The loader does not
    # delete code, so it refuses unless the padding already ends aligned.
    ("rv32", "align"): r"R_RISCV_ALIGN .* needs linker relaxation",
    ("rv64", "align"): r"R_RISCV_ALIGN .* needs linker relaxation",
}
