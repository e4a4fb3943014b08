/* Every branch and jump opcode, forwards and backwards, against an import
 * (symbol relocation) and against a label in another section (section symbol
 * plus addend). The loader places .text.far right after .text. */
/* hr-args: --sym mid=0x40100040 --sym after=0x40100090 */
    .text
    .global f
    .align 4
f:
    .begin no-transform
    beqz a2, mid
    bnez a2, mid
    bltz a2, mid
    bgez a2, mid
    beqi a2, -1, mid
    bnei a2, 256, mid
    blti a2, 12, mid
    bgei a2, 1, mid
    bltui a2, 32768, mid
    bgeui a2, 65536, mid
    bnone a2, a3, mid
    beq a2, a3, mid
    blt a2, a3, mid
    bltu a2, a3, mid
    ball a2, a3, mid
    bbc a2, a3, mid
    bbci a2, 0, mid
    bbci a2, 17, mid
    bany a2, a3, mid
    bne a2, a3, mid
    bge a2, a3, mid
    bgeu a2, a3, mid
    bnall a2, a3, mid
    bbs a2, a3, mid
    bbsi a2, 1, mid
    bbsi a2, 16, mid
    beqz.n a15, after
    bnez.n a15, after
    j mid
    j far2
    beqz a4, far1
    bne a4, a5, far2
    bgeui a4, 3, far1
    beqz.n a6, far1
    call0 farfn
    .end no-transform
    ret.n

    .section .text.far, "ax"
    .align 4
farfn:
    ret.n
far1:
    nop.n
far2:
    ret.n
