/* A checked view of an ELF relocatable object. Every accessor validates
 * offsets, sizes and indices against the image before reading; the image is
 * hostile until proven otherwise. Little-endian ELF32 and ELF64 only. */
#ifndef HR_ELF_H
#define HR_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotreload/loader.h"

/* Little-endian fields, byte by byte: any alignment, any host. */
static inline uint16_t hr_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t hr_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t hr_get64(const uint8_t *p)
{
    return (uint64_t)hr_get32(p) | (uint64_t)hr_get32(p + 4) << 32;
}
static inline void hr_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void hr_put32(uint8_t *p, uint32_t v)
{
    hr_put16(p, (uint16_t)v);
    hr_put16(p + 2, (uint16_t)(v >> 16));
}
static inline void hr_put64(uint8_t *p, uint64_t v)
{
    hr_put32(p, (uint32_t)v);
    hr_put32(p + 4, (uint32_t)(v >> 32));
}
/* Readers the relocation pass calls for every relocation: inlined even
 * where the build optimises for size. */
#if defined(__GNUC__)
#define HR_HOT static inline __attribute__((always_inline))
#else
#define HR_HOT static inline
#endif

/* An image's little-endian 32-bit word at a 4-aligned `p`, in one load on a
 * little-endian machine (HR_LE_LOADS). The builtin: device builds compile
 * with -fno-builtin, where memcpy would stay a call. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HR_LE_LOADS 1
HR_HOT uint32_t hr_load32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, __builtin_assume_aligned(p, 4), 4);
    return v;
}
#else
#define HR_LE_LOADS 0
#define hr_load32 hr_get32
#endif

#define HR_SHT_PROGBITS 1
#define HR_SHT_SYMTAB 2
#define HR_SHT_STRTAB 3
#define HR_SHT_RELA 4
#define HR_SHT_NOTE 7
#define HR_SHT_NOBITS 8
#define HR_SHT_REL 9
#define HR_SHT_INIT_ARRAY 14
#define HR_SHT_FINI_ARRAY 15
#define HR_SHT_PREINIT_ARRAY 16
#define HR_SHT_GROUP 17
#define HR_SHT_SYMTAB_SHNDX 18
#define HR_SHT_X86_64_UNWIND 0x70000001

#define HR_SHF_WRITE 0x1
#define HR_SHF_ALLOC 0x2
#define HR_SHF_EXECINSTR 0x4

#define HR_SHN_UNDEF 0
#define HR_SHN_LORESERVE 0xff00
#define HR_SHN_ABS 0xfff1
#define HR_SHN_COMMON 0xfff2
#define HR_SHN_XINDEX 0xffff

#define HR_STB_LOCAL 0
#define HR_STB_GLOBAL 1
#define HR_STB_WEAK 2
#define HR_STT_NOTYPE 0
#define HR_STT_OBJECT 1
#define HR_STT_FUNC 2
#define HR_STT_SECTION 3
#define HR_STT_FILE 4
#define HR_STT_TLS 6

#define HR_EM_X86_64 62
#define HR_EM_RISCV 243
#define HR_EM_XTENSA 94
#define HR_EM_ARM 40

struct hr_shdr {
    uint32_t name;
    uint32_t type;
    uint64_t flags;
    uint64_t offset;
    uint64_t size;
    uint32_t link;
    uint32_t info;
    uint64_t addralign;
    uint64_t entsize;
};

struct hr_sym {
    uint32_t name;
    uint8_t bind;
    uint8_t type;
    uint16_t shndx;
    hr_addr_t value;
    hr_addr_t size;
};

/* An addend: signed, as wide as an address (hr_addr_t). */
#if UINTPTR_MAX > 0xffffffffu
typedef int64_t hr_addend_t;
#else
typedef int32_t hr_addend_t;
#endif

struct hr_rela {
    hr_addr_t offset;
    uint32_t type;
    uint32_t sym;
    hr_addend_t addend;
};

struct hr_elf {
    const uint8_t *img;
    size_t size;
    bool is64;
    uint16_t machine;
    uint32_t shnum;
    uint64_t shoff;
    uint32_t shstrndx;
    uint32_t symtab;   /* section index of the one SHT_SYMTAB */
    uint32_t nsyms;
    /* Checked once at open, read for every relocation: the symbol table's
     * contents and its string table's (NUL-terminated), the section name
     * table's (size 0 when shstrndx is not a string table). */
    size_t sym_off, str_off, str_size, shstr_off, shstr_size;
    /* An image that starts on a boundary of its words (4 bytes for ELF32,
     * 8 for ELF64), with its symbol table and every relocation section on
     * one too, on a little-endian machine: their fields are read with one
     * load each instead of byte by byte (the relocation pass reads little
     * else). */
    bool aligned;
};

