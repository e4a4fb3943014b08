/* The edit-cycle benchmark's firmware (edit_cycle.py copies it over the
 * firmware of a copy of examples/basic): the example's firmware with a
 * 2 ms loop, printing the module's answers at boot and right after every
 * reload, so that the time measured is the pipeline's and not a print
 * interval's.
 * Built with BENCH_STATIC it is the restart path's firmware: the module's
 * source linked in, nothing reloaded, the same server started at boot. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

static void show(void)
{
    const char *text = greeting();
    printf("greeting: %s | 6 (op) 7 = %d | count %u\n", text ? text : "(no module)",
           arithmetic(6, 7), counter_next());
}

int main(int argc, char **argv)
{
    hotreload_server_config_t srv = HOTRELOAD_SERVER_CONFIG_DEFAULT();
    hotreload_build_auth(&srv); /* the build's key: public (HR2), or HMAC on request */
    srv.port = argc > 1 ? (uint16_t)atoi(argv[1]) : 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);
#ifndef BENCH_STATIC
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = "greet";
    cfg.symtab = &hotreload_symtab_greet;
    cfg.confirm_after_ms = 2000;
    hotreload_load(&cfg);
#endif
    if (hotreload_server_start(&srv) != HOTRELOAD_OK) {
        fprintf(stderr, "bench firmware: %s\n", hotreload_last_error());
        return 1;
    }
    printf("simulated device up: http://127.0.0.1:%u\n", hr_posix_server_port());
    show();
    struct timespec tick = {0, 2 * 1000000L};
    while (!stop) {
        if (hotreload_poll() > 0)
            show();
        nanosleep(&tick, NULL);
    }
    hotreload_server_stop();
    return 0;
}
