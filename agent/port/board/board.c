/* What every bare-metal board's platform does the same way: text on the
 * console's UART, the heap behind the loader's allocations, sleeping at
 * the safe point, the firmware's build-id, the stack's high-water mark. */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "../../core/fmt.h"
#include "board.h"

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

uint64_t hr_board_port_now_ms(void *ctx)
{
    (void)ctx;
    return hr_board_now_ms();
}

/* While a console command or an HTTP request waits for the application's
 * safe point, the poll serving it is that safe point
 * (agent/transport/board/console_uart.c, http_lwip.c). */
int hr_board_at_safe_point;

void hr_board_sleep_ms(void *ctx, uint32_t ms)
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

int hr_board_guarded_call(void *ctx, void (*fn)(void *), void *arg, char *why, size_t whysize)
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

int hr_board_partition(const char *name, unsigned parts)
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

/* The GNU build-id note the linker script brackets: namesz, descsz, type,
 * "GNU\0", then the id. */
size_t hr_board_firmware_id(void *ctx, const uint8_t **id)
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

void hr_board_log(void *ctx, const char *line)
{
    (void)ctx;
    hr_board_puts(line);
    hr_board_uart_write("\n", 1);
}

size_t hr_board_stack_used(void)
{
    const uint32_t *p = (const uint32_t *)__stack_bottom;
    while (p < (const uint32_t *)__stack_top && *p == 0x5a5a5a5au)
        p++;
    return (size_t)((const char *)__stack_top - (const char *)p);
}