/* Check the header and every section header; find the symbol table. */
enum hr_status hr_elf_open(struct hr_elf *elf, const void *img, size_t size, bool want64,
                           uint16_t want_machine, struct hr_error *err);
/* The same checks for an image of any supported machine and class. */
enum hr_status hr_elf_open_any(struct hr_elf *elf, const void *img, size_t size,
                               struct hr_error *err);
void hr_elf_shdr(const struct hr_elf *elf, uint32_t idx, struct hr_shdr *out);
/* A NUL-terminated string inside string section `strsec`, or NULL. */
const char *hr_elf_str(const struct hr_elf *elf, uint32_t strsec, uint32_t off);
const char *hr_elf_secname(const struct hr_elf *elf, uint32_t idx);
/* Only a 64-bit build reads ELF64 modules: its relocators alone are 64-bit
 * (core/names.c). */
#if UINTPTR_MAX > 0xffffffffu
#define HR_ELF64 1
#else
#define HR_ELF64 0
#endif

void hr_elf_sym64(const struct hr_elf *elf, uint32_t idx, struct hr_sym *out);
/* Symbol idx (below nsyms). Inline, with nothing but loads on the ELF32
 * path, so that callers keep the fields in registers: every relocation
 * reads one. */
HR_HOT void hr_elf_sym(const struct hr_elf *elf, uint32_t idx, struct hr_sym *out)
{
    if (HR_ELF64 && elf->is64) {
        hr_elf_sym64(elf, idx, out);
        return;
    }
    const uint8_t *p = elf->img + elf->sym_off + (size_t)idx * 16;
    uint32_t w; /* info, other, shndx */
    if (elf->aligned) {
        w = hr_load32(p + 12);
        out->name = hr_load32(p);
        out->value = hr_load32(p + 4);
        out->size = hr_load32(p + 8);
    } else {
        w = hr_get32(p + 12);
        out->name = hr_get32(p);
        out->value = hr_get32(p + 4);
        out->size = hr_get32(p + 8);
    }
    out->bind = (uint8_t)(w >> 4 & 0xf);
    out->type = (uint8_t)(w & 0xf);
    out->shndx = (uint16_t)(w >> 16);
}
const char *hr_elf_symname(const struct hr_elf *elf, const struct hr_sym *sym);
/* A checked SHT_RELA or SHT_REL section: its entries, their number, and
 * entry i (hr_elf_rel: of a REL section, whose addends the relocator reads
 * from the place; ELF32 only, as the architectures that use REL). */
const uint8_t *hr_elf_rela_table(const struct hr_elf *elf, const struct hr_shdr *sh);
size_t hr_elf_rela_count(const struct hr_elf *elf, const struct hr_shdr *sh);
void hr_elf_rela64(const struct hr_elf *elf, const uint8_t *table, size_t i,
                   struct hr_rela *out);
HR_HOT void hr_elf_rela(const struct hr_elf *elf, const uint8_t *table, size_t i,
                        struct hr_rela *out)
{
    if (HR_ELF64 && elf->is64) {
        hr_elf_rela64(elf, table, i, out);
        return;
    }
    const uint8_t *p = table + i * 12;
    uint32_t info = elf->aligned ? hr_load32(p + 4) : hr_get32(p + 4);
    out->offset = elf->aligned ? hr_load32(p) : hr_get32(p);
    out->type = info & 0xff;
    out->sym = info >> 8;
    out->addend = (int32_t)(elf->aligned ? hr_load32(p + 8) : hr_get32(p + 8));
}

HR_HOT void hr_elf_rel(const struct hr_elf *elf, const uint8_t *table, size_t i,
                       struct hr_rela *out)
{
    const uint8_t *p = table + i * 8;
    uint32_t info = elf->aligned ? hr_load32(p + 4) : hr_get32(p + 4);
    out->offset = elf->aligned ? hr_load32(p) : hr_get32(p);
    out->type = info & 0xff;
    out->sym = info >> 8;
    out->addend = 0;
}

/* The firmware build-id and GNU build-id the module carries (core/ident.c). */
void hr_elf_ident(const struct hr_elf *elf, struct hr_module_ident *id);

#endif
