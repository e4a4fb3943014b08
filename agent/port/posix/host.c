/* What any Linux process needs to run module code, shared by the simulated
 * device (platform.c) and ESP-IDF's linux target (port/esp-idf): memory
 * within reach of the firmware's code (x86-64 PC32), written while
 * read-write and then made read-execute, never both; a trap guard; the
 * program's build-id; its exported symbols. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <pthread.h>

#include "host.h"

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

#define REGION_MAX (64u << 20)
#define ARENA_SIZE (256u << 20)
#define ARENA_RANGES 64

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

/* Module regions come from one arena reserved near the firmware at the
 * first load (address space only, PROT_NONE), as a device's come from its
 * heap: a region costs one mprotect, instead of a search of mmap hints
 * that grows with the regions already placed. Free ranges are kept sorted
 * and merged. When the arena is full (or could not be reserved), regions
 * are mapped one by one as before. */
static struct {
    pthread_mutex_t lock;
    int tried;
    uintptr_t base;
    size_t n;
    struct range {
        uintptr_t at;
        size_t len;
    } free[ARENA_RANGES];
} arena = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uintptr_t arena_take(size_t len)
{
    if (!arena.tried) {
        arena.tried = 1;
        void *p = map_near(ARENA_SIZE, PROT_NONE);
        if (p) {
            arena.base = (uintptr_t)p;
            arena.free[0] = (struct range){(uintptr_t)p, ARENA_SIZE};
            arena.n = 1;
        }
    }
    for (size_t i = 0; i < arena.n; i++) {
        struct range *r = &arena.free[i];
        if (r->len < len)
            continue;
        uintptr_t at = r->at;
        r->at += len;
        r->len -= len;
        if (!r->len)
            memmove(r, r + 1, (arena.n-- - i - 1) * sizeof *r);
        return at;
    }
    return 0;
}

/* Give [at, at + len) back, merged with its neighbours; 0 when the list
 * is full (the range stays reserved, unused: address space only). */
static int arena_give(uintptr_t at, size_t len)
{
    size_t i = 0;
    while (i < arena.n && arena.free[i].at < at)
        i++;
    struct range *prev = i ? &arena.free[i - 1] : NULL, *next = i < arena.n ? &arena.free[i] : NULL;
    if (prev && prev->at + prev->len == at) {
        prev->len += len;
        if (next && at + len == next->at) {
            prev->len += next->len;
            memmove(next, next + 1, (arena.n-- - i - 1) * sizeof *next);
        }
        return 1;
    }
    if (next && at + len == next->at) {
        next->at = at;
        next->len += len;
        return 1;
    }
    if (arena.n == ARENA_RANGES)
        return 0;
    memmove(&arena.free[i + 1], &arena.free[i], (arena.n - i) * sizeof arena.free[0]);
    arena.free[i] = (struct range){at, len};
    arena.n++;
    return 1;
}

static int in_arena(const void *p)
{
    return arena.base && (uintptr_t)p - arena.base < ARENA_SIZE;
}

static void *region_map(size_t len)
{
    pthread_mutex_lock(&arena.lock);
    uintptr_t at = arena_take(len);
    pthread_mutex_unlock(&arena.lock);
    if (at && mprotect((void *)at, len, PROT_READ | PROT_WRITE) == 0)
        return (void *)at;
    if (at) {
        pthread_mutex_lock(&arena.lock);
        arena_give(at, len);
        pthread_mutex_unlock(&arena.lock);
    }
    return map_near(len, PROT_READ | PROT_WRITE);
}

static int px_region_alloc(void *ctx, enum hr_region_kind kind, size_t size, size_t align,
                           struct hr_mem *out)
{
    (void)ctx;
    (void)kind;
    /* A device's budget, not the host's: a region bigger than any device
     * has (a hostile .bss of gigabytes) is refused as a device would refuse
     * it -- the loader reports it -- instead of being mapped and zeroed. */
    if (align > page_size() || size > REGION_MAX)
        return -1;
    size_t len = (size + page_size() - 1) & ~(page_size() - 1);
    void *p = region_map(len ? len : page_size());
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
    (void)kind;
    size_t len = (mem->size + page_size() - 1) & ~(page_size() - 1);
    len = len ? len : page_size();
    if (!in_arena(mem->write)) {
        munmap(mem->write, len);
        return;
    }
    /* Unreachable until used again (a stale call faults), its pages kept, as
     * a device's heap keeps them: the next region there costs no page faults. */
    mprotect(mem->write, len, PROT_NONE);
    pthread_mutex_lock(&arena.lock);
    arena_give((uintptr_t)mem->write, len);
    pthread_mutex_unlock(&arena.lock);
}

static void px_sync_code(void *ctx, const struct hr_mem *mem)
{
    (void)ctx;
    size_t len = (mem->size + page_size() - 1) & ~(page_size() - 1);
    mprotect(mem->write, len, PROT_READ | PROT_EXEC);
}

/* 64 MiB for a module: a board's RAM is far less; more is a hostile .bss
 * (mapped lazily here, it would be zeroed page by page for minutes). */
const struct hr_port hr_host_mem = {
    NULL, px_alloc, px_free, px_region_alloc, px_region_free, px_sync_code, 64u << 20,
};

/* A trap in module code (constructor) returns here instead of killing the
 * simulated device. */
static __thread sigjmp_buf *trap_jmp;
static __thread int trap_sig;

static void on_trap(int sig)
{
    if (!trap_jmp) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    trap_sig = sig;
    siglongjmp(*trap_jmp, 1);
}

int hr_host_guarded_call(void *ctx, void (*fn)(void *), void *arg, char *why, size_t whysize)
{
    (void)ctx;
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
    struct sigaction sa, old[5];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_trap;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    for (int i = 0; i < 5; i++)
        sigaction(sigs[i], &sa, &old[i]);
    sigjmp_buf jb;
    volatile int trapped = 0;
    if (sigsetjmp(jb, 1) == 0) {
        trap_jmp = &jb;
        fn(arg);
    } else {
        trapped = 1;
        snprintf(why, whysize, "signal %d (%s)", trap_sig, strsignal(trap_sig));
    }
    trap_jmp = NULL;
    for (int i = 0; i < 5; i++)
        sigaction(sigs[i], &old[i], NULL);
    return trapped;
}

struct id_search {
    uint8_t id[64];
    size_t len;
};

/* The build-id note of the main program (the first object listed). */
static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct id_search *s = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + 12 <= end) {
            uint32_t namesz, descsz, type;
            memcpy(&namesz, p, 4);
            memcpy(&descsz, p + 4, 4);
            memcpy(&type, p + 8, 4);
            const uint8_t *name = p + 12;
            const uint8_t *desc = name + ((namesz + 3) & ~3u);
            if (desc + descsz > end)
                break;
            if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(name, "GNU", 4) &&
                descsz <= sizeof s->id) {
                memcpy(s->id, desc, descsz);
                s->len = descsz;
                return 1;
            }
            p = desc + ((descsz + 3) & ~3u);
        }
    }
    return 1; /* only the main program counts */
}

static struct id_search build_id;

static void build_id_once(void)
{
    dl_iterate_phdr(find_build_id, &build_id);
}

size_t hr_host_firmware_id(void *ctx, const uint8_t **id)
{
    (void)ctx;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_id_once);
    *id = build_id.id;
    return build_id.len;
}

int hr_host_resolve(void *ctx, const char *name, hr_addr_t *addr)
{
    (void)ctx;
    void *p = dlsym(RTLD_DEFAULT, name);
    if (!p)
        return -1;
    *addr = (hr_addr_t)(uintptr_t)p;
    return 0;
}

