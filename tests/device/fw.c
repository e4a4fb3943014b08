/* A simulated-device firmware for the runtime tests: one module ("main")
 * called through a symbol table, the HTTP server, a main loop that reaches
 * its safe point every tick and reports what the module answers.
 *
 *   fw --port N [--key FILE | --pubkey FILE | --no-auth] [--ticks N] [--confirm-ms N]
 *      [--console-port N] [--console-frame N]
 *
 * Prints "listening on PORT", then "value=V gen=G calls=C" whenever the
 * module's answer changes. --key: the raw HMAC key (HR1); --pubkey: the
 * 65 raw bytes of a P-256 public point (HR2). The console is on stdin/stdout, or with
 * --console-port on 127.0.0.1:N (0: any free port; "console on
 * tcp:127.0.0.1:PORT" says which). Storage: $HOTRELOAD_STORAGE_DIR. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotreload.h"
#include "posix.h"

/* The module's functions, called through the stubs `hotd stubs` generated
 * (main_stubs.S, main_symtab.c): before a module is loaded they reach
 * handlers that report the call and return 0. */
long mod_value(void);
long mod_calls(void);
extern const struct hotreload_symtab hotreload_symtab_main;

/* Something module code can import from the firmware. */
extern int fw_scale;
extern long fw_triple(long x);
extern int fw_fini_calls;
int fw_scale = 10;
int fw_fini_calls;
long fw_triple(long x) { return 3 * x; }

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int read_key(const char *path, uint8_t *key, size_t size, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    *len = fread(key, 1, size, f);
    fclose(f);
    return *len ? 0 : -1;
}

int main(int argc, char **argv)
{
    hotreload_server_config_t sc = HOTRELOAD_SERVER_CONFIG_DEFAULT();
    static uint8_t key[64], pubkey[66]; /* one more: a longer file is refused */
    long ticks = -1;
    uint32_t confirm_ms = 300;
    int console_port = -1; /* stdin/stdout */
    size_t max_size = HOTRELOAD_MAX_MODULE_SIZE;
    const char *module = "main";
    sc.port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            sc.port = (uint16_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
            if (read_key(argv[++i], key, sizeof key, &sc.auth_key_len) != 0) {
                fprintf(stderr, "fw: cannot read key %s\n", argv[i]);
                return 2;
            }
            sc.auth_key = key;
        } else if (!strcmp(argv[i], "--pubkey") && i + 1 < argc) {
            size_t n = 0;
            if (read_key(argv[++i], pubkey, sizeof pubkey, &n) != 0 || n != 65) {
                fprintf(stderr, "fw: %s is not 65 bytes of a P-256 public point\n", argv[i]);
                return 2;
            }
            sc.auth_pubkey = pubkey;
        } else if (!strcmp(argv[i], "--no-auth"))
            sc.auth_disabled = true;
        else if (!strcmp(argv[i], "--ticks") && i + 1 < argc)
            ticks = atol(argv[++i]);
        else if (!strcmp(argv[i], "--confirm-ms") && i + 1 < argc)
            confirm_ms = (uint32_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--console-port") && i + 1 < argc)
            console_port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--console-frame") && i + 1 < argc)
            sc.console_frame = (uint16_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--max-module-size") && i + 1 < argc)
            max_size = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--module") && i + 1 < argc)
            module = argv[++i];
        else if (!strcmp(argv[i], "--server-max") && i + 1 < argc)
            sc.max_module_size = strtoul(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: fw --port N [--key FILE | --pubkey FILE | --no-auth] "
                    "[--ticks N] "
                    "[--confirm-ms N] [--console-port N] [--console-frame N] "
                    "[--max-module-size N] "
                    "[--server-max N] [--module NAME]\n");
            return 2;
        }
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    setvbuf(stdout, NULL, _IOLBF, 0);

    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.symtab = &hotreload_symtab_main;
    cfg.confirm_after_ms = confirm_ms;
    cfg.max_module_size = max_size;
    cfg.module = module;
    hotreload_err_t err = hotreload_load(&cfg);
    printf("boot: %s\n", err ? hotreload_last_error() : "module loaded");
    sc.reload_timeout_ms = 3000;
    if (hotreload_server_start(&sc) != HOTRELOAD_OK) {
        fprintf(stderr, "fw: server: %s\n", hotreload_last_error());
        return 1;
    }
    if (console_port >= 0 ? hotreload_console_start_tcp(&sc, (uint16_t)console_port) != 0
                          : hotreload_console_start_stdio(&sc) != 0) {
        fprintf(stderr, "fw: console: %s\n", hotreload_last_error());
        return 1;
    }
    if (console_port >= 0)
        printf("console on tcp:127.0.0.1:%u\n", hr_posix_console_port());
    printf("listening on %u\n", hr_posix_server_port());

    long last_value = -2, n = 0;
    struct timespec tick = {0, 10 * 1000000L};
    while (!stop && ticks != 0) {
        if (ticks > 0)
            ticks--;
        hotreload_poll();
        long v = mod_value();
        long c = mod_calls();
        /* Every change at once, and a heartbeat the tests read the latest from. */
        if (v != last_value || ++n % 10 == 0)
            printf("value=%ld calls=%ld\n", v, c);
        last_value = v;
        nanosleep(&tick, NULL);
    }
    hotreload_server_stop();
    hotreload_unload(&cfg);
    printf("stopped\n");
    return 0;
}
