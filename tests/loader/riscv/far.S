/* Relocations whose values cannot fit their fields with the resolver's
 * addresses in riscv_edges.c. */
    .option norelax
    .text
    .globl jal_far
jal_far:
    jal     ra, fw_far          /* R_RISCV_JAL: ±1 MiB */
    ret
    .globl hi_far
hi_far:
    lui     a0, %hi(fw_far)     /* R_RISCV_HI20: on rv64, ±2 GiB of 0 */
    ret
