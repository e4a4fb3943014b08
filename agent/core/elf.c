#include "elf.h"

#include <string.h>

#include "fmt.h"

/* Does [off, off+len) lie inside the image? Written to be overflow-proof. */
static bool in_image(const struct hr_elf *elf, uint64_t off, uint64_t len)
{
    return off <= elf->size && len <= elf->size - off;
}

static const char *machine_name(uint16_t m)
{
    switch (m) {
    case HR_EM_X86_64: return "x86-64";
    case HR_EM_RISCV: return "RISC-V";
    case HR_EM_XTENSA: return "Xtensa";
    case 3: return "i386";
    case HR_EM_ARM: return "ARM";
    case 183: return "AArch64";
    default: return "unknown";
    }
}

void hr_elf_shdr(const struct hr_elf *elf, uint32_t idx, struct hr_shdr *s)
{
    const uint8_t *p = elf->img + elf->shoff + (uint64_t)idx * (elf->is64 ? 64 : 40);
    s->name = hr_get32(p);
    s->type = hr_get32(p + 4);
    if (elf->is64) {
        s->flags = hr_get64(p + 8);
        s->offset = hr_get64(p + 24);
        s->size = hr_get64(p + 32);
        s->link = hr_get32(p + 40);
        s->info = hr_get32(p + 44);
        s->addralign = hr_get64(p + 48);
        s->entsize = hr_get64(p + 56);
    } else {
        s->flags = hr_get32(p + 8);
        s->offset = hr_get32(p + 16);
        s->size = hr_get32(p + 20);
        s->link = hr_get32(p + 24);
        s->info = hr_get32(p + 28);
        s->addralign = hr_get32(p + 32);
        s->entsize = hr_get32(p + 36);
    }
}

/* Every string table ends in a NUL (checked at open): any offset inside one
 * starts a terminated string. */
const char *hr_elf_str(const struct hr_elf *elf, uint32_t strsec, uint32_t off)
{
    if (strsec == 0 || strsec >= elf->shnum)
        return NULL;
    struct hr_shdr sh;
    hr_elf_shdr(elf, strsec, &sh);
    if (sh.type != HR_SHT_STRTAB || off >= sh.size)
        return NULL;
    return (const char *)elf->img + sh.offset + off;
}

const char *hr_elf_secname(const struct hr_elf *elf, uint32_t idx)
{
    uint32_t name = hr_get32(elf->img + elf->shoff + (uint64_t)idx * (elf->is64 ? 64 : 40));
    return name < elf->shstr_size ? (const char *)elf->img + elf->shstr_off + name
                                  : "<bad name>";
}

#if HR_ELF64
/* A field of a table elf->aligned vouches for: one load, else byte by byte. */
static uint64_t field64(const struct hr_elf *elf, const uint8_t *p)
{
#if HR_LE_LOADS
    if (elf->aligned) {
        uint64_t v;
        __builtin_memcpy(&v, __builtin_assume_aligned(p, 8), 8);
        return v;
    }
#endif
    return hr_get64(p);
}

void hr_elf_sym64(const struct hr_elf *elf, uint32_t idx, struct hr_sym *out)
{
    const uint8_t *p = elf->img + elf->sym_off + (size_t)idx * 24;
    uint32_t w = elf->aligned ? hr_load32(p + 4) : hr_get32(p + 4); /* info, other, shndx */
    out->name = elf->aligned ? hr_load32(p) : hr_get32(p);
    out->bind = (uint8_t)(w >> 4 & 0xf);
    out->type = (uint8_t)(w & 0xf);
    out->shndx = (uint16_t)(w >> 16);
    out->value = (hr_addr_t)field64(elf, p + 8);
    out->size = (hr_addr_t)field64(elf, p + 16);
}
#endif

const char *hr_elf_symname(const struct hr_elf *elf, const struct hr_sym *sym)
{
    if (sym->type == HR_STT_SECTION && sym->shndx < elf->shnum)
        return hr_elf_secname(elf, sym->shndx);
    return sym->name < elf->str_size ? (const char *)elf->img + elf->str_off + sym->name
                                     : "<bad name>";
}

const uint8_t *hr_elf_rela_table(const struct hr_elf *elf, const struct hr_shdr *sh)
{
    return elf->img + (size_t)sh->offset;
}

size_t hr_elf_rela_count(const struct hr_elf *elf, const struct hr_shdr *sh)
{
    size_t ent = sh->type == HR_SHT_REL ? (elf->is64 ? 16 : 8) : (elf->is64 ? 24 : 12);
    return (size_t)sh->size / ent;
}

