/* Start, trap entry and the constructor guard's register save.
 *
 * The firmware boots in machine mode, sets up protection and paging
 * (machine.c, paging.c) and drops to supervisor mode for main(): page
 * permissions then apply, which is what gives module code an
 * instruction-bus address of its own. Every trap goes to machine mode
 * (nothing is delegated), through hr_rv32_trap_entry. */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    csrw mie, zero
    la t0, hr_rv32_trap_entry
    csrw mtvec, t0
    la t0, __mstack_top
    csrw mscratch, t0
    /* Paint the main stack, to measure how deep it goes (hr_board_stack_used). */
    la t0, __stack_bottom
    la t1, __stack_top
    li t2, 0x5a5a5a5a
1:  bgeu t0, t1, 2f
    sw t2, 0(t0)
    addi t0, t0, 4
    j 1b
2:  la t0, __bss_start
    la t1, __bss_end
3:  bgeu t0, t1, 4f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 3b
4:  la sp, __stack_top
    call hr_rv32_machine_init
    la t0, hr_rv32_supervisor_start
    csrw mepc, t0
    li t0, 0x1800           /* mstatus.MPP */
    csrc mstatus, t0
    li t0, 0x0800           /* MPP = supervisor */
    csrs mstatus, t0
    mret

/* Machine-mode trap entry: switch to the machine stack (mscratch), save
 * every register in a frame (struct hr_rv32_frame: x0's slot holds mepc),
 * let hr_rv32_trap look at it and change it, then return to what the frame
 * says. */
    .text
    .align 2
    .globl hr_rv32_trap_entry
hr_rv32_trap_entry:
    csrrw sp, mscratch, sp
    addi sp, sp, -128
    sw x1, 4(sp)
    sw x3, 12(sp)
    sw x4, 16(sp)
    sw x5, 20(sp)
    sw x6, 24(sp)
    sw x7, 28(sp)
    sw x8, 32(sp)
    sw x9, 36(sp)
    sw x10, 40(sp)
    sw x11, 44(sp)
    sw x12, 48(sp)
    sw x13, 52(sp)
    sw x14, 56(sp)
    sw x15, 60(sp)
    sw x16, 64(sp)
    sw x17, 68(sp)
    sw x18, 72(sp)
    sw x19, 76(sp)
    sw x20, 80(sp)
    sw x21, 84(sp)
    sw x22, 88(sp)
    sw x23, 92(sp)
    sw x24, 96(sp)
    sw x25, 100(sp)
    sw x26, 104(sp)
    sw x27, 108(sp)
    sw x28, 112(sp)
    sw x29, 116(sp)
    sw x30, 120(sp)
    sw x31, 124(sp)
    csrr t0, mscratch
    sw t0, 8(sp)
    csrr t0, mepc
    sw t0, 0(sp)
    mv a0, sp
    call hr_rv32_trap
    lw t0, 0(sp)
    csrw mepc, t0
    addi t0, sp, 128
    csrw mscratch, t0
    lw x1, 4(sp)
    lw x3, 12(sp)
    lw x4, 16(sp)
    lw x5, 20(sp)
    lw x6, 24(sp)
    lw x7, 28(sp)
    lw x8, 32(sp)
    lw x9, 36(sp)
    lw x10, 40(sp)
    lw x11, 44(sp)
    lw x12, 48(sp)
    lw x13, 52(sp)
    lw x14, 56(sp)
    lw x15, 60(sp)
    lw x16, 64(sp)
    lw x17, 68(sp)
    lw x18, 72(sp)
    lw x19, 76(sp)
    lw x20, 80(sp)
    lw x21, 84(sp)
    lw x22, 88(sp)
    lw x23, 92(sp)
    lw x24, 96(sp)
    lw x25, 100(sp)
    lw x26, 104(sp)
    lw x27, 108(sp)
    lw x28, 112(sp)
    lw x29, 116(sp)
    lw x30, 120(sp)
    lw x31, 124(sp)
    lw sp, 8(sp)
    mret

/* Supervisor mode from here on. */
hr_rv32_supervisor_start:
    call main
    tail hr_board_exit

/* int hr_board_guard_save(uint32_t regs[14]): like setjmp, what a callee
 * must preserve. A trap under the guard resumes at hr_board_guard_resume
 * with a0 = regs, which returns 1 from the save. */
    .globl hr_board_guard_save
hr_board_guard_save:
    sw ra, 0(a0)
    sw sp, 4(a0)
    sw s0, 8(a0)
    sw s1, 12(a0)
    sw s2, 16(a0)
    sw s3, 20(a0)
    sw s4, 24(a0)
    sw s5, 28(a0)
    sw s6, 32(a0)
    sw s7, 36(a0)
    sw s8, 40(a0)
    sw s9, 44(a0)
    sw s10, 48(a0)
    sw s11, 52(a0)
    li a0, 0
    ret

    .globl hr_board_guard_resume
hr_board_guard_resume:
    lw ra, 0(a0)
    lw sp, 4(a0)
    lw s0, 8(a0)
    lw s1, 12(a0)
    lw s2, 16(a0)
    lw s3, 20(a0)
    lw s4, 24(a0)
    lw s5, 28(a0)
    lw s6, 32(a0)
    lw s7, 36(a0)
    lw s8, 40(a0)
    lw s9, 44(a0)
    lw s10, 48(a0)
    lw s11, 52(a0)
    li a0, 1
    ret
