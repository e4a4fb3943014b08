/* Forms the lx106 assembler and linker do not know (windowed calls, LOOP,
 * boolean branches, windowed long calls), so ld cannot be the oracle: the
 * expected bytes below are encoded by hand from the ISA (xtensa-modules.c
 * operand semantics: soffsetx4, ulabel8, label8). .literal (8 bytes) is at
 * 0x40100000, so .text starts at 0x40100008. */
/* hr-noref */
/* hr-args: --sym c4=0x40100408 --sym c8=0x400ff008 --sym c12=0x4018000c */
/* hr-args: --sym lend=0x40100107 --sym bt=0x40100098 --sym wfar=0x40300000 */
/* CALL4 at 0x40100008 -> 0x40100408: (0x400 - 4) / 4 = 0xff -> b0 0x15 | 3<<6, b1 0x3f, b2 0 */
/* hr-bytes: base .text 0x0 d53f00 */
/* CALL8 at 0x4010000b -> 0x400ff008: (0x400ff008 - 0x40100008 - 4) / 4 = -0x401 = 0x3fbff */
/* hr-bytes: base .text 0x3 e5fffe */
/* CALL12 at 0x4010000e -> 0x4018000c: (0x4018000c - 0x4010000c - 4) / 4 = 0x1ffff */
/* hr-bytes: base .text 0x6 f5ff7f */
/* LOOP a2 at 0x40100011 -> LEND 0x40100107: imm8 = 0x107 - 0x11 - 4 = 0xf2 */
/* hr-bytes: base .text 0x9 7682f2 */
/* LOOPNEZ a3 at 0x40100014: imm8 = 0x107 - 0x14 - 4 = 0xef; LOOPGTZ a4 at 0x40100017: 0xec */
/* hr-bytes: base .text 0xc 7693ef76a4ec */
/* BT b1 at 0x4010001a -> 0x40100098: 0x98 - 0x1a - 4 = 0x7a; BF b2 at 0x4010001d: 0x77 */
/* hr-bytes: base .text 0x12 76117a760277 */
/* hr-case: loop_back --sym lend=0x40100010 !error LOOP end !noref */
/* hr-case: loop_far --sym lend=0x40100115 !error LOOP end !noref */
/* hr-case: call8_segment --sym c8=0x3ffffff0 !error crosses a 1 GiB boundary !noref */
/* hr-case: call4_range --sym c4=0x4018000c !error out of reach !noref */
/* hr-case: longcall_segment --sym wfar=0x80000000 !error windowed long call !noref */
/* hr-case: longcall_call0 --sym wfar0=0x80000000 !noref */
/* hr-bytes: longcall_call0 .literal 0x4 00000080 */
/* hr-case: bt_far --sym bt=0x4010009e !error BF/BT !noref */
    .section .literal, "ax"
    .align 4
    .word wfar
    .word wfar0
    .text
    .global f
    .align 4
f:
    .reloc ., R_XTENSA_SLOT0_OP, c4
    .byte 0x15, 0, 0            /* call4 */
    .reloc ., R_XTENSA_SLOT0_OP, c8
    .byte 0x25, 0, 0            /* call8 */
    .reloc ., R_XTENSA_SLOT0_OP, c12
    .byte 0x35, 0, 0            /* call12 */
    .reloc ., R_XTENSA_SLOT0_OP, lend
    .byte 0x76, 0x82, 0         /* loop a2 */
    .reloc ., R_XTENSA_SLOT0_OP, lend
    .byte 0x76, 0x93, 0         /* loopnez a3 */
    .reloc ., R_XTENSA_SLOT0_OP, lend
    .byte 0x76, 0xa4, 0         /* loopgtz a4 */
    .reloc ., R_XTENSA_SLOT0_OP, bt
    .byte 0x76, 0x11, 0         /* bt b1 */
    .reloc ., R_XTENSA_SLOT0_OP, bt
    .byte 0x76, 0x02, 0         /* bf b2 */
    /* l32r a8, lit; callx8 a8 (longcall expansion) */
    .reloc ., R_XTENSA_ASM_EXPAND, wfar
    .reloc ., R_XTENSA_SLOT0_OP, .literal
    .byte 0x81, 0, 0, 0xe0, 0x08, 0x00
    /* l32r a0, lit; callx0 a0: CALL0 has no segment rule */
    .reloc ., R_XTENSA_ASM_EXPAND, wfar0
    .reloc ., R_XTENSA_SLOT0_OP, .literal + 4
    .byte 0x01, 0, 0, 0xc0, 0x00, 0x00
    ret.n
