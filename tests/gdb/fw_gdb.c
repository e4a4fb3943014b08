/* The firmware gdb follows (tests/gdb/follow_test.py): module "counter",
 * called through the stubs `hotd stubs` generated. Each image given is
 * stored and reloaded the way an upload is (hotreload_update_partition, then
 * hotreload_reload at the safe point), then called once. Afterwards it serves
 * HTTP (GET /status, uploads) and reloads at its safe point until SIGTERM.
 *
 *   fw_gdb --key FILE IMAGE...      (storage: $HOTRELOAD_STORAGE_DIR) */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotreload.h"
#include "posix.h"

long counter_step(long x);
long counter_report(long x);
extern const struct hotreload_symtab hotreload_symtab_counter;

/* What the module imports from the firmware. */
long fw_triple(long x);
long fw_triple(long x) { return 3 * x; }

/* Read by the test through gdb: the HTTP port, and what the module answered. */
volatile unsigned fw_port;
volatile long fw_step, fw_report;

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    void *data = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0 && (*size = (size_t)ftell(f)) > 0) {
        rewind(f);
        data = malloc(*size);
        if (data && fread(data, 1, *size, f) != *size) {
            free(data);
            data = NULL;
        }
    }
    if (f)
        fclose(f);
    if (!data) {
        fprintf(stderr, "fw_gdb: cannot read %s\n", path);
        exit(2);
    }
    return data;
}

/* Calls into the module: the frames gdb must show under the module's. */
__attribute__((noinline)) static void run_module(uint32_t gen)
{
    fw_step = counter_step(7);
    fw_report = counter_report(2);
    printf("gen=%u step=%ld report=%ld\n", gen, fw_step, fw_report);
}

/* The test stops here once every image ran. */
__attribute__((noinline)) void fw_done(void);
__attribute__((noinline)) void fw_done(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    static uint8_t key[64];
    hotreload_server_config_t sc = HOTRELOAD_SERVER_CONFIG_DEFAULT();
    sc.port = 0;
    FILE *kf = argc > 2 && !strcmp(argv[1], "--key") ? fopen(argv[2], "rb") : NULL;
    if (!kf || (sc.auth_key_len = fread(key, 1, sizeof key, kf)) == 0) {
        fprintf(stderr, "usage: fw_gdb --key FILE IMAGE...\n");
        return 2;
    }
    fclose(kf);
    sc.auth_key = key;
    signal(SIGTERM, on_term);
    setvbuf(stdout, NULL, _IOLBF, 0);

    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = "counter";
    cfg.symtab = &hotreload_symtab_counter;
    hotreload_load(&cfg); /* registers the module; nothing is stored yet */
    if (hotreload_server_start(&sc) != HOTRELOAD_OK) {
        fprintf(stderr, "fw_gdb: server: %s\n", hotreload_last_error());
        return 1;
    }
    fw_port = hr_posix_server_port();
    for (int i = 3; i < argc; i++) {
        size_t size;
        void *img = slurp(argv[i], &size);
        hotreload_err_t err = hotreload_update_partition(&cfg, img, size);
        free(img);
        if (err == HOTRELOAD_OK)
            err = hotreload_reload(&cfg);
        if (err != HOTRELOAD_OK) {
            fprintf(stderr, "fw_gdb: %s: %s\n", argv[i], hotreload_last_error());
            return 1;
        }
        run_module((uint32_t)(i - 2));
    }
    fw_done();
    struct timespec tick = {0, 10 * 1000000L};
    while (!stop) {
        hotreload_poll(); /* uploads over HTTP from here on */
        nanosleep(&tick, NULL);
    }
    hotreload_server_stop();
    hotreload_unload(&cfg);
    return 0;
}
