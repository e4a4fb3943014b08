#define _POSIX_C_SOURCE 200809L
/* hotd relocate: the device's loader core, run on the host. Shows what the
 * device would do with a module -- layout, imports, relocations, or the
 * exact error -- and can write the relocated bytes out for inspection. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host_port.h"
#include "hotd.h"
#include "hotreload/loader.h"
#include "symbols.h"

static const char help[] =
    "usage: hotd relocate MODULE.o [options]\n"
    "\n"
    "Load MODULE.o with the device's loader, on the host, at the given addresses.\n"
    "\n"
    "  --firmware FW.elf  resolve imports from the firmware's symbol table\n"
    "  --sym NAME=ADDR    provide (or override) one import address; repeatable\n"
    "  --arch ARCH        x86_64, rv32, rv64 or xtensa (default: from the module)\n"
    "  --text ADDR        address of the code region (default 0x10000000)\n"
    "  --data ADDR        address of the first data-side region (default 0x20000000);\n"
    "                     rodata, data, sdata and bss follow each other from there\n"
    "  --rodata/--sdata/--bss ADDR   place that region explicitly\n"
    "  --out DIR          write DIR/layout.txt and DIR/<section>.bin\n"
    "  -q, --quiet        print only errors\n"
    "  -h, --help         this text\n"
    "\n"
    "layout.txt has one line per placed section: <name> 0x<address> <size>.\n"
    "Exit status: 0 loaded, 1 the loader refused the module, 2 usage or I/O error.\n";

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
    default: return -1;
    }
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
        snprintf(path, sizeof path, "%s/%s.bin", dir, s->name);
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

int cmd_relocate(int argc, char **argv)
{
    enum { O_FW = 256, O_SYM, O_ARCH, O_TEXT, O_DATA, O_RODATA, O_SDATA, O_BSS, O_OUT };
    static const struct option opts[] = {
        {"firmware", required_argument, 0, O_FW}, {"sym", required_argument, 0, O_SYM},
        {"arch", required_argument, 0, O_ARCH},   {"text", required_argument, 0, O_TEXT},
        {"data", required_argument, 0, O_DATA},   {"rodata", required_argument, 0, O_RODATA},
        {"sdata", required_argument, 0, O_SDATA}, {"bss", required_argument, 0, O_BSS},
        {"out", required_argument, 0, O_OUT},     {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    struct symtab syms = {0};
    struct host_port_ctx pctx = {0};
    unsigned long long text = 0x10000000, data = 0x20000000, v;
    const char *out = NULL, *arch_name = NULL;
    int quiet = 0, c, rc = 2;
    char msg[512];
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case O_FW:
            if (symtab_load_elf(&syms, optarg, msg, sizeof msg) != 0) {
                fprintf(stderr, "hotd relocate: %s\n", msg);
                goto done;
            }
            break;
        case O_SYM: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || hotd_parse_u64(eq + 1, &v) != 0) {
                fprintf(stderr, "hotd relocate: --sym wants NAME=ADDR, got '%s'\n", optarg);
                goto done;
            }
            *eq = '\0';
            symtab_add(&syms, optarg, v);
            *eq = '=';
            break;
        }
        case O_ARCH: arch_name = optarg; break;
        case O_TEXT: case O_DATA: case O_RODATA: case O_SDATA: case O_BSS:
            if (hotd_parse_u64(optarg, &v) != 0) {
                fprintf(stderr, "hotd relocate: '%s' is not an address\n", optarg);
                goto done;
            }
            if (c == O_TEXT) text = v;
            else if (c == O_DATA) data = v;
            else pctx.base[c == O_RODATA ? HR_REGION_RODATA : c == O_SDATA ? HR_REGION_SDATA
                                                                           : HR_REGION_BSS] = v;
            break;
        case O_OUT: out = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(help, stdout); rc = 0; goto done;
        default: fputs(help, stderr); goto done;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "hotd relocate: expected one MODULE.o\n%s", help);
        goto done;
    }
    const char *path = argv[optind];
    size_t size = 0;
    char *img;
    if (hotd_read_file(path, &img, &size, msg, sizeof msg) != 0) {
        fprintf(stderr, "hotd relocate: %s\n", msg);
        goto done;
    }
    enum hr_arch arch;
    if (arch_name ? hr_arch_from_name(arch_name, &arch) != 0
                  : guess_arch((const unsigned char *)img, size, &arch) != 0) {
        if (arch_name)
            fprintf(stderr, "hotd relocate: unknown --arch '%s' (x86_64, rv32, rv64, xtensa)\n",
                    arch_name);
        else
            fprintf(stderr, "hotd relocate: %s: cannot tell the architecture; give --arch\n",
                    path);
        free(img);
        goto done;
    }
    struct hr_port port;
    host_port_init(&port, &pctx, text, data);
    struct hr_load_config cfg = {.arch = arch, .port = &port, .resolve = symtab_resolve, .resolve_ctx = &syms};
    struct hr_module *mod;
    struct hr_error err;
    if (hr_module_load(&cfg, img, size, &mod, &err) != HR_OK) {
        fprintf(stderr, "hotd relocate: %s: error: %s\n", path, err.msg);
        free(img);
        rc = 1;
        goto done;
    }
    free(img);
    if (!quiet)
        report(mod, path, arch);
    rc = out && write_out(mod, out) != 0 ? 2 : 0;
    hr_module_free(mod);
done:
    symtab_free(&syms);
    return rc;
}
