/* Peak RAM while the runtime loads a module from storage, against the sum
 * of the module's placed sections.
 *
 *   peak_ram NAME FUNCTIONS IMAGE [...]      (images bound to this program)
 *
 * The platform's memory port is wrapped (ld --wrap=hr_platform_get) by one
 * that counts every byte the loader and the runtime ask for: bookkeeping
 * (alloc) and regions (region_alloc), at the sizes asked for, as a heap
 * would hand them out (the posix port rounds regions up to pages; a
 * device's heap does not). The image is stored, then hotreload_load()
 * loads it from the partition, which the posix port maps in place as a
 * device maps flash: the image itself takes no RAM.
 * Storage: $HOTRELOAD_STORAGE_DIR. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "hotreload.h"
#include "hotreload/debug.h"
#include "hotreload/port.h"
#include "timing.h"

const struct hr_platform *__real_hr_platform_get(void);
const struct hr_platform *__wrap_hr_platform_get(void);

static const struct hr_port *real;
static struct hr_platform counted;
static struct hr_port counting;
static size_t now_bytes, peak_bytes, region_bytes, region_peak;

#define MAX_REGIONS 64
static struct {
    uint8_t *write;
    size_t size;
} regions[MAX_REGIONS];

static void grow(size_t n)
{
    now_bytes += n;
    if (now_bytes > peak_bytes)
        peak_bytes = now_bytes;
}

/* A header in front of each block remembers its size for free(). */
#define HEAD 16

static void *c_alloc(void *ctx, size_t size)
{
    (void)ctx;
    uint8_t *p = real->alloc(real->ctx, size + HEAD);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    grow(size);
    return p + HEAD;
}

static void c_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (!ptr)
        return;
    uint8_t *p = (uint8_t *)ptr - HEAD;
    size_t size;
    memcpy(&size, p, sizeof size);
    now_bytes -= size;
    real->free(real->ctx, p);
}

static int c_region_alloc(void *ctx, enum hr_region_kind kind, size_t size, size_t align,
                          struct hr_mem *out)
{
    (void)ctx;
    int i = 0;
    while (i < MAX_REGIONS && regions[i].write)
        i++;
    if (i == MAX_REGIONS || real->region_alloc(real->ctx, kind, size, align, out) != 0)
        return -1;
    regions[i].write = out->write;
    regions[i].size = size;
    grow(size);
    region_bytes += size;
    if (region_bytes > region_peak)
        region_peak = region_bytes;
    return 0;
}

static void c_region_free(void *ctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    (void)ctx;
    for (int i = 0; i < MAX_REGIONS; i++)
        if (regions[i].write == mem->write) {
            now_bytes -= regions[i].size;
            region_bytes -= regions[i].size;
            regions[i].write = NULL;
        }
    real->region_free(real->ctx, kind, mem);
}

static void c_sync(void *ctx, const struct hr_mem *mem)
{
    (void)ctx;
    if (real->sync_code)
        real->sync_code(real->ctx, mem);
}

const struct hr_platform *__wrap_hr_platform_get(void)
{
    if (!real) {
        counted = *__real_hr_platform_get();
        real = counted.mem;
        counting = (struct hr_port){NULL, c_alloc, c_free, c_region_alloc, c_region_free,
                                    c_sync, real->max_total};
        counted.mem = &counting;
    }
    return &counted;
}

/* The placed sections (loader-built GOT and veneers included) the debug
 * descriptor lists for the module. */
static size_t placed_bytes(const char *module, unsigned *count)
{
    size_t sum = 0;
    *count = 0;
    for (int i = 0; i < HOTRELOAD_DEBUG_MAX_OBJECTS; i++) {
        const struct hotreload_debug_object *o = &hotreload_debug.objects[i];
        if (!o->nsections || strcmp(o->module, module) != 0)
            continue;
        for (uint32_t k = 0; k < o->nsections; k++)
            sum += (size_t)o->sections[k].size;
        *count += o->nsections;
    }
    return sum;
}

static void measure(const char *name, const char *functions, const char *path)
{
    size_t size;
    void *img = read_file(path, &size);
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = name;
    cfg.partition = name;
    cfg.max_module_size = 1u << 20;
    hotreload_load(&cfg); /* registers; nothing stored yet */
    if (hotreload_update_partition(&cfg, img, size) != HOTRELOAD_OK) {
        fprintf(stderr, "peak_ram: %s: %s\n", name, hotreload_last_error());
        exit(1);
    }
    free(img);
    size_t before = now_bytes;
    peak_bytes = now_bytes;
    region_peak = region_bytes;
    size_t regions_before = region_bytes;
    if (hotreload_load(&cfg) != HOTRELOAD_OK) {
        fprintf(stderr, "peak_ram: %s: %s\n", name, hotreload_last_error());
        exit(1);
    }
    size_t peak = peak_bytes - before, kept = now_bytes - before;
    size_t in_regions = region_peak - regions_before;
    unsigned nsec;
    size_t sections = placed_bytes(name, &nsec);
    char id[64], notes[320];
    snprintf(id, sizeof id, "peak_ram_%s", name);
    snprintf(notes, sizeof notes,
             "bytes; %s functions, image %zu B read in place; regions %zu B, bookkeeping peak "
             "%zu B; kept after the load %zu B (the peak is %zu B above it); %u placed "
             "sections",
             functions, size, in_regions, peak - in_regions, kept, peak - kept, nsec);
    bench_result(id, (double)peak, 0, (double)sections, 0, "B", notes);
    hotreload_unload(&cfg);
}

int main(int argc, char **argv)
{
    if (argc < 4 || (argc - 1) % 3 != 0) {
        fprintf(stderr, "usage: peak_ram NAME FUNCTIONS IMAGE [...]\n");
        return 2;
    }
    /* Room for two slots of the largest module. */
    setenv("HOTRELOAD_STORAGE_SIZE", "4194304", 0);
    for (int i = 1; i < argc; i += 3)
        measure(argv[i], argv[i + 1], argv[i + 2]);
    return 0;
}
