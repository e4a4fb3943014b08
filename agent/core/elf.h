/* A checked view of an ELF relocatable object. Every accessor validates
 * offsets, sizes and indices against the image before reading; the image is
 * hostile until proven otherwise. Little-endian ELF32 and ELF64 only. */
#ifndef HR_ELF_H
#define HR_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotreload/loader.h"

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
    uint64_t value;
    uint64_t size;
};

struct hr_rela {
    uint64_t offset;
    uint32_t type;
    uint32_t sym;
    int64_t addend;
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
    uint64_t sym_off, str_off, str_size, shstr_off, shstr_size;
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
void hr_elf_sym(const struct hr_elf *elf, uint32_t idx, struct hr_sym *out);
const char *hr_elf_symname(const struct hr_elf *elf, const struct hr_sym *sym);
/* Number of entries in a checked SHT_RELA section, and one entry. */
uint64_t hr_elf_rela_count(const struct hr_elf *elf, const struct hr_shdr *sh);
void hr_elf_rela(const struct hr_elf *elf, const struct hr_shdr *sh, uint64_t i,
                 struct hr_rela *out);

/* The firmware build-id and GNU build-id the module carries (core/ident.c). */
void hr_elf_ident(const struct hr_elf *elf, struct hr_module_ident *id);

#endif
