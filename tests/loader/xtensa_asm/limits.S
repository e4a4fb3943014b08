/* Every SLOT0_OP operand form at the edges of its range, and one step past.
 * .begin no-transform keeps gas from relaxing branches to imports. */
/* hr-args: --sym jmax=0x40120003 --sym jmin=0x400e0007 --sym b12max=0x40100809 */
/* hr-args: --sym b12min=0x400ff80d --sym b8max=0x4010008f --sym b8min=0x400fff93 */
/* hr-args: --sym r8max=0x40100095 --sym r8min=0x400fff99 --sym n6max=0x4010005b */
/* hr-args: --sym n6min=0x4010001e --sym cmax=0x4018001c --sym cmin=0x40080020 */
/* hr-args: --sym lmax=0x40100020 --sym lmin=0x400c0028 */
/* hr-case: jmax_past --sym jmax=0x40120004 !error J target */
/* hr-case: jmin_past --sym jmin=0x400e0006 !error J target */
/* hr-case: b12max_past --sym b12max=0x4010080a !error BRI12 */
/* hr-case: b12min_past --sym b12min=0x400ff80c !error BRI12 */
/* hr-case: b8max_past --sym b8max=0x40100090 !error BRI8 */
/* hr-case: b8min_past --sym b8min=0x400fff92 !error BRI8 */
/* hr-case: r8max_past --sym r8max=0x40100096 !error RRI8 */
/* hr-case: r8min_past --sym r8min=0x400fff98 !error RRI8 */
/* hr-case: n6max_past --sym n6max=0x4010005c !error BEQZ.N/BNEZ.N */
/* hr-case: n6min_past --sym n6min=0x4010001d !error BEQZ.N/BNEZ.N */
/* hr-case: cmax_past --sym cmax=0x40180020 !error out of reach */
/* hr-case: cmin_past --sym cmin=0x4008001c !error out of reach */
/* hr-case: lmax_past --sym lmax=0x40100024 !error L32R literal */
/* hr-case: lmin_past --sym lmin=0x400c0024 !error L32R literal */
/* hr-case: call_misaligned --sym cmax=0x4018001a !error misaligned */
/* hr-case: l32r_misaligned --sym lmax=0x4010001e !error not 4-byte aligned */
    .text
    .global f
    .align 4
f:
    .begin no-transform
    j jmax
    j jmin
    beqz a2, b12max
    bgez a3, b12min
    beqi a2, 4, b8max
    bltui a4, 16, b8min
    bne a2, a3, r8max
    bbsi a5, 31, r8min
    beqz.n a2, n6max
    bnez.n a7, n6min
    call0 cmax
    call0 cmin
    l32r a2, lmax
    l32r a9, lmin
    .end no-transform
    ret.n
