/* Memory for modules on the sim machine, laid out by fw.ld:
 *   code   IRAM0 (0x4000xxxx): over 512 KiB from the firmware's code in
 *          IRAM1, out of a CALL0's reach, as modules on a device may be;
 *   data   DRAM1 (0x3ff8xxxx), for rodata, data, small data and bss;
 *   bookkeeping  a static heap in the firmware's own DRAM.
 * Each pool is a bump allocator that counts what is live and starts over
 * when everything has been given back. Free code memory holds zero bytes,
 * which decode as ILL: a stub left pointing at a freed module traps instead
 * of running stale code. Free data memory holds 0xa5 bytes, so a .bss the
 * loader failed to clear shows up in the module's results. */
#include "port.h"

#include <string.h>

#include "calc.h"

struct pool {
    uintptr_t start, end, next, peak;
    uint32_t live;
};

enum { TEXT_POISON = 0x00, DATA_POISON = 0xa5 };

extern char __modtext_start[], __modtext_end[], __moddata_start[], __moddata_end[];

static struct pool text_pool, data_pool, heap_pool;
static uint8_t heap[48 * 1024] __attribute__((aligned(8)));
static int fail_after = -1;

static void pool_init(struct pool *p, uintptr_t start, uintptr_t end, int poison)
{
    if (p->end != 0)
        return;
    *p = (struct pool){start, end, start, start, 0};
    if (poison >= 0)
        memset((void *)start, poison, end - start);
}

static void init(void)
{
    pool_init(&text_pool, (uintptr_t)__modtext_start, (uintptr_t)__modtext_end, TEXT_POISON);
    pool_init(&data_pool, (uintptr_t)__moddata_start, (uintptr_t)__moddata_end, DATA_POISON);
    pool_init(&heap_pool, (uintptr_t)heap, (uintptr_t)heap + sizeof heap, -1);
}

static void *pool_take(struct pool *p, size_t size, size_t align)
{
    uintptr_t at = (p->next + align - 1) & ~(uintptr_t)(align - 1);
    if (at < p->next || size > p->end - at)
        return NULL;
    p->next = at + size;
    if (p->next > p->peak)
        p->peak = p->next;
    p->live++;
    return (void *)at;
}

static void pool_give(struct pool *p)
{
    if (--p->live == 0)
        p->next = p->start;
}

static void *port_alloc(void *ctx, size_t size)
{
    (void)ctx;
    init();
    return pool_take(&heap_pool, size, 8);
}

static void port_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (ptr)
        pool_give(&heap_pool);
}

static int region_alloc(void *ctx, enum hr_region_kind kind, size_t size, size_t align,
                        struct hr_mem *out)
{
    (void)ctx;
    init();
    if (fail_after >= 0 && fail_after-- == 0)
        return -1;
    void *p = pool_take(kind == HR_REGION_TEXT ? &text_pool : &data_pool, size,
                        align < 4 ? 4 : align);
    if (!p)
        return -1;
    *out = (struct hr_mem){(uint8_t *)p, (hr_addr_t)(uintptr_t)p, size};
    return 0;
}

static void region_free(void *ctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    (void)ctx;
    memset(mem->write, kind == HR_REGION_TEXT ? TEXT_POISON : DATA_POISON, mem->size);
    pool_give(kind == HR_REGION_TEXT ? &text_pool : &data_pool);
}

/* lx106 has no caches; ISYNC makes sure no instruction fetched before the
 * stores is executed. */
static void sync_code(void *ctx, const struct hr_mem *mem)
{
    (void)ctx;
    (void)mem;
    __asm__ volatile("memw\n\tisync" ::: "memory");
}

const struct hr_port fw_port = {
    .alloc = port_alloc,
    .free = port_free,
    .region_alloc = region_alloc,
    .region_free = region_free,
    .sync_code = sync_code,
};

struct fw_usage fw_usage(void)
{
    init();
    return (struct fw_usage){heap_pool.live, text_pool.live + data_pool.live,
                             (uint32_t)(heap_pool.peak - heap_pool.start),
                             (uint32_t)(text_pool.peak - text_pool.start),
                             (uint32_t)(data_pool.peak - data_pool.start)};
}

void fw_fail_region_after(int n)
{
    fail_after = n;
}

/* The firmware's exports: GCC's helpers and the functions of calc.h. A
 * device without a symbol table binds modules ahead instead (hotd bind
 * --absolute). */
uint32_t __udivsi3(uint32_t n, uint32_t d);
uint32_t __umodsi3(uint32_t n, uint32_t d);
int32_t __divsi3(int32_t n, int32_t d);
uint64_t __muldi3(uint64_t a, uint64_t b);
uint64_t __udivdi3(uint64_t n, uint64_t d);

#define SYM(f) {#f, (void (*)(void))f}
static const struct {
    const char *name;
    void (*fn)(void);
} exports[] = {
    SYM(fw_scale), SYM(fw_apply), SYM(fw_wide), SYM(fw_note),
    SYM(memcpy), SYM(memset), SYM(memmove),
    SYM(__udivsi3), SYM(__umodsi3), SYM(__divsi3), SYM(__muldi3), SYM(__udivdi3),
};

int fw_resolve(void *ctx, const char *name, hr_addr_t *addr)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof exports / sizeof exports[0]; i++)
        if (strcmp(exports[i].name, name) == 0) {
            *addr = (hr_addr_t)(uintptr_t)exports[i].fn;
            return 0;
        }
    return -1;
}

int fw_resolve_none(void *ctx, const char *name, hr_addr_t *addr)
{
    (void)name;
    (void)addr;
    ++*(int *)ctx;
    return -1;
}
