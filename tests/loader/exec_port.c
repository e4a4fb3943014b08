/* loader_exec_x86_64: the port (see exec_port.h). Every region gets its own
 * pages and a guard page, and is never reused once freed, so a stale pointer
 * into a freed module faults instead of reading someone else's code. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "exec_port.h"
#include "fw_api.h"

#define ARENA_SIZE (64ul << 20)

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }
static size_t round_page(size_t n) { return (n + page_size() - 1) & ~(page_size() - 1); }

static void *xp_alloc(void *vctx, size_t size)
{
    struct xport *x = vctx;
    void *p = malloc(size);
    if (p)
        x->allocs++;
    return p;
}

static void xp_free(void *vctx, void *p)
{
    struct xport *x = vctx;
    if (p)
        x->frees++;
    free(p);
}

/* Carve `len` bytes of address space from the arena. */
static uint8_t *carve(struct xport *x, size_t len)
{
    if (len > ARENA_SIZE - x->used)
        return NULL;
    uint8_t *p = x->base + x->used;
    x->used += len + page_size(); /* and a guard page */
    return p;
}

static int xp_region_alloc(void *vctx, enum hr_region_kind kind, size_t size, size_t align,
                           struct hr_mem *out)
{
    struct xport *x = vctx;
    size_t len = round_page(size ? size : 1);
    if (align > page_size())
        return -1;
    if (kind == HR_REGION_TEXT) {
        uint8_t *exec = carve(x, len), *write = carve(x, len);
        if (!exec || !write)
            return -1;
        int fd = memfd_create("hr-text", MFD_CLOEXEC);
        if (fd < 0)
            return -1;
        bool ok = ftruncate(fd, (off_t)len) == 0 &&
                  mmap(exec, len, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0) == exec &&
                  mmap(write, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
                      write;
        close(fd);
        if (!ok)
            return -1;
        out->write = write;
        out->addr = (uintptr_t)exec;
    } else {
        uint8_t *p = carve(x, len);
        if (!p || mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                       -1, 0) != p)
            return -1;
        out->write = p;
        out->addr = (uintptr_t)p;
    }
    out->size = size;
    x->regions++;
    return 0;
}

/* Back to reserved, inaccessible address space (never reused). */
static void unmap_view(void *p, size_t len)
{
    mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
}

static void xp_region_free(void *vctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    struct xport *x = vctx;
    size_t len = round_page(mem->size ? mem->size : 1);
    unmap_view(mem->write, len);
    if (kind == HR_REGION_TEXT)
        unmap_view((void *)(uintptr_t)mem->addr, len);
    x->region_frees++;
}

static void xp_sync_code(void *ctx, const struct hr_mem *mem)
{
    (void)ctx;
    __builtin___clear_cache((char *)(uintptr_t)mem->addr, (char *)(uintptr_t)mem->addr + mem->size);
}

static bool try_arena(struct xport *x, uintptr_t hint)
{
    void *p = mmap((void *)hint, ARENA_SIZE, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    if ((uintptr_t)p != hint) { /* a kernel without MAP_FIXED_NOREPLACE */
        munmap(p, ARENA_SIZE);
        return false;
    }
    x->base = p;
    return true;
}

/* Near: within 2 GiB of the firmware and wholly below 2 GiB. */
bool near_port(struct xport *x)
{
    uintptr_t fw = (uintptr_t)&fw_counter & ~(uintptr_t)((1u << 20) - 1);
    for (uintptr_t n = 16; n < 2048; n += 16) {
        uintptr_t hint = fw + n * (1u << 20);
        if (hint + ARENA_SIZE >= 2 * GiB)
            break;
        if (try_arena(x, hint))
            return true;
    }
    return false;
}

/* Far: more than 4 GiB from every firmware address. */
bool far_port(struct xport *x)
{
    uintptr_t fw = (uintptr_t)&fw_counter;
    for (uintptr_t n = 0; n < 64; n++) {
        uintptr_t hint = (fw & ~(uintptr_t)(GiB - 1)) + (64 + n * 16) * GiB;
        if (try_arena(x, hint))
            return true;
    }
    void *p = mmap(NULL, ARENA_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    x->base = p;
    return true;
}

struct hr_port make_port(struct xport *x)
{
    return (struct hr_port){x, xp_alloc, xp_free, xp_region_alloc, xp_region_free, xp_sync_code, 0};
}
