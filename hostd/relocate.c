#define _POSIX_C_SOURCE 200809L
/* hotd relocate: the device's loader core, run on the host. Shows what the
 * device would do with a module -- layout, imports, relocations, or the
 * exact error -- and can write the relocated bytes out for inspection. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host_port.h"
#include "hotd.h"
#include "hotreload/loader.h"
#include "options.h"
#include "symbols.h"

enum { FIRMWARE, SYM, ARCH, TEXT, DATA, RODATA, SDATA, BSS, RAM, OUT, QUIET };
static const struct hotd_opt options[] = {
    [FIRMWARE] = {"firmware", 0, "FW.elf", "resolve imports from the firmware's symbol table"},
    [SYM] = {"sym", 0, "NAME=ADDR", "provide (or override) one import address; repeatable"},
    [ARCH] = {"arch", 0, "ARCH", "x86_64, rv32, rv64, xtensa or arm (default: from\n"
                                 "the module)"},
    [TEXT] = {"text", 0, "ADDR", "address of the code region (default 0x10000000)"},
    [DATA] = {"data", 0, "ADDR", "address of the first data-side region (default\n"
                                 "0x20000000); rodata, data, sdata and bss follow\n"
                                 "each other from there"},
    [RODATA] = {"rodata", 0, "ADDR", "place the rodata region explicitly"},
    [SDATA] = {"sdata", 0, "ADDR", "place the sdata region explicitly"},
    [BSS] = {"bss", 0, "ADDR", "place the bss region explicitly"},
    [RAM] = {"ram", 0, "BYTES", "the memory the device gives modules: a module\n"
                                "needing more is refused (default 16 MiB)"},
    [OUT] = {"out", 0, "DIR", "write DIR/layout.txt and DIR/<section>.bin"},
    [QUIET] = {"quiet", 'q', NULL, "print only errors"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "relocate",
    .max_operands = 1,
    .opts = options,
    .usage = "usage: hotd relocate MODULE.o [options]\n"
             "\n"
             "Load MODULE.o with the device's loader, on the host, at the given addresses.\n",
    .notes = "layout.txt has one line per placed section: <name> 0x<address> <size>.\n"
             "Exit status: 0 loaded, 1 the loader refused the module, 2 usage or I/O error.\n",
};

struct relocate_args {
    const char *path, *out, *arch_name;
    struct symtab syms;
    struct host_port_ctx pctx;
    unsigned long long text, data, ram;
    bool quiet;
};

/* The architecture a module was built for, from its ELF header. */
static int guess_arch(const unsigned char *img, size_t size, enum hr_arch *arch)
{
    if (size < 20 || memcmp(img, "\177ELF", 4) != 0)
        return -1;
    unsigned machine = img[18] | img[19] << 8;
    switch (machine) {
    case 62: *arch = HR_ARCH_X86_64; return 0;
    case 243: *arch = img[4] == 2 ? HR_ARCH_RV64 : HR_ARCH_RV32; return 0;
    case 94: *arch = HR_ARCH_XTENSA; return 0;
    case 40: *arch = HR_ARCH_ARM; return 0;
    default: return -1;
    }
}

/* The file a section's bytes go to: its name comes from a possibly hostile
 * ELF and can hold '/' or be "..": a '/', a '\\' or a control character
 * becomes '_', and a name changed so gets its index (no two sections share
 * a file); nothing is written outside dir. */
static void section_file(char *path, size_t size, const char *dir, const char *name, size_t i)
{
    char safe[256];
    size_t n = 0;
    bool changed = !*name;
    for (; name[n] && n < sizeof safe - 1; n++) {
        unsigned char c = (unsigned char)name[n];
        bool ok = c > 0x20 && c < 0x7f && c != '/' && c != '\\';
        safe[n] = ok ? (char)c : '_';
        changed |= !ok;
    }
    safe[n] = '\0';
    changed |= name[n] != '\0' || !strcmp(safe, ".") || !strcmp(safe, "..");
    if (changed)
        snprintf(path, size, "%s/%s-%zu.bin", dir, safe, i);
    else
        snprintf(path, size, "%s/%s.bin", dir, safe);
}

static int write_out(const struct hr_module *mod, const char *dir)
{
    char path[4096];
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "hotd relocate: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/layout.txt", dir);
    FILE *lay = fopen(path, "w");
    if (!lay) {
        fprintf(stderr, "hotd relocate: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < hr_module_section_count(mod); i++) {
        const struct hr_section_info *s = hr_module_section(mod, i);
        fprintf(lay, "%s 0x%llx %llu\n", s->name, (unsigned long long)s->addr,
                (unsigned long long)s->size);
        if (!s->bytes)
            continue;
        section_file(path, sizeof path, dir, s->name, i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(s->bytes, 1, s->size, f) != s->size || fclose(f) != 0) {
            fprintf(stderr, "hotd relocate: %s: %s\n", path, strerror(errno));
            fclose(lay);
            return -1;
        }
    }
    return fclose(lay) == 0 ? 0 : -1;
}

