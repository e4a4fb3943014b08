/* The mps2-an385 port's private facts: the addresses of QEMU's model of
 * Arm's MPS2 board with the AN385 FPGA image (a Cortex-M3), the linker
 * script's symbols, and what the port's files share. */
#ifndef HR_AN385_H
#define HR_AN385_H

#include <stddef.h>
#include <stdint.h>

#include "../board/board.h"

#define AN385_TIMER0 0x40000000u  /* CMSDK APB timer: the idle wake-up */
#define AN385_TIMER1 0x40001000u  /* another: free-running, hr_board_icount */
#define AN385_UART0 0x40004000u   /* CMSDK APB UART: the console */
#define AN385_FPGAIO 0x40028000u  /* its COUNTER: the clock */
#define AN385_ETH 0x40200000u     /* LAN9118 */
#define AN385_PSRAM 0x21000000u   /* 16 MiB: module storage (storage.c) */
#define AN385_PSRAM_SIZE 0x01000000u
#define AN385_SYSCLK_HZ 25000000u

/* The interrupt lines (NVIC inputs) the port waits on; none is ever taken. */
#define AN385_IRQ_UART0_RX 0u
#define AN385_IRQ_TIMER0 8u
#define AN385_IRQ_ETH 13u

/* The Cortex-M3's system control space. */
#define SCB_ICSR 0xe000ed04u
#define SCB_AIRCR 0xe000ed0cu
#define SCB_SHCSR 0xe000ed24u
#define SCB_CFSR 0xe000ed28u
#define SCB_HFSR 0xe000ed2cu
#define SCB_MMFAR 0xe000ed34u
#define SCB_BFAR 0xe000ed38u
#define MPU_CTRL 0xe000ed94u
#define MPU_RNR 0xe000ed98u
#define MPU_RBAR 0xe000ed9cu
#define MPU_RASR 0xe000eda0u
#define NVIC_ISER0 0xe000e100u
#define NVIC_ICPR0 0xe000e280u

static inline uint32_t mmio_read32(uintptr_t a)
{
    return *(volatile uint32_t *)a;
}

static inline void mmio_write32(uintptr_t a, uint32_t v)
{
    *(volatile uint32_t *)a = v;
}

/* Linker script symbols (link.ld). */
extern char __text_start[], __text_end[], __stack_guard[];
extern char __entropy_start[], __entropy_end[];

/* The UART (uart.c). */
void hr_an385_uart_init(void);
int hr_an385_uart_ready(void);
void hr_an385_uart_ack(void);

/* The clock, idle and faults (system.c). */
void hr_an385_system_init(void);

/* What the fault handler is given (start.S): the registers the exception
 * stacked, and the exception's number (3 HardFault ... 6 UsageFault). */
struct hr_an385_frame {
    uint32_t r0, r1, r2, r3, r12, lr, pc, xpsr;
};
void hr_an385_fault(struct hr_an385_frame *f, uint32_t exc, uint32_t exc_return);
/* "<what> at pc 0x... (CFSR 0x..., ...)" for a fault. */
void hr_an385_describe_fault(char *buf, size_t size, uint32_t exc, uint32_t pc);

#endif
