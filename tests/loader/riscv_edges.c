/* RISC-V relocator edge cases that GNU ld cannot judge: refusals with their
 * messages, ALIGN honoured or refused, R_RISCV_SUB6, which binutils 2.40's
 * ld computes as an addition (the psABI says subtraction), and an image
 * that is not aligned relocated as the aligned one is. Objects are
 * assembled at build time; argv: forms-rv32.o align-bad.o align-ok.o
 * far-rv32.o far-rv64.o lonely-lo.o */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotreload/loader.h"

static int failed, passed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                        \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
        }                                                                                      \
    } while (0)

static hr_addr_t next_addr;

static void *p_alloc(void *c, size_t n) { (void)c; return malloc(n); }
static void p_free(void *c, void *p) { (void)c; free(p); }
static int p_region(void *c, enum hr_region_kind k, size_t size, size_t align, struct hr_mem *m)
{
    (void)c;
    (void)k;
    next_addr = (next_addr + align - 1) & ~(hr_addr_t)(align - 1);
    m->addr = next_addr;
    next_addr += size;
    m->write = malloc(size);
    return m->write ? 0 : -1;
}
static void p_region_free(void *c, enum hr_region_kind k, const struct hr_mem *m)
{
    (void)c;
    (void)k;
    free(m->write);
}
static const struct hr_port port = {NULL, p_alloc, p_free, p_region, p_region_free, NULL, 0};

static int resolve(void *ctx, const char *name, hr_addr_t *addr)
{
    (void)ctx;
    static const struct { const char *name; hr_addr_t addr; } fw[] = {
        {"fw_data", 0x10001000}, {"fw_fn", 0x10002000}, {"small_abs", 0x1f000},
        {"fw_far", 0x90000000}, /* 2.25 GiB: beyond JAL, and beyond rv64 HI20 */
    };
    for (size_t i = 0; i < sizeof fw / sizeof fw[0]; i++)
        if (!strcmp(fw[i].name, name)) {
            *addr = fw[i].addr;
            return 0;
        }
    return -1;
}

static void *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    void *buf = malloc(*size);
    if (!buf || fread(buf, 1, *size, f) != *size)
        exit(2);
    fclose(f);
    return buf;
}

/* Load path's image from `skew` bytes past an aligned buffer: 0, or 1 for
 * an image the loader must read byte by byte (elf.h's one-load readers
 * take aligned images only). */
static enum hr_status load_at(const char *path, size_t skew, enum hr_arch arch,
                              struct hr_module **mod, struct hr_error *err)
{
    size_t size;
    uint8_t *img = slurp(path, &size), *at = malloc(size + skew);
    if (!at)
        exit(2);
    memcpy(at + skew, img, size);
    struct hr_load_config cfg = {.arch = arch, .port = &port,
                                 .resolve = resolve, .resolve_ctx = NULL};
    next_addr = 0x10100000;
    enum hr_status st = hr_module_load(&cfg, at + skew, size, mod, err);
    free(at);
    free(img);
    return st;
}

static enum hr_status load(const char *path, enum hr_arch arch, struct hr_module **mod,
                           struct hr_error *err)
{
    return load_at(path, 0, arch, mod, err);
}

/* The same image unaligned: every section relocated to the same bytes. */
static void same_unaligned(const char *path, enum hr_arch arch)
{
    struct hr_module *a = NULL, *b = NULL;
    struct hr_error err;
    CHECK(load_at(path, 0, arch, &a, &err) == HR_OK, "%s: %s", path, err.msg);
    CHECK(load_at(path, 1, arch, &b, &err) == HR_OK, "%s unaligned: %s", path, err.msg);
    size_t n = a && b ? hr_module_section_count(a) : 0;
    CHECK(a && b && n && n == hr_module_section_count(b), "%s: section counts differ", path);
    for (size_t i = 0; a && b && i < n && i < hr_module_section_count(b); i++) {
        const struct hr_section_info *x = hr_module_section(a, i), *y = hr_module_section(b, i);
        CHECK(x->addr == y->addr && x->size == y->size &&
              (!x->bytes || !memcmp(x->bytes, y->bytes, (size_t)x->size)),
              "%s: %s relocated differently from an unaligned image", path, x->name);
    }
    hr_module_free(a);
    hr_module_free(b);
}

