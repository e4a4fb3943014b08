/* Relocations the loader refuses, each with a message naming the problem.
 * Each case builds its own object with one bad relocation switched on; ld
 * refuses the same objects unless the case says !noref (ld's lx106 ISA cannot
 * decode the instruction, or ld accepts a type that no module may carry, or reads past the section).
 * MOVI.N and ENTRY: ld refuses too. */
/* hr-case: addi -DADDI !error instruction 12 c2 05 (op0 2) */
/* hr-case: movi_n -DMOVI_N !error instruction 0c 02 (op0 12) */
/* hr-case: entry -DENTRY !error instruction 36 41 00 (op0 6) */
/* hr-case: flix -DFLIX !error FLIX bundle */
/* hr-case: slot1 -DSLOT1 !error FLIX slot 1 */
/* hr-case: alt -DALT !error alternate form */
/* hr-case: relative -DRELATIVE !error dynamic relocation !noref */
/* hr-case: glob_dat -DGLOB_DAT !error dynamic relocation !noref */
/* hr-case: op0 -DOP0 !error obsolete !noref */
/* hr-case: simplify -DSIMPLIFY !error partial link !noref */
/* hr-case: tls -DTLS !error thread-local !noref */
/* hr-case: short -DSHORT !error runs past the end !noref */
    .text
    .global f
    .align 4
f:
    nop
#ifdef ADDI
    .reloc ., R_XTENSA_SLOT0_OP, ext
    .byte 0x12, 0xc2, 0x05      /* addi a1, a2, 5 */
#endif
#ifdef MOVI_N
    .reloc ., R_XTENSA_SLOT0_OP, ext
    movi.n a2, 0
#endif
#ifdef ENTRY
    .reloc ., R_XTENSA_SLOT0_OP, ext
    .byte 0x36, 0x41, 0x00
#endif
#ifdef FLIX
    .reloc ., R_XTENSA_SLOT0_OP, ext
    .byte 0x0e, 0, 0, 0, 0, 0, 0, 0
#endif
#ifdef SLOT1
    .reloc ., R_XTENSA_SLOT1_OP, ext
    .byte 0x21, 0, 0
#endif
#ifdef ALT
    .reloc ., R_XTENSA_SLOT0_ALT, ext
    .byte 0x21, 0, 0
#endif
#ifdef RELATIVE
    .reloc ., R_XTENSA_RELATIVE, ext
    .word 0
#endif
#ifdef GLOB_DAT
    .reloc ., R_XTENSA_GLOB_DAT, ext
    .word 0
#endif
#ifdef OP0
    .reloc ., R_XTENSA_OP0, ext
    .byte 0x06, 0, 0
#endif
#ifdef SIMPLIFY
    .reloc ., R_XTENSA_ASM_SIMPLIFY, ext
    .byte 0x01, 0, 0, 0xc0, 0, 0
#endif
#ifdef TLS
    .reloc ., R_XTENSA_TLS_TPOFF, ext
    .word 0
#endif
    ret.n
#ifdef SHORT
    .reloc ., R_XTENSA_SLOT0_OP, ext
    .byte 0x06, 0
#endif
