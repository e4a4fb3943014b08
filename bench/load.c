/* Load + relocate + unload of a module from RAM with the real loader (the
 * posix port's memory: mmap near the firmware, text made read-execute)
 * against glibc's dlopen(RTLD_NOW) + dlclose of the same code built as a
 * shared object.
 *
 *   load [--quick] NAME FUNCTIONS MODULE.o LIBRARY.so [...]
 *
 * Prints one JSON line per module (bench/run.py reads them). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "hotreload/loader.h"
#include "hotreload/port.h"
#include "timing.h"

struct subject {
    const char *name;
    void *image;
    size_t size;
    const char *so;
    struct hr_load_config cfg;
};

static int resolve(void *ctx, const char *name, hr_addr_t *addr)
{
    const struct hr_platform *pf = ctx;
    return pf->resolve(pf->ctx, name, addr);
}

/* A port as a device's heap would be (regions from malloc, nothing to
 * sync): what the loader core costs without the simulated device's mmap
 * and mprotect calls. Its code is never run. */
static void *heap_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void heap_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static int heap_region_alloc(void *ctx, enum hr_region_kind kind, size_t size, size_t align,
                             struct hr_mem *out)
{
    (void)ctx;
    (void)kind;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1))
        return -1;
    out->write = p;
    out->addr = (hr_addr_t)(uintptr_t)p;
    out->size = size;
    return 0;
}

static void heap_region_free(void *ctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    (void)ctx;
    (void)kind;
    free(mem->write);
}

static const struct hr_port heap_port = {
    NULL, heap_alloc, heap_free, heap_region_alloc, heap_region_free, NULL, 0,
};

static struct hr_module *load_once(struct subject *s)
{
    struct hr_module *mod;
    struct hr_error err;
    if (hr_module_load(&s->cfg, s->image, s->size, &mod, &err) != HR_OK) {
        fprintf(stderr, "load: %s: %s\n", s->name, err.msg);
        exit(1);
    }
    return mod;
}

static void run_loader(void *ctx, long iters)
{
    for (long i = 0; i < iters; i++)
        hr_module_free(load_once(ctx));
}

static void *open_so(const struct subject *s)
{
    void *h = dlopen(s->so, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "load: %s\n", dlerror());
        exit(1);
    }
    return h;
}

static void run_dlopen(void *ctx, long iters)
{
    for (long i = 0; i < iters; i++)
        dlclose(open_so(ctx));
}

typedef int (*entry_fn)(int);

/* Both ways give the same code: check they compute the same before timing them. */
static void check_same(struct subject *s)
{
    struct hr_module *mod = load_once(s);
    const struct hr_export_info *e = hr_module_lookup(mod, "bench_entry");
    void *h = open_so(s);
    entry_fn via_so = (entry_fn)dlsym(h, "bench_entry");
    if (!e || !via_so) {
        fprintf(stderr, "load: %s: no bench_entry\n", s->name);
        exit(1);
    }
    entry_fn via_loader = (entry_fn)(uintptr_t)e->addr;
    int a = via_loader(3), b = via_so(3);
    if (a != b) {
        fprintf(stderr, "load: %s: loaded module answers %d, shared object %d\n", s->name, a, b);
        exit(1);
    }
    dlclose(h);
    hr_module_free(mod);
}

/* The module's shape, for the report. */
static void describe(struct subject *s, const char *functions)
{
    struct hr_module *mod = load_once(s);
    unsigned long kinds[HR_REGION_COUNT] = {0}, built = 0, relocs = 0;
    for (size_t i = 0; i < hr_module_section_count(mod); i++) {
        const struct hr_section_info *sec = hr_module_section(mod, i);
        if (sec->loader_built)
            built += sec->size;
        else
            kinds[sec->kind] += sec->size;
    }
    const struct hr_reloc_count *rc;
    size_t n = hr_module_reloc_stats(mod, &rc);
    for (size_t i = 0; i < n; i++)
        relocs += rc[i].count;
    struct stat st;
    long so_bytes = stat(s->so, &st) == 0 ? (long)st.st_size : -1;
    printf("{\"info\": \"module\", \"name\": \"%s\", \"functions\": %s, \"file_bytes\": %zu, "
           "\"so_bytes\": %ld, \"text\": %lu, \"rodata\": %lu, \"data\": %lu, \"sdata\": %lu, "
           "\"bss\": %lu, \"loader_built\": %lu, \"relocations\": %lu, \"exports\": %zu, "
           "\"imports\": %zu}\n",
           s->name, functions, s->size, so_bytes, kinds[HR_REGION_TEXT], kinds[HR_REGION_RODATA],
           kinds[HR_REGION_DATA], kinds[HR_REGION_SDATA], kinds[HR_REGION_BSS], built, relocs,
           hr_module_export_count(mod), hr_module_import_count(mod));
    hr_module_free(mod);
}

int main(int argc, char **argv)
{
    bool quick = bench_quick(argc, argv);
    int first = quick ? 2 : 1;
    if (argc - first < 4 || (argc - first) % 4 != 0) {
        fprintf(stderr, "usage: load [--quick] NAME FUNCTIONS MODULE.o LIBRARY.so [...]\n");
        return 2;
    }
    const struct hr_platform *pf = hr_platform_get();
    for (int i = first; i < argc; i += 4) {
        struct subject s = {.name = argv[i], .so = argv[i + 3]};
        s.image = read_file(argv[i + 2], &s.size);
        s.cfg = (struct hr_load_config){.arch = HR_ARCH_X86_64, .port = pf->mem, .resolve = resolve,
                                        .resolve_ctx = (void *)pf};
        check_same(&s);
        describe(&s, argv[i + 1]);
        struct bench_stats ours, theirs;
        double ms = quick ? 15 : 60;
        int samples = quick ? 7 : 21;
        bench_pair(run_loader, &s, run_dlopen, &s, ms, samples, &ours, &theirs);
        char id[64];
        snprintf(id, sizeof id, "load_%s", s.name);
        bench_result(id, ours.median / 1e3, bench_spread(&ours), theirs.median / 1e3,
                     bench_spread(&theirs), "us",
                     "hr_module_load+hr_module_free from RAM, posix port (mmap near the "
                     "firmware, W^X) vs dlopen(RTLD_NOW)+dlclose");
        struct subject h = s;
        h.cfg.port = &heap_port;
        bench_pair(run_loader, &h, run_dlopen, &h, ms, samples, &ours, &theirs);
        snprintf(id, sizeof id, "load_%s_heap", s.name);
        bench_result(id, ours.median / 1e3, bench_spread(&ours), theirs.median / 1e3,
                     bench_spread(&theirs), "us",
                     "the same with a heap port (regions from malloc, as a device heap) vs "
                     "dlopen(RTLD_NOW)+dlclose");
        free(s.image);
    }
    return 0;
}
