/* Every RISC-V relocation form the loader implements, made explicit. */
    .option rvc
    .section .text.a, "ax", @progbits
    .globl entry
entry:
    jal     ra, far_fn              /* R_RISCV_JAL to another section */
    /* gas would expand branches to other sections; .reloc keeps the forms */
    .option push
    .option norelax
    .4byte  0x00b50063              /* beq a0, a1, 0 */
    .reloc  .-4, R_RISCV_BRANCH, far_fn
    .2byte  0xc101                  /* c.beqz a0, 0 */
    .reloc  .-2, R_RISCV_RVC_BRANCH, far_fn
    .2byte  0xa001                  /* c.j 0 */
    .reloc  .-2, R_RISCV_RVC_JUMP, far_fn
    .option pop
    c.lui   a0, 1
    .reloc  .-2, R_RISCV_RVC_LUI, small_abs /* R_RISCV_RVC_LUI */
    lui     a1, %hi(var)            /* R_RISCV_HI20 */
    addi    a1, a1, %lo(var)        /* R_RISCV_LO12_I */
    sw      a2, %lo(var)(a1)        /* R_RISCV_LO12_S */
.Lpc:
    auipc   a3, %pcrel_hi(var + 8)  /* R_RISCV_PCREL_HI20 */
    lw      a4, %pcrel_lo(.Lpc)(a3) /* R_RISCV_PCREL_LO12_I */
    sw      a4, %pcrel_lo(.Lpc)(a3) /* R_RISCV_PCREL_LO12_S */
.Lgot:
    auipc   a5, %got_pcrel_hi(fw_data) /* R_RISCV_GOT_HI20 */
    lw      a5, %pcrel_lo(.Lgot)(a5)
    call    fw_fn                   /* R_RISCV_CALL_PLT */
    tail    far_fn
    .option norelax
    call    fw_fn
.Lend:

    .section .text.b, "ax", @progbits
    .globl far_fn
far_fn:
    ret

    .data
    .globl var
var:
    .word   fw_data                 /* R_RISCV_32 */
    .word   0
    .reloc  .-4, R_RISCV_32_PCREL, fw_fn
    .quad   var                     /* R_RISCV_64 */
    .byte   .Lend - entry           /* R_RISCV_ADD8 / SUB8 */
    .half   .Lend - entry           /* R_RISCV_ADD16 / SUB16 */
    .word   .Lend - entry           /* R_RISCV_ADD32 / SUB32 */
    .quad   .Lend - entry           /* R_RISCV_ADD64 / SUB64 */
    .byte   0xc5
    .reloc  .-1, R_RISCV_SET6, var + 3
    .byte   0x87
    .reloc  .-1, R_RISCV_SUB6, var + 1
    .byte   0
    .reloc  .-1, R_RISCV_SET8, var + 2
    .half   0
    .reloc  .-2, R_RISCV_SET16, var + 4
    .word   0
    .reloc  .-4, R_RISCV_SET32, fw_data
