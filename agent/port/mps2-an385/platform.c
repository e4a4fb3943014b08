/* mps2-an385's loader port (the rest of the platform is ../board/board.c
 * and system.c): module regions come from the heap pool in SRAM, which the
 * Cortex-M3 executes from, so code runs where it was written. */
#include <stdint.h>

#include "an385.h"
#include "hotreload/port.h"

const char hr_board_name[] = "mps2-an385";

static int an_region_alloc(void *ctx, enum hr_region_kind kind, size_t size, size_t align,
                           struct hr_mem *out)
{
    (void)ctx;
    (void)kind;
    uint8_t *p = hr_board_heap_alloc(size, align < 8 ? 8 : align);
    if (!p)
        return -1;
    out->write = p;
    out->addr = (uintptr_t)p;
    out->size = size;
    return 0;
}

static void an_region_free(void *ctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    (void)ctx;
    (void)kind;
    hr_board_heap_free(mem->write);
}

/* The M3 has no caches; the barriers make the writes complete and the
 * pipeline refetch before module code runs, as the architecture asks
 * after writing instructions (a core with caches would clean and
 * invalidate them here too). */
static void an_sync_code(void *ctx, const struct hr_mem *mem)
{
    (void)ctx;
    (void)mem;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

const struct hr_port hr_board_mem = {
    NULL, hr_board_alloc, hr_board_free, an_region_alloc, an_region_free, an_sync_code, 0,
};
