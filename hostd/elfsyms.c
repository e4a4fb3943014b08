/* A module's exported functions and imported symbols, from its ELF symbol
 * table (libelf); and write-if-changed for generated files. */
#define _POSIX_C_SOURCE 200809L
#include "elfsyms.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotd.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop duplicates (a weak and a global of the same name cannot
 * both be in one table, but `ld -r` inputs are not ours to trust). */
static void sort_unique(char **v, size_t *n)
{
    if (*n == 0)
        return;
    qsort(v, *n, sizeof *v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < *n; i++) {
        if (strcmp(v[i], v[k - 1]) == 0)
            free(v[i]);
        else
            v[k++] = v[i];
    }
    *n = k;
}

static int push(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv)
        return -1;
    *v = nv;
    if (!(nv[*n] = strdup(s)))
        return -1;
    (*n)++;
    return 0;
}

/* "ABI=N" in the .xtensa.info note the Xtensa assembler writes: 0 is the
 * windowed ABI, 1 call0. -1 when there is no such note. */
static int xtensa_abi(Elf *elf, size_t shstrndx)
{
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *name;
        if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
            strcmp(name, ".xtensa.info") != 0)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        const char *p = d ? d->d_buf : NULL;
        for (size_t i = 0; p && i + 5 < d->d_size; i++)
            if (!memcmp(p + i, "ABI=", 4) && p[i + 4] >= '0' && p[i + 4] <= '9')
                return p[i + 4] - '0';
    }
    return -1;
}

static uint32_t uleb(const unsigned char **p, const unsigned char *end)
{
    uint32_t v = 0;
    for (unsigned shift = 0; *p < end && shift < 32; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

/* Tag_CPU_arch in the "aeabi" file attributes of .ARM.attributes (the
 * ARM ELF's build attributes: 'A', then a vendor section holding a
 * Tag_File subsection of tag/value pairs; the assembler writes CPU_name,
 * a string, before CPU_arch). -1 when absent or not found among the
 * first attributes. */
static int arm_cpu_arch(Elf *elf, size_t shstrndx)
{
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *name;
        if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
            strcmp(name, ".ARM.attributes") != 0)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        const unsigned char *p = d ? d->d_buf : NULL, *end = p ? p + d->d_size : NULL;
        /* 'A', a 4-byte length, "aeabi\0", Tag_File (1), a 4-byte size. */
        if (!p || d->d_size < 16 || p[0] != 'A' || memcmp(p + 5, "aeabi", 6) != 0 || p[11] != 1)
            return -1;
        for (p += 16; p < end;) {
            uint32_t tag = uleb(&p, end);
            if (tag == 4 || tag == 5) { /* CPU_raw_name, CPU_name: strings */
                while (p < end && *p++)
                    ;
                continue;
            }
            uint32_t v = uleb(&p, end);
            if (tag == 6)
                return (int)v;
            if (tag > 31)
                return -1; /* past the plain numbers: not worth decoding further */
        }
    }
    return -1;
}

static int read_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct modsyms *m,
                       const char *path, char *msg, size_t msgsize)
{
    Elf_Data *d = elf_getdata(scn, NULL);
    Elf_Data *xd = NULL;
    for (Elf_Scn *s = NULL; (s = elf_nextscn(elf, s));) {
        GElf_Shdr xsh;
        if (gelf_getshdr(s, &xsh) && xsh.sh_type == SHT_SYMTAB_SHNDX &&
            xsh.sh_link == elf_ndxscn(scn))
            xd = elf_getdata(s, NULL);
    }
    size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
    for (size_t i = 1; d && i < n; i++) {
        GElf_Sym s;
        Elf32_Word xndx = 0;
        if (!gelf_getsymshndx(d, xd, (int)i, &s, &xndx))
            continue;
        int bind = GELF_ST_BIND(s.st_info), type = GELF_ST_TYPE(s.st_info);
        const char *name = elf_strptr(elf, sh->sh_link, s.st_name);
        if ((bind != STB_GLOBAL && bind != STB_WEAK) || !name || !*name)
            continue;
        size_t shndx = s.st_shndx == SHN_XINDEX ? xndx : s.st_shndx;
        int rc = 0;
        if (s.st_shndx == SHN_UNDEF) {
            /* The loader provides its own GOT: never a firmware symbol. */
            if (strcmp(name, "_GLOBAL_OFFSET_TABLE_") != 0)
                rc = push(&m->imports, &m->nimports, name);
        } else if (type == STT_FUNC && (s.st_shndx < SHN_LORESERVE || s.st_shndx == SHN_XINDEX)) {
            GElf_Shdr dsh;
            Elf_Scn *def = elf_getscn(elf, shndx);
            /* Only code the device loads can be called through a stub. */
            if (def && gelf_getshdr(def, &dsh) && (dsh.sh_flags & SHF_ALLOC))
                rc = push(&m->exports, &m->nexports, name);
        }
        if (rc != 0) {
            snprintf(msg, msgsize, "%s: out of memory", path);
            return -1;
        }
    }
    return 0;
}

