/* Fuzz target: the loader core (hr_module_load) on any bytes, for x86-64,
 * rv32, rv64 and Xtensa.
 *
 * The architecture is the one the ELF header claims (class and e_machine),
 * so mutants of a real module of each architecture go through its own
 * relocator; other headers pick one from the input's size, so that
 * mismatches are tried too. Regions are exact-size heap buffers at made-up
 * target addresses (an over-run is an ASan report); imports resolve to
 * addresses derived from their names (resolve() below).
 *
 * Beyond "no crash": a load that succeeds must describe only memory it was
 * given (every section inside its region, every byte readable), find each
 * of its exports by name, and give everything back when freed; one that
 * fails must say why and give everything back too. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "hotreload/loader.h"

#define REGION_CAP (16u << 20) /* more than any device has: refuse */
#define ALLOC_CAP (64u << 20)
#define MAX_REGIONS 16
#define TEXT_BASE 0x40100000u

struct fport {
    long allocs;
    int nregions;
    struct {
        enum hr_region_kind kind;
        struct hr_mem mem;
    } region[MAX_REGIONS];
    hr_addr_t next[HR_REGION_COUNT];
    hr_addr_t end[HR_REGION_COUNT]; /* where the next area begins: regions never overlap */
};

static void *fp_alloc(void *vctx, size_t size)
{
    struct fport *p = vctx;
    void *ptr = size <= ALLOC_CAP ? malloc(size ? size : 1) : NULL;
    p->allocs += ptr != NULL;
    return ptr;
}

static void fp_free(void *vctx, void *ptr)
{
    struct fport *p = vctx;
    p->allocs -= ptr != NULL;
    free(ptr);
}

static int fp_region_alloc(void *vctx, enum hr_region_kind kind, size_t size, size_t align,
                           struct hr_mem *out)
{
    struct fport *p = vctx;
    FUZZ_CHECK((unsigned)kind < HR_REGION_COUNT, "region kind %d", (int)kind);
    FUZZ_CHECK(align && !(align & (align - 1)), "region alignment %zu", align);
    hr_addr_t at = (p->next[kind] + align - 1) & ~(hr_addr_t)(align - 1);
    /* Each kind has its memory area, as on a chip: full, it gives no more. */
    if (size > REGION_CAP || p->nregions == MAX_REGIONS || at < p->next[kind] ||
        size > p->end[kind] - at)
        return -1;
    out->write = malloc(size ? size : 1);
    if (!out->write)
        return -1;
    out->addr = at;
    out->size = size;
    p->next[kind] = out->addr + size;
    p->region[p->nregions].kind = kind;
    p->region[p->nregions].mem = *out;
    p->nregions++;
    return 0;
}

static void fp_region_free(void *vctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    struct fport *p = vctx;
    for (int i = 0; i < p->nregions; i++) {
        if (p->region[i].mem.write != mem->write)
            continue;
        FUZZ_CHECK(p->region[i].kind == kind, "region freed as another kind");
        free(mem->write);
        p->region[i] = p->region[--p->nregions];
        return;
    }
    FUZZ_CHECK(0, "a region the port never gave was freed");
}

static void fp_sync(void *vctx, const struct hr_mem *mem)
{
    struct fport *p = vctx;
    int found = 0;
    for (int i = 0; i < p->nregions; i++)
        found |= p->region[i].mem.write == mem->write && p->region[i].kind == HR_REGION_TEXT;
    FUZZ_CHECK(found, "sync_code on memory that is no text region");
}

static uint32_t name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *c = name; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    return h;
}

/* A made-up firmware, so that names decide: those containing "missing" are
 * not there; "far" ones lie out of reach of 32-bit PC-relative code
 * (veneers, range errors); "abs" ones are small absolute values (c.lui); the
 * rest sit in the KiB below the text region, in reach of every branch. */
static int resolve(void *vctx, const char *name, hr_addr_t *addr)
{
    const enum hr_arch *arch = vctx;
    uint32_t h = name_hash(name);
    if (strstr(name, "missing"))
        return -1;
    if (strstr(name, "far"))
        *addr = (*arch == HR_ARCH_X86_64 || *arch == HR_ARCH_RV64 ? 0x7f1200000000ull
                                                                  : 0xfe000000u) +
                (h & 0xffff) * 4;
    else if (strstr(name, "abs"))
        *addr = (hr_addr_t)(1 + (h & 15)) << 12;
    else
        *addr = TEXT_BASE - 0x400 + (h & 0xff) * 4;
    /* A Cortex-M firmware's functions are Thumb code: bit 0 set ("data"
     * names are data, at even addresses). */
    if (*arch == HR_ARCH_ARM && !strstr(name, "data"))
        *addr |= 1;
    return 0;
}

static enum hr_arch pick_arch(const uint8_t *d, size_t n)
{
    if (n >= 20 && !memcmp(d, "\177ELF", 4)) {
        unsigned machine = d[18] | d[19] << 8;
        if (machine == 62)
            return HR_ARCH_X86_64;
        if (machine == 243)
            return d[4] == 1 ? HR_ARCH_RV32 : HR_ARCH_RV64;
        if (machine == 94)
            return HR_ARCH_XTENSA;
        if (machine == 40)
            return HR_ARCH_ARM;
    }
    return (enum hr_arch)(n % HR_ARCH_COUNT);
}

static const struct hr_mem *region_of(const struct fport *p, enum hr_region_kind kind,
                                      hr_addr_t addr, uint64_t size)
{
    for (int i = 0; i < p->nregions; i++) {
        const struct hr_mem *m = &p->region[i].mem;
        if (p->region[i].kind == kind && addr >= m->addr && addr - m->addr <= m->size &&
            size <= m->size - (addr - m->addr))
            return m;
    }
    return NULL;
}

