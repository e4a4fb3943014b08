/* hotd bind: bind a module to the firmware it was built for. The output is
 * the module with a .hotreload.fwid section holding the firmware's build-id
 * (the device refuses a module bound to other firmware); with --absolute its
 * imports also become absolute symbols at the firmware's addresses, so a
 * device without a symbol table of its own can load it. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotd.h"
#include "options.h"
#include "symbols.h"

enum { FIRMWARE, OUT, ABSOLUTE };
static const struct hotd_opt options[] = {
    [FIRMWARE] = {"firmware", 0, "FW.elf", "the firmware the module is for"},
    [OUT] = {"out", 'o', "OUT.o", "the bound module to write"},
    [ABSOLUTE] = {"absolute", 0, NULL, "also turn every import into an absolute symbol\n"
                                       "at the address FW.elf gives it (for devices\n"
                                       "that cannot look symbols up)"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "bind",
    .max_operands = 1,
    .opts = options,
    .usage = "usage: hotd bind MODULE.o --firmware FW.elf -o OUT.o [--absolute]\n"
             "\n"
             "Write OUT.o: MODULE.o with a .hotreload.fwid section holding FW.elf's build-id.\n",
};

#define FWID_SECTION ".hotreload.fwid"

static int copy_file(const char *from, const char *to, char *msg, size_t msgsize)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (rc != 0 || (in && ferror(in)))
        snprintf(msg, msgsize, "copying %s to %s: %s", from, to, strerror(errno));
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

/* Append a section named FWID_SECTION holding `id`; libelf lays the file out
 * again on elf_update. */
static int add_fwid(Elf *elf, const unsigned char *id, size_t len, void *keep[2], char *msg,
                    size_t msgsize)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0) {
        snprintf(msg, msgsize, "no section name table");
        return -1;
    }
    for (Elf_Scn *s = NULL; (s = elf_nextscn(elf, s));) {
        GElf_Shdr sh;
        const char *name = gelf_getshdr(s, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
        if (name && !strcmp(name, FWID_SECTION)) {
            snprintf(msg, msgsize, "the module is already bound (it has %s)", FWID_SECTION);
            return -1;
        }
    }
    Elf_Scn *strscn = elf_getscn(elf, shstrndx);
    GElf_Shdr strsh;
    Elf_Data *old = elf_getdata(strscn, NULL);
    if (!gelf_getshdr(strscn, &strsh) || !old) {
        snprintf(msg, msgsize, "cannot read the section name table");
        return -1;
    }
    /* libelf reads these buffers until elf_end; the caller frees them then. */
    size_t off = old->d_size;
    char *names = keep[0] = malloc(off + sizeof FWID_SECTION);
    unsigned char *copy = keep[1] = malloc(len);
    if (!names || !copy) {
        snprintf(msg, msgsize, "out of memory");
        return -1;
    }
    memcpy(names, old->d_buf, off);
    memcpy(names + off, FWID_SECTION, sizeof FWID_SECTION);
    old->d_buf = names;
    old->d_size = off + sizeof FWID_SECTION;
    strsh.sh_size = old->d_size;
    gelf_update_shdr(strscn, &strsh);
    elf_flagdata(old, ELF_C_SET, ELF_F_DIRTY);

    memcpy(copy, id, len);
    Elf_Scn *scn = elf_newscn(elf);
    Elf_Data *d = scn ? elf_newdata(scn) : NULL;
    GElf_Shdr sh;
    if (!d || !gelf_getshdr(scn, &sh)) {
        snprintf(msg, msgsize, "cannot add a section: %s", elf_errmsg(-1));
        return -1;
    }
    d->d_buf = copy;
    d->d_size = len;
    d->d_type = ELF_T_BYTE;
    d->d_align = 1;
    sh.sh_name = (GElf_Word)off;
    sh.sh_type = SHT_PROGBITS;
    sh.sh_flags = 0;
    sh.sh_size = len;
    sh.sh_addralign = 1;
    gelf_update_shdr(scn, &sh);
    return 0;
}

/* Every named undefined symbol becomes SHN_ABS at the firmware's address. */
static int make_absolute(Elf *elf, struct symtab *fw, char *msg, size_t msgsize)
{
    for (Elf_Scn *s = NULL; (s = elf_nextscn(elf, s));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_SYMTAB)
            continue;
        Elf_Data *d = elf_getdata(s, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 1; d && i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx != SHN_UNDEF || !sym.st_name)
                continue;
            const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
            hr_addr_t addr;
            if (!name || !strcmp(name, "_GLOBAL_OFFSET_TABLE_"))
                continue;
            if (symtab_resolve(fw, name, &addr) != 0) {
                if (GELF_ST_BIND(sym.st_info) == STB_WEAK)
                    continue;
                snprintf(msg, msgsize, "the firmware does not define '%s', which the module "
                         "imports: keep it in the firmware (hotreload_link_firmware does) and "
                         "relink", name);
                return -1;
            }
            sym.st_shndx = SHN_ABS;
            sym.st_value = addr;
            gelf_update_sym(d, (int)i, &sym);
        }
        elf_flagdata(d, ELF_C_SET, ELF_F_DIRTY);
    }
    return 0;
}

int cmd_bind(int argc, char **argv)
{
    const char *fwpath = NULL, *out = NULL;
    bool absolute = false;
    struct hotd_args a = {.cmd = &command};
    for (int o; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        switch (o) {
        case FIRMWARE: fwpath = a.value; break;
        case OUT: out = a.value; break;
        case ABSOLUTE: absolute = true; break;
        default: return hotd_args_exit(o);
        }
    }
    if (a.noperands != 1 || !fwpath || !out)
        return hotd_usage_error(&command, "MODULE.o, --firmware and -o are required");
    const char *in = a.operands[0];
    char msg[512];
    unsigned char id[64];
    size_t idlen;
    struct symtab fw = {0};
    if (hotd_read_build_id(fwpath, id, sizeof id, &idlen, msg, sizeof msg) != 0 ||
        (absolute && symtab_load_elf(&fw, fwpath, msg, sizeof msg) != 0) ||
        copy_file(in, out, msg, sizeof msg) != 0) {
        fprintf(stderr, "hotd bind: %s\n", msg);
        symtab_free(&fw);
        return 1;
    }
    elf_version(EV_CURRENT);
    int fd = open(out, O_RDWR);
    Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_RDWR, NULL) : NULL;
    GElf_Ehdr eh;
    int rc = 1;
    void *keep[2] = {NULL, NULL};
    if (!elf || !gelf_getehdr(elf, &eh) || eh.e_type != ET_REL)
        snprintf(msg, sizeof msg, "%s: not a relocatable ELF module (ET_REL)", in);
    else if (add_fwid(elf, id, idlen, keep, msg, sizeof msg) == 0 &&
             (!absolute || make_absolute(elf, &fw, msg, sizeof msg) == 0)) {
        if (elf_update(elf, ELF_C_WRITE) < 0)
            snprintf(msg, sizeof msg, "writing %s: %s", out, elf_errmsg(-1));
        else
            rc = 0;
    }
    if (elf)
        elf_end(elf);
    free(keep[0]);
    free(keep[1]);
    if (fd >= 0)
        close(fd);
    symtab_free(&fw);
    if (rc != 0) {
        fprintf(stderr, "hotd bind: %s\n", msg);
        unlink(out);
    }
    return rc;
}
