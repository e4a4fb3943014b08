/* The serial console (agent/runtime/console.c, docs/serial.md) on the
 * UART, served from the application's main loop: no threads, no
 * interrupts. hotreload_console_poll reads what the UART holds and feeds
 * it on; a command that waits for the application's safe point (reload,
 * unload) is served at once, because the loop calling the poll is that
 * safe point (agent/port/board/board.c, sleep_ms). */
#include <stdint.h>

#include "hotreload/console.h"
#include "board.h"

static struct hr_console console;
static int started;

static void out(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    hr_board_uart_write(data, len);
}

int hotreload_console_start_uart(const hotreload_server_config_t *config)
{
    if (started)
        return -1;
    struct hr_console_config cfg = HR_CONSOLE_CONFIG_DEFAULT();
    cfg.write = out;
    /* The default window of 4 frames, of 1 KiB each, loses nothing here:
     * QEMU's UARTs (rv32-virt's 16550, mps2-an385's CMSDK UART) take bytes
     * from their chardev only as their FIFO or buffer drains. A real UART
     * without an interrupt-driven ring buffer would want cfg.window = 1
     * (and frames of 256 bytes). */
    cfg.frame = 1024;
    hr_console_config_from(&cfg, config);
    hr_console_init(&console, &cfg);
    hr_console_tick(&console, hr_board_now_ms());
    started = 1;
    return 0;
}

/* Bytes come in bursts (a command line, an upload frame of up to 1,033
 * bytes) through a FIFO (16 bytes on rv32-virt, one on mps2-an385) that
 * QEMU refills as it drains: once
 * something arrived, keep reading until the line has been quiet for a
 * moment, rather than returning for every 16 bytes. The waits in between
 * are wfi (the FIFO's interrupt at 14 bytes, or soon after the last byte,
 * wakes it): a CPU spinning on the UART's status register would keep QEMU
 * from refilling the FIFO. Bounded, so a host that never stops sending
 * cannot starve the application's loop. */
#define QUIET_MS 3u /* 2 to 3 ms: the clock counts whole milliseconds */
#define BURST_MS 50u

void hotreload_console_poll(void)
{
    if (!started)
        return;
    uint8_t buf[64];
    uint64_t start = hr_board_now_ms(), last = 0;
    hr_board_at_safe_point = 1;
    hr_console_tick(&console, hr_board_now_ms());
    for (;;) {
        size_t n = 0;
        int c;
        while (n < sizeof buf && (c = hr_board_uart_getc()) >= 0)
            buf[n++] = (uint8_t)c;
        if (n) {
            last = hr_board_now_ms();
            hr_console_feed(&console, buf, n);
            continue;
        }
        uint64_t now = hr_board_now_ms();
        if (!last || now - last >= QUIET_MS || now - start >= BURST_MS)
            break;
        hr_board_idle_until(last + QUIET_MS);
    }
    hr_board_at_safe_point = 0;
}
