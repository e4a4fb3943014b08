/* Sv32 page tables for supervisor mode: the devices and the firmware at
 * their own addresses, and the heap pool a second time, read-execute, at
 * HR_RV32_IBUS_OFFSET below. Module code is written through the pool's
 * read-write view and fetched through the alias (hr_mem.write vs
 * hr_mem.addr), the split ESP32-C3 IRAM/DRAM imposes: code run at its data
 * address faults, and so does a write through the code address. The alias
 * stays readable, as the C3's instruction bus is, and because gdb reads
 * code through the current translation (an execute-only alias would leave
 * it unable to disassemble or step module code). Firmware code is
 * read-execute, constants read-only, data read-write; the page under the
 * stack and everything past the image are unmapped. */
#include <stdint.h>

#include "virt.h"

#define PTE_V 0x001u
#define PTE_R 0x002u
#define PTE_W 0x004u
#define PTE_X 0x008u
#define PTE_A 0x040u
#define PTE_D 0x080u
#define MEGA 0x400000u
#define PAGE VIRT_PAGE

static uint32_t root[1024] __attribute__((aligned(PAGE)));
static uint32_t low[1024] __attribute__((aligned(PAGE)));   /* 0x00000000: test device, RTC */
static uint32_t ram[1024] __attribute__((aligned(PAGE)));   /* the firmware's 4 MiB */
static uint32_t alias[1024] __attribute__((aligned(PAGE))); /* the pool, read-execute */

/* A and D preset: nothing here relies on the hardware updating them. */
static uint32_t leaf(uint32_t pa, uint32_t perm)
{
    return (pa >> 12) << 10 | perm | PTE_V | PTE_A | PTE_D;
}

static uint32_t table(const uint32_t *t)
{
    return ((uint32_t)(uintptr_t)t >> 12) << 10 | PTE_V;
}

static void mega(uint32_t base, uint32_t size)
{
    for (uint32_t a = base & ~(MEGA - 1); a < base + size; a += MEGA)
        root[a >> 22] = leaf(a, PTE_R | PTE_W);
}

uint32_t hr_rv32_paging_init(void)
{
    root[0] = table(low);
    low[VIRT_TEST >> 12] = leaf(VIRT_TEST, PTE_R | PTE_W);
    low[VIRT_RTC >> 12] = leaf(VIRT_RTC, PTE_R | PTE_W);
    mega(VIRT_CLINT, 0x10000);
    mega(VIRT_UART, MEGA); /* the UART and, for later, virtio-mmio */
    mega(VIRT_FLASH0, VIRT_FLASH_SIZE);

    uint32_t start = (uint32_t)(uintptr_t)__text_start;
    root[start >> 22] = table(ram);
    for (uint32_t a = start; a < (uint32_t)(uintptr_t)__image_end; a += PAGE) {
        uint32_t perm = PTE_R | PTE_W;
        if (a < (uint32_t)(uintptr_t)__text_end)
            perm = PTE_R | PTE_X;
        else if (a < (uint32_t)(uintptr_t)__rodata_end)
            perm = PTE_R;
        else if (a >= (uint32_t)(uintptr_t)__stack_guard &&
                 a < (uint32_t)(uintptr_t)__stack_bottom)
            continue;
        ram[(a >> 12) & 1023] = leaf(a, perm);
    }

    uint32_t heap = (uint32_t)(uintptr_t)__heap_start;
    root[(heap - HR_RV32_IBUS_OFFSET) >> 22] = table(alias);
    for (uint32_t a = heap; a < (uint32_t)(uintptr_t)__heap_end; a += PAGE)
        alias[((a - HR_RV32_IBUS_OFFSET) >> 12) & 1023] = leaf(a, PTE_R | PTE_X);

    return 1u << 31 | (uint32_t)(uintptr_t)root >> 12; /* Sv32 */
}