#if HR_ELF64
void hr_elf_rela64(const struct hr_elf *elf, const uint8_t *table, size_t i, struct hr_rela *r)
{
    const uint8_t *p = table + i * 24;
    uint64_t info = field64(elf, p + 8);
    r->offset = (hr_addr_t)field64(elf, p);
    r->type = (uint32_t)info;
    r->sym = (uint32_t)(info >> 32);
    r->addend = (hr_addend_t)field64(elf, p + 16);
}
#endif

enum hr_status hr_elf_open_any(struct hr_elf *elf, const void *img, size_t size,
                               struct hr_error *err)
{
    const uint8_t *p = img;
    bool is64 = p && size > 4 && p[4] == 2;
    uint16_t machine = p && size >= 20 ? hr_get16(p + 18) : 0;
    if (machine != HR_EM_X86_64 && machine != HR_EM_RISCV && machine != HR_EM_XTENSA &&
        machine != HR_EM_ARM)
        machine = HR_EM_X86_64; /* let hr_elf_open name the mismatch */
    return hr_elf_open(elf, img, size, is64, machine, err);
}

/* The symbol table's strings and the section names, read at every
 * relocation and name; relocation sections tied to that symbol table. */
static enum hr_status find_tables(struct hr_elf *elf, struct hr_error *err)
{
    struct hr_shdr st;
    hr_elf_shdr(elf, elf->symtab, &st);
    struct hr_shdr str;
    hr_elf_shdr(elf, st.link, &str);
    if (str.type != HR_SHT_STRTAB)
        return hr_fail(err, HR_E_FORMAT, "symbol table: section %u is not a string table",
                       st.link);
    elf->sym_off = (size_t)st.offset; /* inside the image: checked above */
    elf->str_off = (size_t)str.offset;
    elf->str_size = (size_t)str.size;
    struct hr_shdr names;
    hr_elf_shdr(elf, elf->shstrndx, &names);
    if (names.type == HR_SHT_STRTAB) {
        elf->shstr_off = (size_t)names.offset;
        elf->shstr_size = (size_t)names.size;
    }
    /* Relocation sections must use this symbol table; checked here so that
     * the relocation pass can trust sh_link. */
    for (uint32_t i = 1; i < elf->shnum; i++) {
        struct hr_shdr sh;
        hr_elf_shdr(elf, i, &sh);
        if ((sh.type == HR_SHT_RELA || sh.type == HR_SHT_REL) && sh.link != elf->symtab)
            return hr_fail(err, HR_E_FORMAT, "section %u: relocations refer to section %u, not "
                           "the symbol table", i, sh.link);
    }
    return HR_OK;
}

static enum hr_status check_sections(struct hr_elf *elf, struct hr_error *err)
{
    uint32_t ent = elf->is64 ? 24 : 16;
    uint32_t relent = elf->is64 ? 24 : 12;
    elf->symtab = 0;
    for (uint32_t i = 1; i < elf->shnum; i++) {
        struct hr_shdr sh;
        hr_elf_shdr(elf, i, &sh);
        if (sh.type != HR_SHT_NOBITS && !in_image(elf, sh.offset, sh.size))
            return hr_fail(err, HR_E_FORMAT,
                           "section %u: contents (offset %#llx, size %#llx) lie outside the "
                           "%zu-byte image", i, (unsigned long long)sh.offset,
                           (unsigned long long)sh.size, elf->size);
        if (sh.addralign & (sh.addralign - 1))
            return hr_fail(err, HR_E_FORMAT, "section %u: alignment %llu is not a power of two",
                           i, (unsigned long long)sh.addralign);
        if ((sh.type == HR_SHT_SYMTAB || sh.type == HR_SHT_RELA || sh.type == HR_SHT_REL) &&
            sh.offset % (elf->is64 ? 8 : 4))
            elf->aligned = false;
        switch (sh.type) {
        case HR_SHT_SYMTAB:
            if (elf->symtab)
                return hr_fail(err, HR_E_FORMAT, "more than one symbol table (sections %u and %u)",
                               elf->symtab, i);
            if (sh.entsize != ent || sh.size % ent || sh.size / ent > UINT32_MAX)
                return hr_fail(err, HR_E_FORMAT, "symbol table: bad entry size %llu or size %llu",
                               (unsigned long long)sh.entsize, (unsigned long long)sh.size);
            if (sh.link == 0 || sh.link >= elf->shnum)
                return hr_fail(err, HR_E_FORMAT, "symbol table: string table index %u is out of "
                               "range (%u sections)", sh.link, elf->shnum);
            elf->symtab = i;
            elf->nsyms = (uint32_t)(sh.size / ent);
            break;
        case HR_SHT_STRTAB:
            if (sh.size == 0 || elf->img[sh.offset + sh.size - 1] != '\0')
                return hr_fail(err, HR_E_FORMAT, "section %u: string table is not NUL-terminated",
                               i);
            break;
        case HR_SHT_RELA:
        case HR_SHT_REL: {
            /* REL: no addend field (it is in the place: core/relocate.c). */
            uint32_t n = sh.type == HR_SHT_RELA ? relent : relent - (elf->is64 ? 8 : 4);
            if (sh.entsize != n || sh.size % n)
                return hr_fail(err, HR_E_FORMAT, "section %u: relocation entry size %llu and "
                               "section size %llu, expected a multiple of %u-byte entries", i,
                               (unsigned long long)sh.entsize, (unsigned long long)sh.size, n);
            if (sh.info == 0 || sh.info >= elf->shnum)
                return hr_fail(err, HR_E_FORMAT, "section %u: relocates section %u, which does "
                               "not exist", i, sh.info);
            break;
        }
        case HR_SHT_SYMTAB_SHNDX:
            return hr_fail(err, HR_E_FORMAT, "extended section indices (SHT_SYMTAB_SHNDX) are "
                           "not supported: the module has too many sections");
        default:
            break;
        }
    }
    return elf->symtab ? find_tables(elf, err)
                       : hr_fail(err, HR_E_FORMAT, "no symbol table: the module was stripped "
                                 "of symbols (keep them; strip only debug info)");
}


