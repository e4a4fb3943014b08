/* The heap: one pool from the linker script (__heap_start..__heap_end) for
 * the loader's bookkeeping and the module regions. An address-ordered free
 * list: small blocks first fit from the bottom, large ones from the top;
 * freeing merges a block with its free neighbours, so the pool does not
 * fragment across reloads of a module of the same size. Alignment up to a
 * page (the loader asks at most 4096). */
#include <stdint.h>

#include "board.h"

#define HDR 8u      /* in-use header: size, magic */
#define MIN 16u     /* smallest free block: header + room to split */
#define MAGIC 0x48524d42u
#define LARGE 4096u /* from this size on, blocks come from the top of the pool */

struct block {
    uint32_t size;      /* bytes, header included */
    union {
        struct block *next; /* free */
        uint32_t magic;     /* in use */
    } u;
};

static struct block *free_list;
static size_t pool_size, free_bytes, low_free, used_blocks;
static int ready;

static void init(void)
{
    uintptr_t start = ((uintptr_t)__heap_start + 7u) & ~(uintptr_t)7u;
    free_list = (struct block *)start;
    free_list->size = (uint32_t)(((uintptr_t)__heap_end - start) & ~(uintptr_t)7u);
    free_list->u.next = NULL;
    pool_size = free_bytes = low_free = free_list->size;
    ready = 1;
}

static uint32_t round8(size_t n)
{
    return (uint32_t)((n + 7u) & ~(size_t)7u);
}

/* Where in free block b `want` bytes aligned to `align` go: its lowest
 * fitting address, or with `top` its highest; 0 when they do not fit. A gap
 * left before them must hold a free block (MIN), one after them is kept
 * with them when smaller. */
static uintptr_t place(const struct block *b, uint32_t want, size_t align, int top)
{
    uintptr_t start = (uintptr_t)b, end = start + b->size, p;
    if (b->size < want + HDR)
        return 0;
    if (!top) {
        p = (start + HDR + align - 1) & ~(uintptr_t)(align - 1);
        while (p - HDR != start && p - HDR - start < MIN)
            p += align;
        return p + want <= end ? p : 0;
    }
    p = (end - want) & ~(uintptr_t)(align - 1);
    while (p >= start + HDR && p - HDR != start && p - HDR - start < MIN)
        p -= align;
    return p >= start + HDR ? p : 0;
}

/* Take [p - HDR, p + want) out of the free block at *link. */
static void *carve(struct block **link, uintptr_t p, uint32_t want)
{
    struct block *b = *link;
    uintptr_t start = (uintptr_t)b, end = start + b->size;
    uintptr_t head = p - HDR, tail = p + want;
    if (end - tail < MIN)
        tail = end; /* too small to stand alone: part of this block */
    struct block *next = b->u.next;
    if (tail < end) {
        struct block *t = (struct block *)tail;
        t->size = (uint32_t)(end - tail);
        t->u.next = next;
        next = t;
    }
    if (head > start) {
        b->size = (uint32_t)(head - start);
        b->u.next = next;
    } else {
        *link = next;
    }
    struct block *u = (struct block *)head;
    u->size = (uint32_t)(tail - head);
    u->u.magic = MAGIC;
    free_bytes -= u->size;
    if (free_bytes < low_free)
        low_free = free_bytes;
    used_blocks++;
    return (void *)p;
}

/* Small blocks (the loader's bookkeeping) first fit from the bottom, large
 * ones (module regions) from the top: the hole a replaced module leaves is
 * not split by small blocks allocated meanwhile, so reloading a module of
 * the same size again finds its room. */
void *hr_board_heap_alloc(size_t size, size_t align)
{
    if (!ready)
        init();
    if (size == 0)
        size = 1;
    if (align < 8)
        align = 8;
    if (size > pool_size || align > 4096 || (align & (align - 1)))
        return NULL;
    uint32_t want = round8(size);
    int top = want >= LARGE;
    struct block **found = NULL;
    uintptr_t at = 0, p;
    for (struct block **link = &free_list; *link; link = &(*link)->u.next)
        if ((p = place(*link, want, align, top)) != 0) {
            found = link, at = p;
            if (!top)
                break; /* the lowest; from the top, the last one that fits */
        }
    return found ? carve(found, at, want) : NULL;
}

void hr_board_heap_free(void *ptr)
{
    if (!ptr)
        return;
    struct block *b = (struct block *)((uintptr_t)ptr - HDR);
    if ((uintptr_t)b < (uintptr_t)__heap_start || (uintptr_t)ptr >= (uintptr_t)__heap_end ||
        b->u.magic != MAGIC) {
        hr_board_printf("heap: free(%#lx) of a block not allocated (or damaged)\n",
                        (unsigned long)(uintptr_t)ptr);
        hr_board_exit(4);
    }
    free_bytes += b->size;
    used_blocks--;
    struct block *prev = NULL, *next = free_list;
    while (next && next < b)
        prev = next, next = next->u.next;
    b->u.next = next;
    if (next && (uintptr_t)b + b->size == (uintptr_t)next) {
        b->size += next->size;
        b->u.next = next->u.next;
    }
    if (prev && (uintptr_t)prev + prev->size == (uintptr_t)b) {
        prev->size += b->size;
        prev->u.next = b->u.next;
    } else if (prev) {
        prev->u.next = b;
    } else {
        free_list = b;
    }
}

void hr_board_heap_stats(struct hr_board_heap_stats *out)
{
    if (!ready)
        init();
    size_t largest = 0;
    for (struct block *b = free_list; b; b = b->u.next)
        if (b->size > largest)
            largest = b->size;
    out->size = pool_size;
    out->free = free_bytes;
    out->largest = largest > HDR ? largest - HDR : 0;
    out->blocks = used_blocks;
    out->low_free = low_free;
}
