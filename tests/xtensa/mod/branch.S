/* calc_branch(a, b): branches and jumps whose targets lie in another
 * section, so the assembler leaves each one to the loader (a SLOT0_OP
 * against a section symbol plus addend). no-transform keeps each form as
 * written: the assembler would otherwise widen a branch it cannot resolve.
 *
 *   a == b                  -> a + 100
 *   a < b (signed)          -> 200
 *   a == 0 (so b < 0)       -> 300
 *   a >= b (unsigned)       -> 400 + (a & 1)
 *   otherwise               -> 500 */
    .section .text.calc_branch, "ax"
    .global calc_branch
    .type calc_branch, @function
    .align 4
calc_branch:
    .begin no-transform
    beq a2, a3, .Leq        /* RRI8 */
    blt a2, a3, .Llt        /* RRI8 */
    beqz a2, .Lzero         /* BRI12 */
    bgeu a2, a3, .Luge      /* RRI8 */
    movi a2, 500
    j .Ldone                /* J */
    .end no-transform
    .size calc_branch, . - calc_branch

    .section .text.calc_branch_far, "ax"
    .align 4
.Leq:
    addi a2, a2, 100
    j .Ldone
.Llt:
    movi a2, 200
    j .Ldone
.Lzero:
    movi a2, 300
    j .Ldone
.Luge:
    movi a3, 400
    .begin no-transform
    bbci a2, 0, .Leven      /* RRI8, bit test */
    addi a3, a3, 1
    mov a2, a3
    movi.n a4, 0
    beqz.n a4, .Ldone       /* RI6, forward only */
    .end no-transform
    movi a2, -1
    ret.n

    .section .text.calc_branch_done, "ax"
    .align 4
.Leven:
    mov a2, a3
.Ldone:
    ret.n
