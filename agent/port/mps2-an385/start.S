/* The vector table, reset, fault entry and the constructor guard's
 * register save, for the Cortex-M3.
 *
 * Thread mode, privileged, runs on the process stack (PSP, __stack_top),
 * the fault handlers on the main stack (MSP, __hstack_top): a thread
 * stack overflow faults into a handler that still has a stack (the MPU
 * guards the thread stack's bottom, system.c). No interrupt is ever taken
 * (PRIMASK stays set, system.c): the port waits for interrupts with wfi
 * and looks at the devices itself. The faults (HardFault, MemManage,
 * BusFault, UsageFault) all enter hr_an385_fault_entry. */
    .syntax unified
    .thumb

    .section .vectors, "a"
    .align 2
    .globl __vectors
__vectors:
    .word __hstack_top              /* MSP: the fault handlers' stack */
    .word hr_an385_reset
    .word hr_an385_fault_entry      /* 2 NMI */
    .word hr_an385_fault_entry      /* 3 HardFault */
    .word hr_an385_fault_entry      /* 4 MemManage */
    .word hr_an385_fault_entry      /* 5 BusFault */
    .word hr_an385_fault_entry      /* 6 UsageFault */
    .word 0, 0, 0, 0
    .word hr_an385_fault_entry      /* 11 SVCall */
    .word hr_an385_fault_entry      /* 12 DebugMonitor */
    .word 0
    .word hr_an385_fault_entry      /* 14 PendSV */
    .word hr_an385_fault_entry      /* 15 SysTick */
    /* External interrupts: none is taken (PRIMASK), but a vector for each
     * keeps a stray one from jumping through garbage. */
    .rept 32
    .word hr_an385_fault_entry
    .endr

    .text
    .thumb_func
    .globl hr_an385_reset
hr_an385_reset:
    cpsid i
    /* Paint the main stack, to measure how deep it goes (hr_board_stack_used). */
    ldr r0, =__stack_bottom
    ldr r1, =__stack_top
    ldr r2, =0x5a5a5a5a
1:  cmp r0, r1
    bhs 2f
    str r2, [r0], #4
    b 1b
2:  ldr r0, =__bss_start
    ldr r1, =__bss_end
    movs r2, #0
3:  cmp r0, r1
    bhs 4f
    str r2, [r0], #4
    b 3b
4:  ldr r0, =__stack_top
    msr psp, r0
    movs r0, #2             /* CONTROL.SPSEL: thread mode on PSP */
    msr control, r0
    isb
    bl hr_an385_system_init
    bl main
    b hr_board_exit

/* Faults: hand the stacked frame (MSP or PSP, as EXC_RETURN says), the
 * exception's number and EXC_RETURN to hr_an385_fault, which either ends
 * the run or rewrites the frame so that the return resumes at the guard. */
    .thumb_func
    .globl hr_an385_fault_entry
hr_an385_fault_entry:
    tst lr, #4
    ite eq
    mrseq r0, msp
    mrsne r0, psp
    mrs r1, ipsr
    mov r2, lr
    push {r2, lr}
    bl hr_an385_fault
    pop {r2, pc}

/* int hr_board_guard_save(uint32_t regs[14]): like setjmp, r4-r11, sp and
 * lr. A fault under the guard returns into hr_board_guard_resume with r0 =
 * regs, which returns 1 from the save. */
    .thumb_func
    .globl hr_board_guard_save
hr_board_guard_save:
    stmia r0!, {r4-r11}
    mov r1, sp
    str r1, [r0], #4
    str lr, [r0]
    movs r0, #0
    bx lr

    .thumb_func
    .globl hr_board_guard_resume
hr_board_guard_resume:
    ldmia r0!, {r4-r11}
    ldr r1, [r0], #4
    mov sp, r1
    ldr lr, [r0]
    movs r0, #1
    bx lr
