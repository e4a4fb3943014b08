/* The QEMU examples' firmware, the same source on every bare-metal board
 * (examples/qemu-riscv32, examples/qemu-cortex-m): calls the reloadable
 * library every second and prints what it answers on the UART, serves the
 * console on the same UART and HTTP on the board's Ethernet, and reloads
 * at its safe point, the end of each loop. */
#include "greet.h"
#include "hotreload.h"
#include "hotreload_board.h"

extern const struct hotreload_symtab hotreload_symtab_greet;

static uint32_t generation;

static void after_reload(void *ctx)
{
    (void)ctx;
    hr_board_printf("-- module switched (%u) --\n", (unsigned)++generation);
}

int main(void)
{
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = "greet";
    cfg.symtab = &hotreload_symtab_greet;
    cfg.confirm_after_ms = 2000;

    hotreload_server_config_t srv = HOTRELOAD_SERVER_CONFIG_DEFAULT();
    hotreload_build_auth(&srv); /* the build's key: public (HR2), or HMAC on request */
    srv.bind_address = "0.0.0.0"; /* QEMU's hostfwd keeps it on the host's 127.0.0.1 */

    hr_board_printf("qemu example on %s: booting\n", hr_board_name);
    if (hotreload_console_start_uart(&srv) != 0)
        return 1;
    if (hotreload_server_start(&srv) != HOTRELOAD_OK)
        hr_board_printf("no HTTP: %s\n", hotreload_last_error());
    hotreload_register_post_hook(after_reload, NULL);
    if (hotreload_load(&cfg) != HOTRELOAD_OK)
        hr_board_puts("no module loaded yet: push one\n");
    hr_board_puts("device up: console on this UART, HTTP on port 8080\n");

    uint64_t next = hr_board_now_ms();
    for (;;) {
        uint64_t now = hr_board_now_ms();
        if (now >= next) {
            /* Without a module the stubs reach handlers that report the call and return 0. */
            const char *text = greeting();
            hr_board_printf("%s | 6 (op) 7 = %d | count %u\n", text ? text : "(no module)",
                           arithmetic(6, 7), counter_next());
            next = now + 1000;
        }
        hotreload_console_poll();
        hotreload_server_poll();
        hotreload_poll();
        now = hr_board_now_ms();
        if (now < next)
            hr_board_idle((uint32_t)(next - now));
    }
}
