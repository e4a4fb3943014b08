/* A call through a module's stub against a direct call of the same code.
 *
 *   stub_call [--quick] MODULE.img
 *
 * bench_stub_target is the stub (stub_target_stubs.S, from `hotd stubs`):
 * it loads the module's table pointer and jumps through it into the loaded
 * module. bench_direct_target is the same source linked into this program.
 * Both are in other translation units and never inlined; each call takes
 * the previous result, so calls cannot overlap. Storage:
 * $HOTRELOAD_STORAGE_DIR. */
#include <stdio.h>
#include <stdlib.h>

#include "file.h"
#include "hotreload.h"
#include "timing.h"

long bench_stub_target(long x);
long bench_direct_target(long x);
extern const struct hotreload_symtab hotreload_symtab_stub_target;

static volatile long sink;

static void via_stub(void *ctx, long iters)
{
    (void)ctx;
    long acc = 0;
    for (long i = 0; i < iters; i++)
        acc = bench_stub_target(acc);
    sink = acc;
}

static void direct(void *ctx, long iters)
{
    (void)ctx;
    long acc = 0;
    for (long i = 0; i < iters; i++)
        acc = bench_direct_target(acc);
    sink = acc;
}

int main(int argc, char **argv)
{
    bool quick = bench_quick(argc, argv);
    const char *path = argv[argc - 1];
    size_t size;
    void *img = argc > 1 ? read_file(path, &size) : NULL;
    if (!img) {
        fprintf(stderr, "usage: stub_call [--quick] MODULE.img\n");
        return 2;
    }
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = "stub_target";
    cfg.symtab = &hotreload_symtab_stub_target;
    if (hotreload_load_from_buffer(&cfg, img, size) != HOTRELOAD_OK) {
        fprintf(stderr, "stub_call: %s\n", hotreload_last_error());
        return 1;
    }
    free(img);
    if (bench_stub_target(4) != 13 || bench_direct_target(4) != 13) {
        fprintf(stderr, "stub_call: the module does not answer through its stub\n");
        return 1;
    }
    struct bench_stats stub, dir;
    bench_pair(via_stub, NULL, direct, NULL, quick ? 20 : 50, quick ? 9 : 31, &stub, &dir);
    char notes[160];
    snprintf(notes, sizeof notes, "ns per call, dependent chain; the stub adds %.2f ns",
             stub.median - dir.median);
    bench_result("stub_call", stub.median, bench_spread(&stub), dir.median, bench_spread(&dir),
                 "ns", notes);
    hotreload_unload(&cfg);
    return 0;
}
