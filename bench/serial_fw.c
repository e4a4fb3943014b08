/* The device of the serial benchmark (serial.py): the posix firmware's
 * serial console on stdin/stdout (a pseudo-terminal there), one module
 * "main" looked up by name (no stubs), reloaded at its safe point.
 *
 *   serial_fw KEYFILE          (storage: $HOTRELOAD_STORAGE_DIR) */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "hotreload.h"
#include "posix.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    static uint8_t key[64];
    FILE *kf = argc == 2 ? fopen(argv[1], "rb") : NULL;
    hotreload_server_config_t sc = HOTRELOAD_SERVER_CONFIG_DEFAULT();
    if (!kf || (sc.auth_key_len = fread(key, 1, sizeof key, kf)) == 0) {
        fprintf(stderr, "usage: serial_fw KEYFILE\n");
        return 2;
    }
    fclose(kf);
    sc.auth_key = key;
    sc.max_module_size = 1u << 20;
    signal(SIGTERM, on_term);
    setvbuf(stdout, NULL, _IOLBF, 0);
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.max_module_size = 1u << 20;
    hotreload_load(&cfg); /* registers "main"; nothing stored yet */
    if (hotreload_console_start_stdio(&sc) != 0) {
        fprintf(stderr, "serial_fw: console: %s\n", hotreload_last_error());
        return 1;
    }
    printf("serial device ready\n");
    struct timespec tick = {0, 2 * 1000000L};
    while (!stop) {
        hotreload_poll();
        nanosleep(&tick, NULL);
    }
    return 0;
}
