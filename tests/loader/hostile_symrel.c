/* loader_hostile: targeted corruptions of symbols (indexes, names, values, an
 * import the firmware lacks) and of relocations (symbol index, offset, type,
 * the RELA section's links and size). Cases marked late concern the
 * relocator: where an arch's relocator is not ready they only have to fail
 * or load cleanly. */
#include <stdio.h>

#include "hostile.h"

void corrupt_symbols(const struct subject *s, uint8_t *buf)
{
    char label[160];
    struct elfv e, orig = {s->img, s->n, s->is64};
    unsigned nsec = shnum(&orig);
    int gdef = find_global(&orig, false);
    int gimp = find_global(&orig, true);

    if (gdef > 0) {
        e = fresh(s, buf);
        fset(&e, sym_at(&e, (unsigned)gdef), st_f[ST_SHNDX], nsec + 5);
        targeted(s, "st_shndx out of range", &e, e_st(HR_E_FORMAT, "out of range"), false);
        e = fresh(s, buf);
        fset(&e, sym_at(&e, (unsigned)gdef), st_f[ST_SHNDX], 0xff20);
        targeted(s, "st_shndx reserved 0xff20", &e, e_any(), false);
        e = fresh(s, buf);
        fset(&e, sym_at(&e, (unsigned)gdef), st_f[ST_NAME], 0x7ffffff0);
        targeted(s, "st_name beyond strtab (export)", &e, e_st(HR_E_FORMAT, "name"), false);
        e = fresh(s, buf);
        fset(&e, sym_at(&e, (unsigned)gdef), st_f[ST_SHNDX], SHN_COMMON);
        targeted(s, "st_shndx SHN_COMMON", &e, e_st(HR_E_FORMAT, "common"), false);
        e = fresh(s, buf);
        fset(&e, sym_at(&e, (unsigned)gdef), st_f[ST_VALUE], s->is64 ? ~0ull : 0xffffffffu);
        targeted(s, "st_value past its section", &e, e_any(), false);
    }
    if (gimp > 0) {
        const char *name = symname(&orig, (unsigned)gimp);
        e = fresh(s, buf);
        fset(&e, sym_at(&e, (unsigned)gimp), st_f[ST_NAME], 0x7ffffff0);
        targeted(s, "st_name beyond strtab (import)", &e, e_st(HR_E_FORMAT, "name"), false);
        label_of(label, sizeof label, s, "unresolved import");
        struct loadopt od = opt(s->arch);
        od.deny = name;
        run_case(label, &od, s->img, s->n,
                 s->ready ? e_st(HR_E_UNRESOLVED, name) : e_any(), NULL, 0);
    }
}

void corrupt_relocs(const struct subject *s, uint8_t *buf)
{
    char word[64];
    struct elfv e, orig = {s->img, s->n, s->is64};
    unsigned nsec = shnum(&orig);
    int bss = find_loaded_nobits(&orig);
    int rela = find_rela(&orig);

    if (rela > 0) {
        uint64_t r0 = sh(&orig, (unsigned)rela, SH_OFFSET);
        uint64_t info = fget(&orig, r0, ra_f[RA_INFO]);
        uint64_t type = s->is64 ? (info & 0xffffffffu) : (info & 0xffu);
        uint64_t symshift = s->is64 ? 32 : 8;
        uint64_t target = sh(&orig, (unsigned)rela, SH_INFO);

        e = fresh(s, buf);
        fset(&e, r0, ra_f[RA_INFO], ((uint64_t)nsyms(&orig) + 10) << symshift | type);
        targeted(s, "r_sym out of range", &e, e_st(HR_E_FORMAT, "out of range"), true);
        e = fresh(s, buf);
        fset(&e, r0, ra_f[RA_OFFSET], sh(&orig, (unsigned)target, SH_SIZE) + 16);
        targeted(s, "r_offset past its section", &e, e_st(HR_E_FORMAT, "outside"), true);
        e = fresh(s, buf);
        fset(&e, r0, ra_f[RA_OFFSET], s->is64 ? ~0ull : 0xffffffffu);
        targeted(s, "r_offset all ones", &e, e_st(HR_E_FORMAT, "outside"), true);
        e = fresh(s, buf);
        fset(&e, r0, ra_f[RA_OFFSET], sh(&orig, (unsigned)target, SH_SIZE) - 1);
        targeted(s, "r_offset at the last byte", &e,
                 s->arch == HR_ARCH_X86_64 ? e_st(HR_E_FORMAT, "past the end") : e_any(), true);
        uint64_t bad = s->is64 ? 0xdead : 250;
        e = fresh(s, buf);
        fset(&e, r0, ra_f[RA_INFO], (info >> symshift) << symshift | bad);
        snprintf(word, sizeof word, "%llu", (unsigned long long)bad);
        targeted(s, "unknown relocation type", &e, e_st(HR_E_RELOC, word), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)rela, SH_INFO, nsec + 1);
        targeted(s, "rela sh_info out of range", &e, e_st(HR_E_FORMAT, "not exist"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)rela, SH_LINK, (unsigned)rela);
        targeted(s, "rela sh_link not the symtab", &e, e_st(HR_E_FORMAT, "symbol table"), false);
        e = fresh(s, buf);
        sh_set(&e, (unsigned)rela, SH_SIZE, sh(&orig, (unsigned)rela, SH_SIZE) - 1);
        targeted(s, "rela size not a multiple", &e, e_st(HR_E_FORMAT, "section size"), false);
        if (bss > 0) {
            e = fresh(s, buf);
            sh_set(&e, (unsigned)rela, SH_INFO, (unsigned)bss);
            fset(&e, r0, ra_f[RA_OFFSET], 0);
            targeted(s, "relocations against NOBITS", &e, e_st(HR_E_FORMAT, "NOBITS"), true);
        }
    }
}
