/* The firmware of the gdb re-arm benchmark (gdb_rearm.py): stores each
 * image the way an upload does, then reloads it with the start and end of
 * hotreload_reload() on CLOCK_MONOTONIC, and calls the module once through
 * its stub (where gdb's breakpoint waits in the new code).
 *
 *   gdb_fw REPS IMAGE...        (storage: $HOTRELOAD_STORAGE_DIR)
 *
 * Prints "reload REP NS" per reload (NS: inside hotreload_reload). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "file.h"
#include "hotreload.h"

long bench_probe(long x);
extern const struct hotreload_symtab hotreload_symtab_gdb_probe;

/* Read by gdb when its breakpoint in the module hits. */
volatile uint64_t bench_t0_ns;
volatile long bench_rep;

/* gdb stops here once every reload ran. */
__attribute__((noinline)) void bench_done(void);
__attribute__((noinline)) void bench_done(void)
{
    __asm__ volatile("" ::: "memory");
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gdb_fw REPS IMAGE...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    long reps = atol(argv[1]);
    int nimg = argc - 2;
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = "gdb_probe";
    cfg.symtab = &hotreload_symtab_gdb_probe;
    hotreload_load(&cfg); /* registers; nothing stored yet */
    for (long r = 0; r < reps; r++) {
        size_t size;
        void *img = read_file(argv[2 + r % nimg], &size);
        hotreload_err_t err = hotreload_update_partition(&cfg, img, size);
        free(img);
        bench_rep = r;
        bench_t0_ns = now_ns();
        if (err == HOTRELOAD_OK)
            err = hotreload_reload(&cfg);
        uint64_t t1 = now_ns();
        if (err != HOTRELOAD_OK) {
            fprintf(stderr, "gdb_fw: %s\n", hotreload_last_error());
            return 1;
        }
        long got = bench_probe(r);
        printf("reload %ld %llu answer %ld\n", r, (unsigned long long)(t1 - bench_t0_ns), got);
        hotreload_confirm();
    }
    bench_done();
    hotreload_unload(&cfg);
    return 0;
}