enum hr_status hr_elf_open(struct hr_elf *elf, const void *img, size_t size, bool want64,
                           uint16_t want_machine, struct hr_error *err)
{
    const uint8_t *p = img;
    memset(elf, 0, sizeof *elf);
    elf->img = p;
    elf->size = size;
    if (!p || size < 16 || memcmp(p, "\177ELF", 4) != 0)
        return hr_fail(err, HR_E_FORMAT, "not an ELF file (%zu bytes, no ELF magic)", size);
    if (p[4] != 1 && p[4] != 2)
        return hr_fail(err, HR_E_FORMAT, "ELF class %u is invalid", p[4]);
    elf->is64 = p[4] == 2;
    if (p[5] != 1)
        return hr_fail(err, HR_E_FORMAT, "ELF data encoding %u: only little-endian is supported",
                       p[5]);
    size_t ehsize = elf->is64 ? 64 : 52;
    if (size < ehsize)
        return hr_fail(err, HR_E_FORMAT, "truncated ELF header: %zu of %zu bytes", size, ehsize);
    uint16_t type = hr_get16(p + 16);
    elf->machine = hr_get16(p + 18);
    if (type != 1)
        return hr_fail(err, HR_E_FORMAT, "ELF type %u is not a relocatable object (ET_REL): "
                       "build the module with -c or ld -r", type);
    if (elf->machine != want_machine)
        return hr_fail(err, HR_E_ARCH, "module is built for %s (e_machine %u), the loader "
                       "expects %s (e_machine %u)", machine_name(elf->machine), elf->machine,
                       machine_name(want_machine), want_machine);
    if (elf->is64 != want64)
        return hr_fail(err, HR_E_ARCH, "module is ELF%d, the loader expects ELF%d",
                       elf->is64 ? 64 : 32, want64 ? 64 : 32);
    uint16_t shentsize, shnum, shstrndx;
    if (elf->is64) {
        elf->shoff = hr_get64(p + 40);
        shentsize = hr_get16(p + 58);
        shnum = hr_get16(p + 60);
        shstrndx = hr_get16(p + 62);
    } else {
        elf->shoff = hr_get32(p + 32);
        shentsize = hr_get16(p + 46);
        shnum = hr_get16(p + 48);
        shstrndx = hr_get16(p + 50);
    }
    if (shentsize != (elf->is64 ? 64 : 40))
        return hr_fail(err, HR_E_FORMAT, "section header size %u, expected %u", shentsize,
                       elf->is64 ? 64 : 40);
    if (shnum == 0 || shstrndx == HR_SHN_XINDEX)
        return hr_fail(err, HR_E_FORMAT, "no section headers (or extended numbering, which is "
                       "not supported)");
    if (!in_image(elf, elf->shoff, (uint64_t)shnum * shentsize))
        return hr_fail(err, HR_E_FORMAT, "section headers (%u at offset %#llx) lie outside the "
                       "%zu-byte image", shnum, (unsigned long long)elf->shoff, size);
    elf->shnum = shnum;
    if (shstrndx == 0 || shstrndx >= shnum)
        return hr_fail(err, HR_E_FORMAT, "section name table index %u is out of range (%u "
                       "sections)", shstrndx, shnum);
    elf->shstrndx = shstrndx;
    elf->aligned = HR_LE_LOADS && (uintptr_t)p % (elf->is64 ? 8 : 4) == 0;
    return check_sections(elf, err);
}