static void check_module(const struct fport *p, const struct hr_module *mod, enum hr_arch arch)
{
    unsigned sum = 0;
    for (size_t i = 0; i < hr_module_section_count(mod); i++) {
        const struct hr_section_info *s = hr_module_section(mod, i);
        FUZZ_CHECK(s && s->name, "section %zu has no name", i);
        const struct hr_mem *m = region_of(p, s->kind, s->addr, s->size);
        FUZZ_CHECK(m, "section '%s' (%#llx, %llu bytes) lies outside its region", s->name,
                   (unsigned long long)s->addr, (unsigned long long)s->size);
        if (s->bytes) {
            FUZZ_CHECK(s->bytes == m->write + (s->addr - m->addr), "section '%s': bytes are "
                       "not where its address says", s->name);
            for (uint64_t k = 0; k < s->size; k++)
                sum += s->bytes[k];
        }
        if (s->size)
            FUZZ_CHECK(hr_module_bytes(mod, s->addr, (size_t)s->size) ==
                           m->write + (s->addr - m->addr),
                       "hr_module_bytes disagrees on section '%s'", s->name);
    }
    for (size_t i = 0; i < hr_module_import_count(mod); i++) {
        const struct hr_import_info *im = hr_module_import(mod, i);
        hr_addr_t want = 0;
        enum hr_arch a = arch;
        if (im->weak_missing)
            FUZZ_CHECK(im->addr == 0, "missing weak import '%s' is not 0", im->name);
        else if (strcmp(im->name, "_GLOBAL_OFFSET_TABLE_") != 0)
            FUZZ_CHECK(resolve(&a, im->name, &want) == 0 && want == im->addr,
                       "import '%s' at %#llx, resolved to %#llx", im->name,
                       (unsigned long long)im->addr, (unsigned long long)want);
    }
    for (size_t i = 0; i < hr_module_export_count(mod); i++) {
        const struct hr_export_info *e = hr_module_export(mod, i);
        const struct hr_export_info *f = hr_module_lookup(mod, e->name);
        FUZZ_CHECK(f && !strcmp(f->name, e->name), "export '%s' not found by name", e->name);
    }
    for (size_t i = 0; i < hr_module_persist_count(mod); i++)
        sum += (unsigned)strlen(hr_module_persist(mod, i)->name);
    const struct hr_reloc_count *rc;
    size_t nrc = hr_module_reloc_stats(mod, &rc);
    for (size_t i = 0; i < nrc; i++)
        FUZZ_CHECK(rc[i].count > 0 && hr_reloc_name(arch, rc[i].type),
                   "relocation type %u counted %u times", rc[i].type, rc[i].count);
    /* The sum only makes every byte read, for ASan. */
    (void)sum;
}

static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* FUZZ_VERBOSE=1: say how each input fared (is a seed loading at all?). */
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fport p;
    memset(&p, 0, sizeof p);
    /* Made-up areas in an ESP32-like map, each ending where the next begins. */
    static const hr_addr_t base[HR_REGION_COUNT] = {
        [HR_REGION_TEXT] = TEXT_BASE, [HR_REGION_RODATA] = 0x3f400000u,
        [HR_REGION_DATA] = 0x3ffb0000u, [HR_REGION_SDATA] = 0x3ffd0000u,
        [HR_REGION_BSS] = 0x3ffe0000u};
    static const hr_addr_t end[HR_REGION_COUNT] = {
        [HR_REGION_TEXT] = TEXT_BASE + REGION_CAP, [HR_REGION_RODATA] = 0x3ffb0000u,
        [HR_REGION_DATA] = 0x3ffd0000u, [HR_REGION_SDATA] = 0x3ffe0000u,
        [HR_REGION_BSS] = 0x3ffe0000u + REGION_CAP};
    for (int k = 0; k < HR_REGION_COUNT; k++)
        p.next[k] = base[k], p.end[k] = end[k];
    struct hr_port port = {&p, fp_alloc, fp_free, fp_region_alloc, fp_region_free, fp_sync, 0};
    enum hr_arch arch = pick_arch(data, size);
    struct hr_load_config cfg = {.arch = arch, .port = &port,
                                 .resolve = resolve, .resolve_ctx = &arch};
    struct hr_module *mod = NULL;
    struct hr_error err;
    memset(&err, 0, sizeof err);

    enum hr_status st = hr_module_load(&cfg, data, size, &mod, &err);
    if (verbose)
        fprintf(stderr, "%s %s: %s\n", hr_arch_name(arch), hr_status_name(st),
                st == HR_OK ? "loaded" : err.msg);
    if (st == HR_OK) {
        FUZZ_CHECK(mod, "HR_OK without a module");
        check_module(&p, mod, arch);
        hr_module_free(mod);
    } else {
        FUZZ_CHECK(err.status == st && err.msg[0] && memchr(err.msg, 0, sizeof err.msg),
                   "failure %s without a message", hr_status_name(st));
    }
    FUZZ_CHECK(p.allocs == 0 && p.nregions == 0, "%s: %ld allocations and %d regions left",
               hr_status_name(st), p.allocs, p.nregions);

    /* What the runtime asks before loading: the firmware id section. */
    const uint8_t *sec;
    size_t len;
    if (hr_image_section(data, size, ".hotreload.fwid", &sec, &len, &err) == HR_OK)
        FUZZ_CHECK(sec >= data && len <= size && (size_t)(sec - data) <= size - len,
                   "section outside the image");
    return 0;
}
