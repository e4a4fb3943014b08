/* loader_hostile: targeted corruptions of the ELF structure (the file
 * header, the section table, section placement and sizes, the symbol
 * table's own header). Most are refused before any relocation is applied,
 * so their expectations hold even where an arch's relocator is not ready. */
#include <stdio.h>

#include "hostile.h"

void corrupt_structure(const struct subject *s, uint8_t *buf)
{
    char label[160];
    struct elfv e, orig = {s->img, s->n, s->is64};
    unsigned nsec = shnum(&orig);
    int text = find_alloc_progbits(&orig, -1);
    int other = find_alloc_progbits(&orig, text);
    int bss = find_loaded_nobits(&orig);
    int symtab = find_type(&orig, SHT_SYMTAB);
    uint64_t all_ones = s->is64 ? 0xffffffffffffull : 0xffffffffull;

    e = fresh(s, buf);
    eh_set(&e, EH_SHOFF, s->n);
    targeted(s, "e_shoff past the end", &e, e_st(HR_E_FORMAT, "outside"), false);
    e = fresh(s, buf);
    eh_set(&e, EH_SHOFF, s->n - 8);
    targeted(s, "e_shoff near the end", &e, e_st(HR_E_FORMAT, "outside"), false);
    e = fresh(s, buf);
    eh_set(&e, EH_SHOFF, s->is64 ? 0xfffffffffffffff0ull : 0xfffffff0u);
    targeted(s, "e_shoff wraps", &e, e_st(HR_E_FORMAT, "outside"), false);
    e = fresh(s, buf);
    eh_set(&e, EH_SHNUM, 0xfff0);
    targeted(s, "e_shnum huge", &e, e_st(HR_E_FORMAT, "outside"), false);
    e = fresh(s, buf);
    eh_set(&e, EH_SHNUM, 0);
    targeted(s, "e_shnum zero", &e, e_st(HR_E_FORMAT, "section headers"), false);
    e = fresh(s, buf);
    eh_set(&e, EH_SHSTRNDX, nsec);
    targeted(s, "e_shstrndx out of range", &e, e_st(HR_E_FORMAT, "out of range"), false);
    e = fresh(s, buf);
    eh_set(&e, EH_SHSTRNDX, 0xfffe);
    targeted(s, "e_shstrndx 0xfffe", &e, e_st(HR_E_FORMAT, "out of range"), false);
    e = fresh(s, buf);
    eh_set(&e, EH_SHENTSIZE, s->is64 ? 40 : 64);
    targeted(s, "e_shentsize wrong", &e, e_st(HR_E_FORMAT, "section header size"), false);
    e = fresh(s, buf);
    eh_set(&e, EH_TYPE, ET_EXEC);
    targeted(s, "e_type ET_EXEC", &e, e_st(HR_E_FORMAT, "ET_REL"), false);
    e = fresh(s, buf);
    buf[EI_DATA] = ELFDATA2MSB;
    targeted(s, "big-endian", &e, e_st(HR_E_FORMAT, "little-endian"), false);
    e = fresh(s, buf);
    buf[EI_CLASS] = 7;
    targeted(s, "EI_CLASS 7", &e, e_st(HR_E_FORMAT, "class"), false);
    e = fresh(s, buf);
    /* A machine the subject's loader is not for (ARM's own: AArch64). */
    bool arm = s->arch == HR_ARCH_ARM;
    eh_set(&e, EH_MACHINE, arm ? EM_AARCH64 : EM_ARM);
    targeted(s, arm ? "e_machine AArch64" : "e_machine ARM", &e,
             e_st(HR_E_ARCH, arm ? "AArch64" : "ARM"), false);
    if (s->is64) {
        /* An ELF64 module claiming RISC-V, loaded for rv32. */
        e = fresh(s, buf);
        eh_set(&e, EH_MACHINE, EM_RISCV);
        label_of(label, sizeof label, s, "ELF64 as RISC-V, loaded for rv32");
        struct loadopt o32 = opt(HR_ARCH_RV32);
        run_case(label, &o32, buf, s->n, e_st(HR_E_ARCH, "ELF64"), NULL, 0);
    }

    if (text > 0) {
        e = fresh(s, buf);
        sh_set(&e, (unsigned)text, SH_OFFSET, s->n);
        targeted(s, "sh_offset past the end", &e, e_st(HR_E_FORMAT, "outside"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)text, SH_OFFSET, s->n - 1);
        targeted(s, "sh_offset+sh_size past the end", &e, e_st(HR_E_FORMAT, "outside"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)text, SH_SIZE, s->n);
        targeted(s, "sh_size past the end", &e, e_st(HR_E_FORMAT, "outside"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)text, SH_SIZE, all_ones);
        targeted(s, "sh_size 0xffffffffffff", &e, e_st(HR_E_FORMAT, "outside"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)text, SH_ADDRALIGN, 12);
        targeted(s, "sh_addralign 12", &e, e_st(HR_E_FORMAT, "power of two"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)text, SH_ADDRALIGN, 1u << 24);
        targeted(s, "sh_addralign 16 MiB", &e, e_st(HR_E_FORMAT, "alignment"), false);
        if (s->is64) {
            e = fresh(s, buf);
            sh_set(&e, (unsigned)text, SH_ADDRALIGN, 1ull << 63);
            targeted(s, "sh_addralign 2^63", &e, e_st(HR_E_FORMAT, "alignment"), false);
        }
        e = fresh(s, buf);
        sh_set(&e, (unsigned)text, SH_NAME, 0x7fffffff);
        targeted(s, "sh_name beyond shstrtab", &e, e_st(HR_E_FORMAT, "name"), false);
        if (other > 0) {
            /* Two sections over the same bytes: load or fail, cleanly. */
            e = fresh(s, buf);
            sh_set(&e, (unsigned)other, SH_OFFSET, sh(&orig, (unsigned)text, SH_OFFSET));
            sh_set(&e, (unsigned)other, SH_SIZE, sh(&orig, (unsigned)text, SH_SIZE));
            targeted(s, "overlapping sections", &e, e_any(), false);
        }
    }
    if (bss > 0) {
        e = fresh(s, buf);
        sh_set(&e, (unsigned)bss, SH_SIZE, all_ones);
        /* ELF64: over the per-section limit. ELF32: 4 GiB of zeros, which
         * no port provides. */
        struct expect xb = s->is64 ? e_st(HR_E_FORMAT, "limit") : e_st(HR_E_FORMAT, NULL);
        xb.st2 = HR_E_NOMEM;
        targeted(s, "NOBITS sh_size huge", &e, xb, !s->is64);
    }
    if (symtab > 0) {
        e = fresh(s, buf);
        sh_set(&e, (unsigned)symtab, SH_SIZE, all_ones);
        targeted(s, "symtab sh_size 0xffffffffffff", &e, e_st(HR_E_FORMAT, "outside"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)symtab, SH_LINK, nsec + 3);
        targeted(s, "symtab sh_link out of range", &e, e_st(HR_E_FORMAT, "out of range"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)symtab, SH_LINK, (unsigned)symtab);
        targeted(s, "symtab sh_link to itself", &e, e_st(HR_E_FORMAT, "string table"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)symtab, SH_TYPE, SHT_PROGBITS);
        targeted(s, "no symbol table", &e, e_st(HR_E_FORMAT, "symbol table"), false);
    }
}
