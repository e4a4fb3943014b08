/* Reset, exception vectors and start-up for the lx106 on QEMU's sim
 * machine. Assembled with --text-section-literals: the vectors live far
 * from the firmware's .literal, and L32R only reaches back 256 KiB. */

/* The lx106 resets at 0x50000000 whatever the ELF entry says. */
    .section .resetvec, "ax"
    .global _reset
_reset:
    j 1f
    .align 4
    .literal_position
1:  movi a0, _start
    jx a0

/* VECBASE resets to 0x40000000; fw.ld puts this section there. Every
 * vector reports and ends the run: a module that traps fails the test
 * instead of hanging it. a2 carries the vector's offset. */
    .section .vectors, "ax"
    .global _vectors
_vectors:
    .org 0x10           /* level 2 (debug) */
    movi a2, 0x10
    j trap
    .org 0x20           /* NMI */
    movi a2, 0x20
    j trap
    .org 0x30           /* kernel exception (PS.UM = 0, as here) */
    movi a2, 0x30
    j trap
    .org 0x50           /* user exception */
    movi a2, 0x50
    j trap
    .org 0x70           /* double exception */
    movi a2, 0x70
    j trap
    .org 0x80
    .align 4
    .literal_position
trap:
    rsr a3, exccause
    rsr a4, epc1
    rsr a5, excvaddr
    movi a1, trap_stack_top
    movi a0, fw_trap
    callx0 a0
1:  j 1b

    .text
    .align 4
    .literal_position
    .global _start
_start:
    /* Interrupts masked, EXCM clear (exceptions take the kernel vector
     * instead of the double-exception one), kernel mode. */
    movi a0, 0x0f
    wsr a0, ps
    rsync
    movi a1, __stack_top
    movi a0, fw_main
    callx0 a0
    movi a0, sim_exit
    callx0 a0           /* fw_main's result is already in a2 */
1:  j 1b

    .section .bss
    .align 16
    .space 1024
trap_stack_top:

/* No executable stack wanted (ld warns without this note). */
    .section .note.GNU-stack, "", @progbits
