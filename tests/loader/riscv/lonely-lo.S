/* A %pcrel_lo whose label has no %pcrel_hi. */
    .option norelax
    .text
    .globl f
f:
.Lnohi:
    addi    a0, a0, 0
    .4byte  0x00052503          /* lw a0, 0(a0) */
    .reloc  .-4, R_RISCV_PCREL_LO12_I, .Lnohi
    ret
