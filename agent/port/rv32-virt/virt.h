/* The rv32-virt port's private facts: QEMU virt's device addresses, the
 * linker script's symbols, and what the port's files share. */
#ifndef HR_RV32_VIRT_INT_H
#define HR_RV32_VIRT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "../board/board.h"

#define VIRT_TEST 0x00100000u       /* sifive_test: writes end the QEMU run */
#define VIRT_RTC 0x00101000u        /* goldfish RTC: host wall-clock nanoseconds */
#define VIRT_CLINT 0x02000000u
#define VIRT_MTIMECMP (VIRT_CLINT + 0x4000u) /* hart 0 */
#define VIRT_MTIME (VIRT_CLINT + 0xbff8u)
#define VIRT_MTIME_HZ 10000000u
#define VIRT_PLIC 0x0c000000u
#define VIRT_UART 0x10000000u       /* 16550 */
#define VIRT_UART_IRQ 10u
#define VIRT_VIRTIO_IRQ0 1u         /* virtio-mmio slot i (0x10001000 + i * 0x1000): irq 1 + i */
#define VIRT_FLASH0 0x20000000u     /* first CFI pflash: module storage (pflash.c) */
#define VIRT_FLASH_SIZE 0x02000000u
#define VIRT_FLASH_SECTOR 0x40000u  /* QEMU virt's pflash erase block */
#define VIRT_PAGE 0x1000u /* the MMU's page, and QEMU's unit of translated code */

/* Module code runs at its data address minus this: the instruction-bus
 * alias the page tables give the heap pool (paging.c), as ESP32-C3 IRAM
 * is seen at another address than its DRAM view. */
#define HR_RV32_IBUS_OFFSET 0x40000000u

/* Linker script symbols (link.ld). */
extern char __text_start[], __text_end[], __rodata_end[], __image_end[];
extern char __stack_guard[];

/* CSR access. */
#define csr_read(csr)                                                                          \
    ({                                                                                         \
        uint32_t v_;                                                                           \
        __asm__ volatile("csrr %0, " #csr : "=r"(v_));                                         \
        v_;                                                                                    \
    })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"r"((uint32_t)(val)))

static inline uint32_t mmio_read32(uintptr_t a)
{
    return *(volatile uint32_t *)a;
}

static inline void mmio_write32(uintptr_t a, uint32_t v)
{
    *(volatile uint32_t *)a = v;
}

static inline uint64_t virt_mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = mmio_read32(VIRT_MTIME + 4);
        lo = mmio_read32(VIRT_MTIME);
    } while (hi != mmio_read32(VIRT_MTIME + 4));
    return (uint64_t)hi << 32 | lo;
}

/* ecall services of the machine-mode monitor (machine.c), a7 = number. */
#define HR_RV32_ECALL_IDLE 1        /* a0:a1 = mtime deadline; wake early on UART input */

/* Machine mode (machine.c, start.S): the trap frame is x0..x31 with x0's
 * slot holding mepc, the address the trap returns to. */
struct hr_rv32_frame {
    uint32_t x[32];
};
void hr_rv32_machine_init(void);
void hr_rv32_trap(struct hr_rv32_frame *f);
/* "<what> at pc 0x... (mcause n, mtval 0x...)" for an exception. */
void hr_rv32_describe_trap(char *buf, size_t size, uint32_t cause, uint32_t pc, uint32_t tval);

/* Paging (paging.c): identity map of the devices and the firmware, and the
 * read-execute alias of the heap pool. Returns the satp value. */
uint32_t hr_rv32_paging_init(void);

/* The UART (uart.c). */
void hr_rv32_uart_init(void);
int hr_rv32_uart_ready(void);

#endif
