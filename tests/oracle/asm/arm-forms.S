/* Every ARM (Thumb) relocation form the loader implements, made explicit:
 * branches to another section (gas leaves a relocation for them), the
 * PC-relative MOVW/MOVT pair, and the data forms. */
    .syntax unified
    .thumb
    .cpu cortex-m3

    .section .text.a, "ax", %progbits
    .globl entry
    .type entry, %function
    .thumb_func
entry:
    bl      far_fn                  /* R_ARM_THM_CALL */
    bl      fw_fn                   /* R_ARM_THM_CALL to an import */
    beq.w   far_fn                  /* R_ARM_THM_JUMP19 */
    .reloc  ., R_ARM_THM_JUMP11, far_fn
    b.n     .                       /* R_ARM_THM_JUMP11 */
    .reloc  ., R_ARM_THM_JUMP8, far_fn
    beq.n   .                       /* R_ARM_THM_JUMP8 */
    movw    r0, #:lower16:var + 8   /* R_ARM_THM_MOVW_ABS_NC */
    movt    r0, #:upper16:var + 8   /* R_ARM_THM_MOVT_ABS */
.Lpc:
    movw    r1, #:lower16:far_fn - .Lpc - 4 /* R_ARM_THM_MOVW_PREL_NC */
    movt    r1, #:upper16:far_fn - .Lpc - 4 /* R_ARM_THM_MOVT_PREL */
    .reloc  ., R_ARM_V4BX, far_fn
    bx      lr                      /* R_ARM_V4BX: nothing to do on Thumb */
    .reloc  ., R_ARM_THM_PC8, lit
    .short  0x4a00                  /* ldr r2, [pc, #0]: R_ARM_THM_PC8 */
    .reloc  ., R_ARM_THM_PC12, lit
    .short  0xf8df, 0x3000          /* ldr.w r3, [pc, #0]: R_ARM_THM_PC12 */
    .reloc  ., R_ARM_THM_ALU_PREL_11_0, far_fn
    .short  0xf20f, 0x0400          /* addw r4, pc, #0: R_ARM_THM_ALU_PREL_11_0 */
    b.w     far_fn                  /* R_ARM_THM_JUMP24 */
    .reloc  ., R_ARM_THM_JUMP6, far_fn
    .short  0xb100                  /* cbz r0, +0: R_ARM_THM_JUMP6, forward only */
    .size entry, . - entry

    .section .text.b, "ax", %progbits
    .globl far_fn
    .type far_fn, %function
    .thumb_func
far_fn:
    bx      lr
    .size far_fn, . - far_fn
    .balign 4
lit:
    .word   0x11223344

    .data
    .globl var
var:
    .word   0
    .word   far_fn                  /* R_ARM_ABS32: a Thumb function, bit 0 set */
    .word   fw_data + 4             /* R_ARM_ABS32 to an import */
    .reloc  ., R_ARM_TARGET1, far_fn
    .word   0                       /* R_ARM_TARGET1 */
    .word   var - .                 /* R_ARM_REL32 */
    .word   fw_data - .             /* R_ARM_REL32 to an import */
    .reloc  ., R_ARM_PREL31, entry
    .word   0x80000000              /* R_ARM_PREL31, bit 31 kept */
    .reloc  ., R_ARM_NONE, far_fn
    .word   0x12345678              /* R_ARM_NONE: left as it is */
    .word   _GLOBAL_OFFSET_TABLE_ - . /* R_ARM_BASE_PREL: the GOT's origin */
    .word   var(GOTOFF)             /* R_ARM_GOTOFF32 */
    .word   fw_data(GOT_PREL)       /* R_ARM_GOT_PREL */
    .word   fw_data(GOT)            /* R_ARM_GOT_BREL */
