/* What every bare-metal board's platform does the same way: struct
 * hr_platform itself, text on the console's UART, the heap behind the
 * loader's allocations, sleeping at the safe point, the constructor guard,
 * storage partitions of a memory-mapped flash, the firmware's build-id,
 * the stack's high-water mark. */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#ifdef HOTRELOAD_INFLATE
#include "inflate_zlib.h"
#endif
#include "../../core/fmt.h"
#include "board.h"
#include "hotreload/port.h"

void hr_board_puts(const char *s)
{
    hr_board_uart_write(s, strlen(s));
}

void hr_board_printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = hr_vfmt(buf, sizeof buf, fmt, ap);
    va_end(ap);
    hr_board_uart_write(buf, n < sizeof buf ? n : sizeof buf - 1);
}

void hr_board_idle(uint32_t ms)
{
    hr_board_idle_until(hr_board_now_ms() + ms);
}

void *hr_board_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return hr_board_heap_alloc(size, 8);
}

void hr_board_free(void *ctx, void *p)
{
    (void)ctx;
    hr_board_heap_free(p);
}

static uint64_t port_now_ms(void *ctx)
{
    (void)ctx;
    return hr_board_now_ms();
}

/* While a console command or an HTTP request waits for the application's
 * safe point, the poll serving it is that safe point
 * (agent/transport/board/console_uart.c, http_lwip.c). */
int hr_board_at_safe_point;

static void sleep_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    if (hr_board_at_safe_point) {
        hotreload_poll();
        return;
    }
    uint64_t end = hr_board_now_ms() + ms;
    while (hr_board_now_ms() < end)
        hr_board_idle_until(end);
}

struct hr_board_guard *volatile hr_board_guard_active;

static int guarded_call(void *ctx, void (*fn)(void *), void *arg, char *why, size_t whysize)
{
    (void)ctx;
    struct hr_board_guard g = {.why = why, .whysize = whysize, .prev = hr_board_guard_active};
    if (hr_board_guard_save(g.regs))
        return 1; /* the fault handler wrote `why` and restored the previous guard */
    hr_board_guard_active = &g;
    fn(arg);
    hr_board_guard_active = g.prev;
    return 0;
}

/* Partitions are handed out in the order their names are first opened: a
 * firmware keeps the order in which it registers its modules the same from
 * boot to boot. */
#define PART_NAME_MAX 32
static char part_names[HR_BOARD_PARTS_MAX][PART_NAME_MAX];

static int partition(const char *name, unsigned parts)
{
    size_t n = strlen(name);
    if (n >= PART_NAME_MAX)
        return -1;
    for (unsigned i = 0; i < parts && i < HR_BOARD_PARTS_MAX; i++) {
        if (part_names[i][0] && strcmp(part_names[i], name) != 0)
            continue;
        memcpy(part_names[i], name, n + 1);
        return (int)i;
    }
    return -1;
}

int hr_board_part_range(uint32_t off, uint32_t len)
{
    return off <= HR_BOARD_PART_SIZE && len <= HR_BOARD_PART_SIZE - off;
}

static int part_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
    if (!hr_board_part_range(off, len))
        return -1;
    memcpy(buf, (const uint8_t *)ctx + off, len);
    return 0;
}

static const void *part_map(void *ctx, uint32_t off, uint32_t len)
{
    return hr_board_part_range(off, len) ? (const uint8_t *)ctx + off : NULL;
}

static void part_unmap(void *ctx, const void *view, uint32_t len)
{
    (void)ctx, (void)view, (void)len; /* the flash reads as memory */
}

int hr_board_flash_open(const char *name, struct hr_storage *out, uintptr_t base,
                        unsigned parts, uint32_t erase_size,
                        int (*write)(void *, uint32_t, const void *, uint32_t),
                        int (*erase)(void *, uint32_t, uint32_t))
{
    int i = partition(name, parts);
    if (i < 0)
        return -1;
    out->ctx = (void *)(base + (uintptr_t)i * HR_BOARD_PART_SIZE);
    out->size = HR_BOARD_PART_SIZE;
    out->erase_size = erase_size;
    out->read = part_read;
    out->write = write;
    out->erase = erase;
    out->map = part_map;
    out->unmap = part_unmap;
    return 0;
}

/* The GNU build-id note the linker script brackets: namesz, descsz, type,
 * "GNU\0", then the id. */
static size_t firmware_id(void *ctx, const uint8_t **id)
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

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    hr_board_puts(line);
    hr_board_uart_write("\n", 1);
}

/* The per-boot nonce must be unpredictable: only the board's random
 * source gives that. Without it, say why and how to fix it; the runtime
 * then refuses signed requests and the HTTP server does not start. */
static int random_bytes(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    const char *why;
    if (hr_board_random(buf, len, &why) == 0)
        return 0;
    hr_board_printf("%s: no random source: %s\n", hr_board_name, why);
    return -1;
}

static int storage_open(void *ctx, const char *name, uint32_t image_max,
                        struct hr_storage *out)
{
    (void)ctx, (void)image_max; /* partitions of a fixed size */
    return hr_board_storage_open(name, out);
}

static const struct hr_platform platform = {
    .ctx = NULL,
    .mem = &hr_board_mem,
    .now_ms = port_now_ms,
    .sleep_ms = sleep_ms,
    .lock = NULL, /* one thread: the console is served from the main loop */
    .unlock = NULL,
    .guarded_call = guarded_call,
    .firmware_id = firmware_id,
    .resolve = NULL, /* modules come pre-linked: hotd bind --absolute */
    .random = random_bytes,
    .storage_open = storage_open,
    .log = log_line,
#ifdef HOTRELOAD_INFLATE
    .inflate = &hr_zlib_inflater, /* zlib from Debian's source (board.cmake) */
#endif
};

const struct hr_platform *hr_platform_get(void)
{
    return &platform;
}

size_t hr_board_stack_used(void)
{
    const uint32_t *p = (const uint32_t *)__stack_bottom;
    while (p < (const uint32_t *)__stack_top && *p == 0x5a5a5a5au)
        p++;
    return (size_t)((const char *)__stack_top - (const char *)p);
}
