/* The simulated device's firmware: calls the reloadable library every
 * second, serves uploads on 127.0.0.1:8080 and the console on stdin, and
 * reloads at its safe point at the end of each loop.
 *
 *   basic_firmware [HTTP_PORT] [--console-port N]
 *
 * --console-port serves the console on 127.0.0.1:N instead (0: any free
 * port), as QEMU serves a UART, for `hotd console --serial tcp:…`. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "greet.h"
#include "hotreload.h"
#include "posix.h"

extern const struct hotreload_symtab hotreload_symtab_greet;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = "greet";
    cfg.symtab = &hotreload_symtab_greet;
    cfg.confirm_after_ms = 2000;

    hotreload_server_config_t srv = HOTRELOAD_SERVER_CONFIG_DEFAULT();
    hotreload_build_auth(&srv); /* the build's key: public (HR2), or HMAC on request */
    int console_port = -1; /* stdin */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--console-port") && i + 1 < argc)
            console_port = atoi(argv[++i]);
        else
            srv.port = (uint16_t)atoi(argv[i]);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (hotreload_load(&cfg) != HOTRELOAD_OK)
        printf("no module loaded yet: push one\n");
    if (hotreload_server_start(&srv) != HOTRELOAD_OK ||
        (console_port >= 0 ? hotreload_console_start_tcp(&srv, (uint16_t)console_port)
                           : hotreload_console_start_stdio(&srv)) != 0) {
        fprintf(stderr, "basic: %s\n", hotreload_last_error());
        return 1;
    }
    if (console_port >= 0)
        printf("simulated device up: http://127.0.0.1:%u, console on tcp:127.0.0.1:%u\n",
               hr_posix_server_port(), hr_posix_console_port());
    else
        printf("simulated device up: http://127.0.0.1:%u, console on stdin\n",
               hr_posix_server_port());

    struct timespec tick = {0, 100 * 1000000L};
    for (int n = 0; !stop; n++) {
        if (n % 10 == 0) {
            /* Without a module the stubs reach handlers that report the call and return 0. */
            const char *text = greeting();
            printf("%s | 6 (op) 7 = %d | count %u\n", text ? text : "(no module)",
                   arithmetic(6, 7), counter_next());
        }
        if (hotreload_poll() > 0)
            printf("-- reloaded --\n");
        nanosleep(&tick, NULL);
    }
    hotreload_server_stop();
    return 0;
}
