/* The QEMU edit-cycle benchmark's firmware (qemu_edit_cycle.py copies it
 * over the firmware of a copy of examples/qemu-riscv32): the example's
 * firmware, printing the module's answers at boot and right after every
 * reload instead of once a second, so that the time measured is the
 * pipeline's and not a print interval's.
 * Built with BENCH_STATIC it is the restart path's firmware: the module's
 * source linked in, nothing reloaded, the same console and server started
 * at boot. */
#include "greet.h"
#include "hotreload.h"
#include "hotreload_board.h"

#ifndef BENCH_STATIC
extern const struct hotreload_symtab hotreload_symtab_greet;
#endif

/* Set by the post-reload hook: on this single-threaded device an HTTP
 * upload reloads inside hotreload_server_poll(), so hotreload_poll() does
 * not see the change. */
static volatile bool switched;

static void after_reload(void *ctx)
{
    (void)ctx;
    switched = true;
}

static void show(void)
{
    const char *text = greeting();
    hr_board_printf("greeting: %s | 6 (op) 7 = %d | count %u\n", text ? text : "(no module)",
                   arithmetic(6, 7), counter_next());
}

int main(void)
{
    hotreload_server_config_t srv = HOTRELOAD_SERVER_CONFIG_DEFAULT();
    hotreload_build_auth(&srv); /* the build's key: public (HR2), or HMAC on request */
    srv.bind_address = "0.0.0.0"; /* QEMU's hostfwd keeps it on the host's 127.0.0.1 */
    if (hotreload_console_start_uart(&srv) != 0)
        return 1;
    if (hotreload_server_start(&srv) != HOTRELOAD_OK)
        hr_board_printf("no HTTP: %s\n", hotreload_last_error());
#ifndef BENCH_STATIC
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = "greet";
    cfg.symtab = &hotreload_symtab_greet;
    cfg.confirm_after_ms = 2000;
    hotreload_register_post_hook(after_reload, NULL);
    hotreload_load(&cfg);
#endif
    hr_board_puts("device up\n");
    show();
    for (;;) {
        hotreload_console_poll();
        hotreload_server_poll();
        hotreload_poll();
        if (switched) {
            switched = false;
            show();
        }
        hr_board_idle(2);
    }
}
