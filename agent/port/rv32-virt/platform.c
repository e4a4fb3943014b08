/* The rv32-virt platform: bare metal, one thread, no C library.
 * Module regions come from the heap pool; text is written through the
 * pool's read-write view and executed through its alias (paging.c). */
#include <stdint.h>
#include <string.h>

#ifdef HOTRELOAD_INFLATE
#include "inflate_zlib.h"
#endif
#include "../../core/fmt.h"
#include "hotreload/port.h"
#include "rv32_virt.h"
#include "virt.h"

static void *rv_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return hr_rv32_heap_alloc(size, 8);
}

static void rv_free(void *ctx, void *p)
{
    (void)ctx;
    hr_rv32_heap_free(p);
}

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
    uint8_t *p = hr_rv32_heap_alloc(size, align);
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
    hr_rv32_heap_free(mem->write);
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

static const struct hr_port rv_mem = {
    NULL, rv_alloc, rv_free, rv_region_alloc, rv_region_free, rv_sync_code, 0,
};

uint64_t hr_rv32_now_ms(void)
{
    return virt_mtime() / (VIRT_MTIME_HZ / 1000);
}

static uint64_t rv_now_ms(void *ctx)
{
    (void)ctx;
    return hr_rv32_now_ms();
}

void hr_rv32_idle_until(uint64_t deadline)
{
    register uint32_t a0 __asm__("a0") = (uint32_t)deadline;
    register uint32_t a1 __asm__("a1") = (uint32_t)(deadline >> 32);
    register uint32_t a7 __asm__("a7") = HR_RV32_ECALL_IDLE;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a7) : "memory");
}

void hr_rv32_idle(uint32_t ms)
{
    hr_rv32_idle_until(virt_mtime() + (uint64_t)ms * (VIRT_MTIME_HZ / 1000));
}

/* While a console command or an HTTP request waits for the application's
 * safe point, the poll serving it is that safe point (console_uart.c,
 * agent/transport/rv32-virt/http_lwip.c). */
int hr_rv32_at_safe_point;

static void rv_sleep_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    if (hr_rv32_at_safe_point) {
        hotreload_poll();
        return;
    }
    uint64_t end = virt_mtime() + (uint64_t)ms * (VIRT_MTIME_HZ / 1000);
    while (virt_mtime() < end)
        hr_rv32_idle_until(end);
}

struct hr_rv32_guard *volatile hr_rv32_guard_active;

static int rv_guarded_call(void *ctx, void (*fn)(void *), void *arg, char *why,
                           size_t whysize)
{
    (void)ctx;
    struct hr_rv32_guard g = {.why = why, .whysize = whysize, .prev = hr_rv32_guard_active};
    if (hr_rv32_guard_save(g.regs))
        return 1; /* the trap handler wrote `why` and restored the previous guard */
    hr_rv32_guard_active = &g;
    fn(arg);
    hr_rv32_guard_active = g.prev;
    return 0;
}

/* The GNU build-id note the linker script brackets: namesz, descsz, type,
 * "GNU\0", then the id. */
static size_t rv_firmware_id(void *ctx, const uint8_t **id)
{
    (void)ctx;
    const uint8_t *p = (const uint8_t *)__build_id_start;
    size_t len = (size_t)(__build_id_end - __build_id_start);
    uint32_t namesz, descsz, type;
    if (len < 16)
        return 0;
    memcpy(&namesz, p, 4);
    memcpy(&descsz, p + 4, 4);
    memcpy(&type, p + 8, 4);
    if (type != 3 || namesz != 4 || memcmp(p + 12, "GNU", 4) != 0 || 16 + descsz > len)
        return 0;
    *id = p + 16;
    return descsz;
}

/* The per-boot nonce must be unpredictable: only the virtio-rng device
 * gives that here (virt's RTC and counters are known to whoever knows when
 * the device booted). Without it, say why and how to fix it; the runtime
 * then refuses signed requests and the HTTP server does not start. */
static int rv_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    const char *why;
    if (hr_rv32_random(buf, len, &why) == 0)
        return 0;
    hr_rv32_printf("rv32-virt: no random source: %s\n", why);
    return -1;
}

static int rv_storage_open(void *ctx, const char *name, uint32_t image_max,
                           struct hr_storage *out)
{
    (void)ctx, (void)image_max; /* partitions of a fixed size */
    return hr_rv32_storage_open(name, out);
}

static void rv_log(void *ctx, const char *line)
{
    (void)ctx;
    hr_rv32_puts(line);
    hr_rv32_uart_write("\n", 1);
}

static const struct hr_platform platform = {
    .ctx = NULL,
    .mem = &rv_mem,
    .now_ms = rv_now_ms,
    .sleep_ms = rv_sleep_ms,
    .lock = NULL, /* one thread: the console is served from the main loop */
    .unlock = NULL,
    .guarded_call = rv_guarded_call,
    .firmware_id = rv_firmware_id,
    .resolve = NULL, /* modules come pre-linked: hotd bind --absolute */
    .random = rv_random,
    .storage_open = rv_storage_open,
    .log = rv_log,
#ifdef HOTRELOAD_INFLATE
    .inflate = &hr_zlib_inflater, /* zlib from Debian's source (CMakeLists.txt) */
#endif
};

const struct hr_platform *hr_platform_get(void)
{
    return &platform;
}

size_t hr_rv32_stack_used(void)
{
    const uint32_t *p = (const uint32_t *)__stack_bottom;
    while (p < (const uint32_t *)__stack_top && *p == 0x5a5a5a5au)
        p++;
    return (size_t)((const char *)__stack_top - (const char *)p);
}