static void report(const struct hr_module *mod, const char *path, enum hr_arch arch)
{
    printf("%s: loaded for %s\n\nsections:\n", path, hr_arch_name(arch));
    for (size_t i = 0; i < hr_module_section_count(mod); i++) {
        const struct hr_section_info *s = hr_module_section(mod, i);
        printf("  %-24s 0x%08llx %8llu  %s%s\n", s->name, (unsigned long long)s->addr,
               (unsigned long long)s->size, hr_region_name(s->kind),
               s->loader_built ? " (built by the loader)" : "");
    }
    printf("\nimports:%s\n", hr_module_import_count(mod) ? "" : " none");
    for (size_t i = 0; i < hr_module_import_count(mod); i++) {
        const struct hr_import_info *im = hr_module_import(mod, i);
        printf("  %-24s 0x%08llx%s\n", im->name, (unsigned long long)im->addr,
               im->weak_missing ? "  (weak, not in firmware)" : "");
    }
    const struct hr_reloc_count *rc;
    size_t n = hr_module_reloc_stats(mod, &rc);
    unsigned long total = 0;
    for (size_t i = 0; i < n; i++)
        total += rc[i].count;
    printf("\nrelocations: %lu\n", total);
    for (size_t i = 0; i < n; i++)
        printf("  %-24s %u\n", hr_reloc_name(arch, rc[i].type), rc[i].count);
    printf("\nexports:%s\n", hr_module_export_count(mod) ? "" : " none");
    for (size_t i = 0; i < hr_module_export_count(mod); i++) {
        const struct hr_export_info *e = hr_module_export(mod, i);
        printf("  %-24s 0x%08llx %s\n", e->name, (unsigned long long)e->addr,
               e->kind == HR_EXPORT_FUNC ? "function" : "data");
    }
}

/* --sym NAME=ADDR into the symbol table: 0, or HOTD_ARGS_BAD (said). */
static int add_sym(struct hotd_args *a, struct symtab *syms)
{
    unsigned long long v;
    size_t n = strcspn(a->value, "=");
    if (!a->value[n] || n == 0 || hotd_parse_u64(a->value + n + 1, &v) != 0) {
        hotd_usage_error(a->cmd, "option '--sym' wants NAME=ADDR, not '%s'", a->value);
        return HOTD_ARGS_BAD;
    }
    char *name = strndup(a->value, n);
    int rc = name ? symtab_add(syms, name, v) : -1;
    free(name);
    if (rc != 0)
        fprintf(stderr, "hotd relocate: out of memory\n");
    return rc ? HOTD_ARGS_BAD : 0;
}

/* Options in the order given: a --sym after --firmware overrides it. */
static int parse(int argc, char **argv, struct relocate_args *r)
{
    struct hotd_args a = {.cmd = &command};
    unsigned long long v = 0;
    char msg[512];
    for (int o, bad = 0; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        switch (o) {
        case FIRMWARE:
            if (symtab_load_elf(&r->syms, a.value, msg, sizeof msg) != 0) {
                fprintf(stderr, "hotd relocate: %s\n", msg);
                return HOTD_ARGS_BAD;
            }
            break;
        case SYM: bad = add_sym(&a, &r->syms); break;
        case ARCH: r->arch_name = a.value; break;
        case TEXT: case DATA: case RODATA: case SDATA: case BSS:
            bad = hotd_option_number(&a, 0, ~0ull, &v);
            if (o == TEXT) r->text = v;
            else if (o == DATA) r->data = v;
            else r->pctx.base[o == RODATA ? HR_REGION_RODATA : o == SDATA ? HR_REGION_SDATA
                                                                          : HR_REGION_BSS] = v;
            break;
        case RAM:
            bad = hotd_option_number(&a, 1, SIZE_MAX, &r->ram);
            break;
        case OUT: r->out = a.value; break;
        case QUIET: r->quiet = true; break;
        default: return o;
        }
        if (bad)
            return bad;
    }
    if (a.noperands != 1) {
        hotd_usage_error(&command, "expected one MODULE.o");
        return HOTD_ARGS_BAD;
    }
    r->path = a.operands[0];
    return HOTD_ARGS_END;
}

/* Exit status: 0 loaded, 1 refused, 2 an I/O error. */
static int relocate(struct relocate_args *r)
{
    size_t size = 0;
    char *img, msg[512];
    if (hotd_read_file(r->path, &img, &size, msg, sizeof msg) != 0) {
        fprintf(stderr, "hotd relocate: %s\n", msg);
        return 2;
    }
    enum hr_arch arch;
    if (r->arch_name ? hr_arch_from_name(r->arch_name, &arch) != 0
                     : guess_arch((const unsigned char *)img, size, &arch) != 0) {
        if (r->arch_name)
            fprintf(stderr, "hotd relocate: unknown --arch '%s' (x86_64, rv32, rv64, xtensa, "
                    "arm)\n",
                    r->arch_name);
        else
            fprintf(stderr, "hotd relocate: %s: cannot tell the architecture; give --arch\n",
                    r->path);
        free(img);
        return 2;
    }
    struct hr_port port;
    host_port_init(&port, &r->pctx, r->text, r->data);
    port.max_total = (size_t)r->ram;
    struct hr_load_config cfg = {.arch = arch, .port = &port, .resolve = symtab_resolve,
                                 .resolve_ctx = &r->syms};
    struct hr_module *mod;
    struct hr_error err;
    enum hr_status st = hr_module_load(&cfg, img, size, &mod, &err);
    free(img);
    if (st != HR_OK) {
        fprintf(stderr, "hotd relocate: %s: error: %s\n", r->path, err.msg);
        return 1;
    }
    if (!r->quiet)
        report(mod, r->path, arch);
    int rc = r->out && write_out(mod, r->out) != 0 ? 2 : 0;
    hr_module_free(mod);
    return rc;
}

int cmd_relocate(int argc, char **argv)
{
    struct relocate_args r = {.text = 0x10000000, .data = 0x20000000,
                              .ram = 16u << 20};
    int parsed = parse(argc, argv, &r);
    int rc = parsed == HOTD_ARGS_END ? relocate(&r) : hotd_args_exit(parsed);
    symtab_free(&r.syms);
    return rc;
}
