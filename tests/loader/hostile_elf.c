/* loader_hostile: reading and patching ELF fields by offset, for either class,
 * and finding the sections and symbols the targeted corruptions aim at.
 * Reads outside the image give 0 or "", so the test itself never over-reads,
 * whatever module it is given. */
#include <string.h>

#include "hostile.h"

#define FLD(T64, T32, m)                                                                     \
    {offsetof(T64, m), sizeof(((T64 *)0)->m), offsetof(T32, m), sizeof(((T32 *)0)->m)}

const struct fld eh_f[] = {
    [EH_TYPE] = FLD(Elf64_Ehdr, Elf32_Ehdr, e_type),
    [EH_MACHINE] = FLD(Elf64_Ehdr, Elf32_Ehdr, e_machine),
    [EH_SHOFF] = FLD(Elf64_Ehdr, Elf32_Ehdr, e_shoff),
    [EH_SHENTSIZE] = FLD(Elf64_Ehdr, Elf32_Ehdr, e_shentsize),
    [EH_SHNUM] = FLD(Elf64_Ehdr, Elf32_Ehdr, e_shnum),
    [EH_SHSTRNDX] = FLD(Elf64_Ehdr, Elf32_Ehdr, e_shstrndx),
};
const struct fld sh_f[] = {
    [SH_NAME] = FLD(Elf64_Shdr, Elf32_Shdr, sh_name),
    [SH_TYPE] = FLD(Elf64_Shdr, Elf32_Shdr, sh_type),
    [SH_FLAGS] = FLD(Elf64_Shdr, Elf32_Shdr, sh_flags),
    [SH_OFFSET] = FLD(Elf64_Shdr, Elf32_Shdr, sh_offset),
    [SH_SIZE] = FLD(Elf64_Shdr, Elf32_Shdr, sh_size),
    [SH_LINK] = FLD(Elf64_Shdr, Elf32_Shdr, sh_link),
    [SH_INFO] = FLD(Elf64_Shdr, Elf32_Shdr, sh_info),
    [SH_ADDRALIGN] = FLD(Elf64_Shdr, Elf32_Shdr, sh_addralign),
    [SH_ENTSIZE] = FLD(Elf64_Shdr, Elf32_Shdr, sh_entsize),
};
const struct fld st_f[] = {
    [ST_NAME] = FLD(Elf64_Sym, Elf32_Sym, st_name),
    [ST_INFO] = FLD(Elf64_Sym, Elf32_Sym, st_info),
    [ST_SHNDX] = FLD(Elf64_Sym, Elf32_Sym, st_shndx),
    [ST_VALUE] = FLD(Elf64_Sym, Elf32_Sym, st_value),
};
const struct fld ra_f[] = {
    [RA_OFFSET] = FLD(Elf64_Rela, Elf32_Rela, r_offset),
    [RA_INFO] = FLD(Elf64_Rela, Elf32_Rela, r_info),
};

