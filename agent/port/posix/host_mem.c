/* Module memory for a firmware that is a Linux process (host.h): within
 * reach of the firmware's code (x86-64 PC32), code written while
 * read-write and then made read-execute, never both.
 *
 * Regions come from two arenas reserved near the firmware at the first load,
 * as a device's come from its heap: one for code, address space only
 * (PROT_NONE) until a region is taken, then read-write while the loader
 * writes it and read-execute from sync_code on, and no access again once
 * freed, so that a stale call into unloaded code faults; one for data,
 * read-write for good (lazily backed, MAP_NORESERVE), so that a data region
 * costs no system call at all. A load thus makes two mprotect calls and an
 * unload one, instead of one per region each way, and no mmap. Free ranges
 * are kept sorted and merged. When an arena is full (or could not be
 * reserved), regions are mapped one by one. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host.h"

#define REGION_MAX (64u << 20)
#define ARENA_SIZE (256u << 20)
#define ARENA_RANGES 64

static size_t page_size(void)
{
    static size_t ps;
    if (!ps)
        ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

static void *px_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void px_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* mmap `len` bytes with `prot` at a hint near the firmware's code: the
 * kernel takes the hint when the range is free, and MAP_FIXED_NOREPLACE
 * makes sure we get it exactly. */
static void *map_near(size_t len, int prot)
{
    uintptr_t fw = (uintptr_t)&map_near;
    uintptr_t step = 16u << 20;
    for (uintptr_t off = 64u << 20; off < (1536u << 20); off += step) {
        for (int dir = 0; dir < 2; dir++) {
            uintptr_t hint = dir ? fw - off : fw + off;
            if (dir && fw < off)
                continue;
            hint &= ~(uintptr_t)(page_size() - 1);
            void *p = mmap((void *)hint, len, prot,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
                           -1, 0);
            if (p != MAP_FAILED && (uintptr_t)p == hint)
                return p;
            if (p != MAP_FAILED)
                munmap(p, len);
        }
    }
    return NULL;
}

struct arena {
    int prot; /* what the reservation is mapped with */
    int tried;
    uintptr_t base;
    size_t n;
    struct range {
        uintptr_t at;
        size_t len;
    } free[ARENA_RANGES];
};

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static struct arena code_arena = {.prot = PROT_NONE};
static struct arena data_arena = {.prot = PROT_READ | PROT_WRITE};

static uintptr_t arena_take(struct arena *a, size_t len)
{
    if (!a->tried) {
        a->tried = 1;
        void *p = map_near(ARENA_SIZE, a->prot);
        if (p) {
            a->base = (uintptr_t)p;
            a->free[0] = (struct range){(uintptr_t)p, ARENA_SIZE};
            a->n = 1;
        }
    }
    for (size_t i = 0; i < a->n; i++) {
        struct range *r = &a->free[i];
        if (r->len < len)
            continue;
        uintptr_t at = r->at;
        r->at += len;
        r->len -= len;
        if (!r->len)
            memmove(r, r + 1, (a->n-- - i - 1) * sizeof *r);
        return at;
    }
    return 0;
}

/* Give [at, at + len) back, merged with its neighbours; 0 when the list
 * is full (the range stays reserved, unused: address space only). */
static int arena_give(struct arena *a, uintptr_t at, size_t len)
{
    size_t i = 0;
    while (i < a->n && a->free[i].at < at)
        i++;
    struct range *prev = i ? &a->free[i - 1] : NULL, *next = i < a->n ? &a->free[i] : NULL;
    if (prev && prev->at + prev->len == at) {
        prev->len += len;
        if (next && at + len == next->at) {
            prev->len += next->len;
            memmove(next, next + 1, (a->n-- - i - 1) * sizeof *next);
        }
        return 1;
    }
    if (next && at + len == next->at) {
        next->at = at;
        next->len += len;
        return 1;
    }
    if (a->n == ARENA_RANGES)
        return 0;
    memmove(&a->free[i + 1], &a->free[i], (a->n - i) * sizeof a->free[0]);
    a->free[i] = (struct range){at, len};
    a->n++;
    return 1;
}

static int in_arena(const struct arena *a, const void *p)
{
    return a->base && (uintptr_t)p - a->base < ARENA_SIZE;
}

static void give_back(struct arena *a, uintptr_t at, size_t len)
{
    pthread_mutex_lock(&arena_lock);
    arena_give(a, at, len);
    pthread_mutex_unlock(&arena_lock);
}

/* `len` read-write bytes: code from its arena (made writable now), data
 * from its own (writable already). */
static void *region_map(struct arena *a, size_t len)
{
    pthread_mutex_lock(&arena_lock);
    uintptr_t at = arena_take(a, len);
    pthread_mutex_unlock(&arena_lock);
    if (at && (a->prot & PROT_WRITE || mprotect((void *)at, len, PROT_READ | PROT_WRITE) == 0))
        return (void *)at;
    if (at)
        give_back(a, at, len);
    return map_near(len, PROT_READ | PROT_WRITE);
}

static struct arena *arena_for(enum hr_region_kind kind)
{
    return kind == HR_REGION_TEXT ? &code_arena : &data_arena;
}

static size_t pages(size_t size)
{
    size_t len = (size + page_size() - 1) & ~(page_size() - 1);
    return len ? len : page_size();
}

static int px_region_alloc(void *ctx, enum hr_region_kind kind, size_t size, size_t align,
                           struct hr_mem *out)
{
    (void)ctx;
    /* A device's budget, not the host's: a region bigger than any device
     * has (a hostile .bss of gigabytes) is refused as a device would refuse
     * it -- the loader reports it -- instead of being mapped and zeroed. */
    if (align > page_size() || size > REGION_MAX)
        return -1;
    void *p = region_map(arena_for(kind), pages(size));
    if (!p)
        return -1;
    out->write = p;
    out->addr = (hr_addr_t)(uintptr_t)p;
    out->size = size;
    return 0;
}

static void px_region_free(void *ctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    (void)ctx;
    struct arena *a = arena_for(kind);
    size_t len = pages(mem->size);
    if (!in_arena(a, mem->write)) {
        munmap(mem->write, len);
        return;
    }
    /* Code: unreachable until used again (a stale call faults), its pages
     * kept, as a device's heap keeps them: the next region there costs no
     * page faults. Data stays as it is. */
    if (kind == HR_REGION_TEXT)
        mprotect(mem->write, len, PROT_NONE);
    give_back(a, (uintptr_t)mem->write, len);
}

static void px_sync_code(void *ctx, const struct hr_mem *mem)
{
    (void)ctx;
    mprotect(mem->write, pages(mem->size), PROT_READ | PROT_EXEC);
}

/* 64 MiB for a module: a board's RAM is far less; more is a hostile .bss
 * (mapped lazily here, it would be zeroed page by page for minutes). */
const struct hr_port hr_host_mem = {
    NULL, px_alloc, px_free, px_region_alloc, px_region_free, px_sync_code, 64u << 20,
};
