/* Instructions the loader spends per module and per relocation on a
 * bare-metal board (rv32-virt, mps2-an385): each module built into this
 * firmware is loaded from RAM with hr_module_load (the port's heap regions,
 * its code sync) and freed, with hr_board_icount() read around both. Under
 * QEMU's -icount (hotreload_board.h) the count is exact and the same run
 * after run.
 *
 * Prints per module:
 *   bench-board NAME relocs=R load=INSNS free=INSNS text=.. rodata=.. data=.. sdata=.. bss=..
 * then "bench-board done". */
#include <stdint.h>

#include "hotreload/loader.h"
#include "hotreload_board.h"

#define RUNS 3

extern const uint8_t bench_small[], bench_small_end[];
extern const uint8_t bench_medium[], bench_medium_end[];
extern const uint8_t bench_large[], bench_large_end[];
int bench_fw_scale(int x);
extern int bench_fw_bias;

static const struct {
    const char *name;
    const uint8_t *start, *end;
} modules[] = {
    {"small", bench_small, bench_small_end},
    {"medium", bench_medium, bench_medium_end},
    {"large", bench_large, bench_large_end},
};

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* The firmware cannot look its symbols up; the modules need two. */
static int resolve(void *ctx, const char *name, hr_addr_t *addr)
{
    (void)ctx;
    if (streq(name, "bench_fw_scale"))
        *addr = (uintptr_t)&bench_fw_scale;
    else if (streq(name, "bench_fw_bias"))
        *addr = (uintptr_t)&bench_fw_bias;
    else
        return -1;
    return 0;
}

typedef int (*entry_fn)(int);

static int measure(unsigned m, const struct hr_load_config *cfg)
{
    const void *image = modules[m].start;
    size_t size = (size_t)(modules[m].end - modules[m].start);
    uint32_t best_load = UINT32_MAX, best_free = UINT32_MAX;
    struct hr_module *mod = NULL;
    struct hr_error err;
    for (int run = 0; run < RUNS; run++) {
        uint32_t i0 = hr_board_icount();
        enum hr_status st = hr_module_load(cfg, image, size, &mod, &err);
        uint32_t i1 = hr_board_icount();
        if (st != HR_OK) {
            hr_board_printf("bench-board %s error %s\n", modules[m].name, err.msg);
            return -1;
        }
        if (run == RUNS - 1)
            break; /* keep the last one to describe it */
        hr_module_free(mod);
        uint32_t i2 = hr_board_icount();
        if (i1 - i0 < best_load)
            best_load = i1 - i0;
        if (i2 - i1 < best_free)
            best_free = i2 - i1;
    }
    unsigned long kinds[HR_REGION_COUNT] = {0}, relocs = 0;
    for (size_t i = 0; i < hr_module_section_count(mod); i++) {
        const struct hr_section_info *s = hr_module_section(mod, i);
        kinds[s->kind] += (unsigned long)s->size;
    }
    const struct hr_reloc_count *rc;
    size_t n = hr_module_reloc_stats(mod, &rc);
    for (size_t i = 0; i < n; i++)
        relocs += rc[i].count;
    const struct hr_export_info *e = hr_module_lookup(mod, "bench_entry");
    int answer = e ? ((entry_fn)(uintptr_t)e->addr)(3) : -1;
    hr_board_printf("bench-board %s relocs=%lu load=%u free=%u image=%u text=%lu rodata=%lu "
                   "data=%lu sdata=%lu bss=%lu answer=%d\n",
                   modules[m].name, relocs, (unsigned)best_load, (unsigned)best_free,
                   (unsigned)size, kinds[HR_REGION_TEXT], kinds[HR_REGION_RODATA],
                   kinds[HR_REGION_DATA], kinds[HR_REGION_SDATA], kinds[HR_REGION_BSS], answer);
    hr_module_free(mod);
    return 0;
}

int bench_verify(void); /* verify.c */

int main(void)
{
    const struct hr_platform *pf = hr_platform_get();
#if defined(__riscv)
    enum hr_arch arch = HR_ARCH_RV32;
#else
    enum hr_arch arch = HR_ARCH_ARM;
#endif
    struct hr_load_config cfg = {.arch = arch, .port = pf->mem,
                                 .resolve = resolve, .resolve_ctx = NULL};
    int rc = bench_verify(); /* first: the stack's and heap's marks are its own */
    for (unsigned m = 0; m < sizeof modules / sizeof modules[0]; m++)
        rc |= measure(m, &cfg);
    hr_board_printf("bench-board done\n");
    return rc ? 1 : 0;
}
