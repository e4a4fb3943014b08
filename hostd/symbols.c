#define _POSIX_C_SOURCE 200809L
#include "symbols.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int symtab_add(struct symtab *t, const char *name, hr_addr_t addr)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct sym_entry *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n].name = strdup(name);
    if (!t->v[t->n].name)
        return -1;
    t->v[t->n++].addr = addr;
    return 0;
}

int symtab_load_elf(struct symtab *t, const char *path, char *msg, size_t msgsize)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(msg, msgsize, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    int rc = -1;
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        snprintf(msg, msgsize, "%s: not an ELF file", path);
        goto out;
    }
    size_t found = 0;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 1; d && i < n; i++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
                continue;
            int bind = GELF_ST_BIND(s.st_info), type = GELF_ST_TYPE(s.st_info);
            if ((bind != STB_GLOBAL && bind != STB_WEAK) || type == STT_SECTION ||
                type == STT_FILE)
                continue;
            const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
            if (!name || !*name)
                continue;
            if (symtab_add(t, name, s.st_value) != 0) {
                snprintf(msg, msgsize, "out of memory");
                goto out;
            }
            found++;
        }
    }
    if (!found) {
        snprintf(msg, msgsize, "%s: no global symbols (was the firmware stripped?)", path);
        goto out;
    }
    rc = 0;
out:
    if (elf)
        elf_end(elf);
    close(fd);
    return rc;
}

int symtab_resolve(void *ctx, const char *name, hr_addr_t *addr)
{
    const struct symtab *t = ctx;
    for (size_t i = t->n; i-- > 0;)
        if (strcmp(t->v[i].name, name) == 0) {
            *addr = t->v[i].addr;
            return 0;
        }
    return -1;
}

void symtab_free(struct symtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].name);
    free(t->v);
    memset(t, 0, sizeof *t);
}