int modsyms_read(const char *path, struct modsyms *m, char *msg, size_t msgsize)
{
    memset(m, 0, sizeof *m);
    m->xtensa_abi = -1;
    m->arm_cpu_arch = -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(msg, msgsize, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    GElf_Ehdr eh;
    size_t shstrndx;
    int rc = -1, symtabs = 0;
    if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
        snprintf(msg, msgsize, "%s: not an ELF file", path);
        goto out;
    }
    if (eh.e_type != ET_REL) {
        snprintf(msg, msgsize, "%s: not a relocatable object (ELF type %u, want ET_REL as "
                 "'gcc -c' or 'ld -r' produce)", path, (unsigned)eh.e_type);
        goto out;
    }
    if (elf_getshdrstrndx(elf, &shstrndx) != 0) {
        snprintf(msg, msgsize, "%s: no section name table: %s", path, elf_errmsg(-1));
        goto out;
    }
    m->machine = eh.e_machine;
    m->elfclass = gelf_getclass(elf);
    m->xtensa_abi = xtensa_abi(elf, shstrndx);
    m->arm_cpu_arch = arm_cpu_arch(elf, shstrndx);
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
            continue;
        symtabs++;
        if (read_symtab(elf, scn, &sh, m, path, msg, msgsize) != 0)
            goto out;
    }
    if (!symtabs) {
        snprintf(msg, msgsize, "%s: no symbol table (was the module stripped?)", path);
        goto out;
    }
    sort_unique(m->exports, &m->nexports);
    sort_unique(m->imports, &m->nimports);
    rc = 0;
out:
    if (elf)
        elf_end(elf);
    close(fd);
    if (rc != 0)
        modsyms_free(m);
    return rc;
}

/* The undefined global symbols of one ELF object's symbol tables. */
static int object_undefined(Elf *elf, char ***v, size_t *n)
{
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        for (size_t i = 1; d && i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym s;
            const char *name;
            if (!gelf_getsym(d, (int)i, &s) || s.st_shndx != SHN_UNDEF ||
                (GELF_ST_BIND(s.st_info) != STB_GLOBAL && GELF_ST_BIND(s.st_info) != STB_WEAK))
                continue;
            if ((name = elf_strptr(elf, sh.sh_link, s.st_name)) && *name && push(v, n, name))
                return -1;
        }
    }
    return 0;
}

int undefined_symbols(const char *path, char ***v, size_t *n, char *msg, size_t msgsize)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(msg, msgsize, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    elf_version(EV_CURRENT);
    Elf *top = elf_begin(fd, ELF_C_READ, NULL);
    int rc = 0;
    if (top && elf_kind(top) == ELF_K_ELF) {
        rc = object_undefined(top, v, n);
    } else if (top && elf_kind(top) == ELF_K_AR) {
        Elf_Cmd cmd = ELF_C_READ;
        for (Elf *m; rc == 0 && (m = elf_begin(fd, cmd, top)); elf_end(m)) {
            if (elf_kind(m) == ELF_K_ELF)
                rc = object_undefined(m, v, n);
            cmd = elf_next(m);
        }
    }
    if (rc)
        snprintf(msg, msgsize, "%s: out of memory", path);
    if (top)
        elf_end(top);
    close(fd);
    if (rc == 0)
        sort_unique(*v, n);
    return rc;
}

void modsyms_free(struct modsyms *m)
{
    for (size_t i = 0; i < m->nexports; i++)
        free(m->exports[i]);
    for (size_t i = 0; i < m->nimports; i++)
        free(m->imports[i]);
    free(m->exports);
    free(m->imports);
    m->exports = m->imports = NULL;
    m->nexports = m->nimports = 0;
}

/* 1 when `path` holds exactly data[0..len). */
static int same_content(const char *path, const char *data, size_t len)
{
    char *old;
    size_t n;
    int same = hotd_read_file(path, &old, &n, NULL, 0) == 0 && n == len && !memcmp(old, data, len);
    free(old);
    return same;
}

int write_if_changed(const char *dir, const char *name, const char *data, size_t len,
                     char *msg, size_t msgsize)
{
    size_t plen = strlen(dir) + strlen(name) + 16;
    char *path = malloc(plen), *tmp = malloc(plen);
    int rc = -1;
    if (!path || !tmp) {
        snprintf(msg, msgsize, "out of memory");
        goto out;
    }
    snprintf(path, plen, "%s/%s", dir, name);
    snprintf(tmp, plen, "%s/.%s.tmp", dir, name);
    if (same_content(path, data, len)) {
        rc = 0;
        goto out;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(msg, msgsize, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    int ok = fwrite(data, 1, len, f) == len;
    int err = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        err = errno;
    }
    if (!ok) {
        snprintf(msg, msgsize, "%s: cannot write: %s", tmp, strerror(err));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        snprintf(msg, msgsize, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 1;
out:
    free(path);
    free(tmp);
    return rc;
}
