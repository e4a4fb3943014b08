/* rv32-virt's part of the platform (the rest is ../board/board.c): the
 * loader's port -- module regions from the heap pool, text written through
 * the pool's read-write view and executed through its alias (paging.c) --
 * the clock, the idle wait and the instruction counter. */
#include <stdint.h>

#include "hotreload/port.h"
#include "virt.h"

const char hr_board_name[] = "rv32-virt";

/* Code gets whole 4 KiB pages of its own, as a chip keeps it in its own
 * instruction RAM: QEMU translates code per page and checks every write to
 * a page holding translated code, so a module's text sharing a page with
 * the heap's small blocks slowed everything that writes them (a signature
 * check took 0.4-0.7 s instead of 0.06 s after the first module ran). */
static int rv_region_alloc(void *ctx, enum hr_region_kind kind, size_t size, size_t align,
                           struct hr_mem *out)
{
    (void)ctx;
    if (kind == HR_REGION_TEXT) {
        size = (size + VIRT_PAGE - 1) & ~(size_t)(VIRT_PAGE - 1);
        align = VIRT_PAGE;
    }
    uint8_t *p = hr_board_heap_alloc(size, align);
    if (!p)
        return -1;
    out->write = p;
    out->addr = (uintptr_t)p;
    if (kind == HR_REGION_TEXT)
        out->addr -= HR_RV32_IBUS_OFFSET;
    out->size = size;
    return 0;
}

static void rv_region_free(void *ctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    (void)ctx;
    (void)kind;
    hr_board_heap_free(mem->write);
}

/* The instruction fetch must see what the data side wrote: fence.i. (QEMU
 * would notice the writes anyway; an ESP32-C3 needs this and no more, its
 * IRAM being uncached.) */
static void rv_sync_code(void *ctx, const struct hr_mem *mem)
{
    (void)ctx;
    (void)mem;
    __asm__ volatile("fence.i" ::: "memory");
}

const struct hr_port hr_board_mem = {
    NULL, hr_board_alloc, hr_board_free, rv_region_alloc, rv_region_free, rv_sync_code, 0,
};

uint64_t hr_board_now_ms(void)
{
    return virt_mtime() / (VIRT_MTIME_HZ / 1000);
}

/* The machine-mode monitor's idle service (machine.c) waits in wfi. */
void hr_board_idle_until(uint64_t deadline_ms)
{
    uint64_t deadline = deadline_ms * (VIRT_MTIME_HZ / 1000);
    register uint32_t a0 __asm__("a0") = (uint32_t)deadline;
    register uint32_t a1 __asm__("a1") = (uint32_t)(deadline >> 32);
    register uint32_t a7 __asm__("a7") = HR_RV32_ECALL_IDLE;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a7) : "memory");
}

uint32_t hr_board_icount(void)
{
    uint32_t v;
    __asm__ volatile("rdinstret %0" : "=r"(v));
    return v;
}