static const struct hr_section_info *section(const struct hr_module *m, const char *name)
{
    for (size_t i = 0; i < hr_module_section_count(m); i++)
        if (!strcmp(hr_module_section(m, i)->name, name))
            return hr_module_section(m, i);
    return NULL;
}

static void expect_refusal(const char *path, enum hr_arch arch, enum hr_status want,
                           const char *const words[])
{
    struct hr_module *mod = NULL;
    struct hr_error err;
    enum hr_status st = load(path, arch, &mod, &err);
    CHECK(st == want, "%s: status %s, want %s (%s)", path, hr_status_name(st),
          hr_status_name(want), err.msg);
    for (int i = 0; words[i]; i++)
        CHECK(strstr(err.msg, words[i]), "%s: message lacks '%s': %s", path, words[i], err.msg);
    CHECK(mod == NULL, "%s: refused load returned a module", path);
    hr_module_free(mod);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s forms-rv32.o align-bad.o align-ok.o far-rv32.o far-rv64.o "
                "lonely-lo.o\n", argv[0]);
        return 2;
    }
    struct hr_module *mod;
    struct hr_error err;

    /* SET6/SUB6 in .data at 0x1f/0x20 (see tests/oracle/asm/riscv-forms.S). */
    CHECK(load(argv[1], HR_ARCH_RV32, &mod, &err) == HR_OK, "forms: %s", err.msg);
    if (mod) {
        const struct hr_section_info *d = section(mod, ".data");
        const struct hr_export_info *var = hr_module_lookup(mod, "var");
        CHECK(d && var && d->size > 0x20, "forms: no .data or var");
        if (d && var && d->size > 0x20) {
            uint8_t set6 = (uint8_t)((0xc5 & 0xc0) | ((var->addr + 3) & 0x3f));
            uint8_t sub6 = (uint8_t)((0x87 & 0xc0) | ((0x07 - (var->addr + 1)) & 0x3f));
            CHECK(d->bytes[0x1f] == set6, "SET6: %#x, want %#x", d->bytes[0x1f], set6);
            CHECK(d->bytes[0x20] == sub6, "SUB6: %#x, want %#x", d->bytes[0x20], sub6);
        }
        hr_module_free(mod);
    }

    same_unaligned(argv[1], HR_ARCH_RV32);

    expect_refusal(argv[2], HR_ARCH_RV32, HR_E_RELOC,
                   (const char *[]){"R_RISCV_ALIGN", ".text+0x4", "16 bytes", "-mno-relax", 0});
    CHECK(load(argv[3], HR_ARCH_RV32, &mod, &err) == HR_OK, "align-ok: %s", err.msg);
    hr_module_free(mod);

    expect_refusal(argv[4], HR_ARCH_RV32, HR_E_RANGE,
                   (const char *[]){"R_RISCV_JAL", "fw_far", "21-bit", 0});
    expect_refusal(argv[5], HR_ARCH_RV64, HR_E_RANGE, (const char *[]){"R_RISCV_JAL", 0});
    expect_refusal(argv[6], HR_ARCH_RV32, HR_E_RELOC,
                   (const char *[]){"R_RISCV_PCREL_LO12_I", "R_RISCV_PCREL_HI20", 0});
    /* A module for rv32 offered to the rv64 loader. */
    expect_refusal(argv[1], HR_ARCH_RV64, HR_E_ARCH, (const char *[]){"ELF32", "ELF64", 0});
    expect_refusal(argv[1], HR_ARCH_X86_64, HR_E_ARCH, (const char *[]){"RISC-V", "x86-64", 0});

    printf("riscv_edges: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
