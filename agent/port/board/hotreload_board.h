/* The bare-metal boards (rv32-virt, mps2-an385): what a firmware gets
 * beyond the portable API in hotreload.h, the same on every board. One
 * thread, no RTOS, no C library: the application's main loop drives the
 * console and the HTTP server. See agent/port/board/README.md. */
#ifndef HOTRELOAD_BOARD_H
#define HOTRELOAD_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "hotreload.h"

/* The board's name: "rv32-virt", "mps2-an385". */
extern const char hr_board_name[];

/* Output on the console's UART. Formats as agent/core/fmt.h:
 * %s %c %d %u %x with l/ll/z, '#' and zero-padded widths. */
void hr_board_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hr_board_puts(const char *s);

/* The serial console (docs/serial.md) on the UART. Uploads use the config's
 * key, opt-out, size limit and reload timeout. 0 on success. */
int hotreload_console_start_uart(const hotreload_server_config_t *config);
/* Serve what the UART received. Call it from the main loop at a point
 * where a reload is safe: a console `reload` or `unload` waits for the
 * application's safe point, and on a single-threaded board it runs it
 * right here (hotreload_poll) instead of waiting for the loop to get there. */
void hotreload_console_poll(void);

/* HTTP (docs/http.md) over lwIP and the board's Ethernet: hotreload_server_start
 * (hotreload.h) brings up the network -- QEMU user networking's static
 * address 10.0.2.15 -- and listens; bind_address must be "0.0.0.0" or that
 * address (the device's loopback is unreachable). Call the poll from the
 * main loop at a point where a reload is safe, as the console's: it serves
 * the requests whose head has fully arrived (lwIP's callbacks buffer it),
 * starting none past a 20 ms budget; a head not complete within 2 s is
 * answered 408 without the loop waiting for it. A request being served
 * (an authenticated upload's body) holds the loop until it ends, or until
 * its peer is silent for 5 s. */
void hotreload_server_poll(void);

/* Sleep until `ms` have passed or the UART received something (wfi: QEMU
 * idles meanwhile); a received network frame wakes it too. */
void hr_board_idle(uint32_t ms);
uint64_t hr_board_now_ms(void);

/* Instructions executed (mod 2^32), for benchmarks and tests: exact when
 * QEMU runs with -icount shift=0 on rv32-virt (the instret counter), and
 * with -icount shift=6 on mps2-an385 (a 25 MHz timer's ticks at 64 ns an
 * instruction: 5 instructions every 8 ticks). */
uint32_t hr_board_icount(void);

/* End the QEMU run: 0 passes, anything else is the process's exit status. */
__attribute__((noreturn)) void hr_board_exit(int code);

/* The heap pool (loader bookkeeping and module regions). */
struct hr_board_heap_stats {
    size_t size;        /* the pool */
    size_t free;        /* bytes free */
    size_t largest;     /* the largest free block */
    size_t blocks;      /* blocks in use */
    size_t low_free;    /* the least `free` has been since boot */
};
void hr_board_heap_stats(struct hr_board_heap_stats *out);
/* The deepest the main stack has been (bytes; painted at boot). */
size_t hr_board_stack_used(void);

/* The firmware's entry point: the board's start code calls it; its return
 * value ends the QEMU run (hr_board_exit). */
int main(void);

#endif