static uint64_t getle(const uint8_t *p, unsigned w)
{
    uint64_t v = 0;
    for (unsigned i = w; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static void putle(uint8_t *p, unsigned w, uint64_t v)
{
    for (unsigned i = 0; i < w; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Field `f` of the record at file offset `base`; 0 if it lies outside. */
uint64_t fget(const struct elfv *e, uint64_t base, struct fld f)
{
    unsigned off = e->is64 ? f.off64 : f.off32, w = e->is64 ? f.w64 : f.w32;
    if (base > e->n || off + w > e->n - base)
        return 0;
    return getle(e->b + base + off, w);
}

void fset(struct elfv *e, uint64_t base, struct fld f, uint64_t v)
{
    unsigned off = e->is64 ? f.off64 : f.off32, w = e->is64 ? f.w64 : f.w32;
    if (base <= e->n && off + w <= e->n - base)
        putle(e->b + base + off, w, v);
}

uint64_t eh(const struct elfv *e, int f) { return fget(e, 0, eh_f[f]); }
void eh_set(struct elfv *e, int f, uint64_t v) { fset(e, 0, eh_f[f], v); }
static uint64_t shdr_at(const struct elfv *e, unsigned i)
{
    return eh(e, EH_SHOFF) + (uint64_t)i * (e->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr));
}
uint64_t sh(const struct elfv *e, unsigned i, int f) { return fget(e, shdr_at(e, i), sh_f[f]); }
void sh_set(struct elfv *e, unsigned i, int f, uint64_t v)
{
    fset(e, shdr_at(e, i), sh_f[f], v);
}
unsigned shnum(const struct elfv *e) { return (unsigned)eh(e, EH_SHNUM); }
static size_t sym_size(const struct elfv *e) { return e->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym); }

static const char *str_at(const struct elfv *e, unsigned strsec, uint64_t off)
{
    uint64_t o = sh(e, strsec, SH_OFFSET), n = sh(e, strsec, SH_SIZE);
    if (off >= n || o > e->n || n > e->n - o)
        return "";
    return (const char *)e->b + o + off;
}

static const char *secname(const struct elfv *e, unsigned i)
{
    return str_at(e, (unsigned)eh(e, EH_SHSTRNDX), sh(e, i, SH_NAME));
}

int find_type(const struct elfv *e, uint32_t type)
{
    for (unsigned i = 1; i < shnum(e); i++)
        if (sh(e, i, SH_TYPE) == type)
            return (int)i;
    return -1;
}

/* First loaded PROGBITS section with contents, other than `not`. */
int find_alloc_progbits(const struct elfv *e, int not)
{
    for (unsigned i = 1; i < shnum(e); i++)
        if ((int)i != not && sh(e, i, SH_TYPE) == SHT_PROGBITS && (sh(e, i, SH_FLAGS) & SHF_ALLOC) &&
            sh(e, i, SH_SIZE) > 0 && strcmp(secname(e, i), ".eh_frame") != 0)
            return (int)i;
    return -1;
}

int find_loaded_nobits(const struct elfv *e)
{
    int bss = find_type(e, SHT_NOBITS);
    if (bss > 0 && sh(e, (unsigned)bss, SH_SIZE) == 0)
        bss = -1; /* an empty .bss is not loaded at all */
    return bss;
}

/* First RELA section that relocates a loaded section with contents. */
int find_rela(const struct elfv *e)
{
    for (unsigned i = 1; i < shnum(e); i++) {
        unsigned t = (unsigned)sh(e, i, SH_INFO);
        /* RELA, or REL (ARM): the offset and info fields are where RELA's are. */
        unsigned type = (unsigned)sh(e, i, SH_TYPE);
        if ((type == SHT_RELA || type == SHT_REL) && sh(e, i, SH_SIZE) >= sh(e, i, SH_ENTSIZE) &&
            sh(e, i, SH_ENTSIZE) && t < shnum(e) &&
            (sh(e, t, SH_FLAGS) & SHF_ALLOC) && sh(e, t, SH_TYPE) == SHT_PROGBITS &&
            strcmp(secname(e, t), ".eh_frame") != 0)
            return (int)i;
    }
    return -1;
}

uint64_t sym_at(const struct elfv *e, unsigned i)
{
    return sh(e, (unsigned)find_type(e, SHT_SYMTAB), SH_OFFSET) + i * sym_size(e);
}
unsigned nsyms(const struct elfv *e)
{
    return (unsigned)(sh(e, (unsigned)find_type(e, SHT_SYMTAB), SH_SIZE) / sym_size(e));
}
const char *symname(const struct elfv *e, unsigned i)
{
    unsigned strsec = (unsigned)sh(e, (unsigned)find_type(e, SHT_SYMTAB), SH_LINK);
    return str_at(e, strsec, fget(e, sym_at(e, i), st_f[ST_NAME]));
}

/* First global symbol that is defined (want_undef false) or a named import. */
int find_global(const struct elfv *e, bool want_undef)
{
    for (unsigned i = 1; i < nsyms(e); i++) {
        uint64_t info = fget(e, sym_at(e, i), st_f[ST_INFO]);
        uint64_t shndx = fget(e, sym_at(e, i), st_f[ST_SHNDX]);
        if ((info >> 4) != STB_GLOBAL || *symname(e, i) == '\0' ||
            strcmp(symname(e, i), "_GLOBAL_OFFSET_TABLE_") == 0) /* the loader's own */
            continue;
        if (want_undef ? shndx == SHN_UNDEF : (shndx != SHN_UNDEF && shndx < SHN_LORESERVE))
            return (int)i;
    }
    return -1;
}
