/* Word relocations. R_XTENSA_32 is partial_inplace in ld: the word already in
 * the section is added to S + A. R_XTENSA_PLT and R_XTENSA_32_PCREL overwrite
 * it. The DIFF family holds label differences the assembler already wrote. */
/* hr-args: --sym ext=0x40201234 --sym edata=0x3ffe0010 */
    .data
    .global words
    .align 4
words:
    .word ext
    .word ext + 8
    .word edata - 4
    .word local + 2
    .reloc ., R_XTENSA_32, ext + 4
    .word 0x1000                   /* in place: ext + 4 + 0x1000 */
    .reloc ., R_XTENSA_32, local
    .word -8
    .reloc ., R_XTENSA_PLT, ext + 0x10
    .word 0x55aa                   /* overwritten */
    .reloc ., R_XTENSA_32_PCREL, ext
    .word 0x77                     /* overwritten: ext - P */
    .reloc ., R_XTENSA_32_PCREL, local + 1
    .word 0
    .reloc ., R_XTENSA_NONE, ext
    .word 0x12345678
    .reloc ., R_XTENSA_DIFF32, ext
    .word 0x0000abcd
    .reloc ., R_XTENSA_DIFF16, ext
    .short 0x1234
    .reloc ., R_XTENSA_DIFF8, ext
    .byte 0x56
    .byte 0
    .word 2f - 1f                  /* gas's own DIFF32 across code */
    .short 2f - 1f
    .byte 2f - 1f
    .byte 0

    .section .rodata
    .align 4
local:
    .word words, words + 12

    .text
    .align 4
1:  nop
    ret.n
2:
