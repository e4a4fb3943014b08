/* Symbols: import resolution through the firmware, symbol addresses for
 * relocations, and the module's exports. */
#include <string.h>

#include "module.h"

bool hr_find_u32(const uint32_t *v, size_t n, uint32_t key, size_t *at)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] == key) {
            *at = mid;
            return true;
        }
        if (v[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

const char *hr_keep_name(struct hr_ld *ld, const char *s)
{
    char *d = ld->name_next;
    size_t n = strlen(s) + 1;
    memcpy(d, s, n);
    ld->name_next += n;
    return d;
}

const char *hr_sym_name(const struct hr_ld *ld, uint32_t idx)
{
    struct hr_sym sym;
    if (idx >= ld->elf.nsyms)
        return "<bad symbol>";
    hr_elf_sym(&ld->elf, idx, &sym);
    return hr_elf_symname(&ld->elf, &sym);
}

enum hr_status hr_sym_fail(const struct hr_ld *ld, uint32_t idx, struct hr_error *err)
{
    if (idx >= ld->elf.nsyms)
        return hr_fail(err, HR_E_FORMAT, "symbol index %u is out of range (%u symbols)", idx,
                       ld->elf.nsyms);
    struct hr_sym sym;
    hr_elf_sym(&ld->elf, idx, &sym);
    const char *name = hr_sym_name(ld, idx);
    if (sym.shndx == HR_SHN_UNDEF)
        return hr_fail(err, HR_E_FORMAT, "symbol %u ('%s') is undefined but has no name",
                       idx, name);
    if (sym.shndx >= ld->elf.shnum || ld->map[sym.shndx] < 0)
        return hr_fail(err, HR_E_FORMAT, "symbol '%s' is defined in section %u, which is not "
                       "loaded", name, sym.shndx);
    const struct hr_section_info *si = &ld->mod->secs[ld->map[sym.shndx]];
    return hr_fail(err, HR_E_FORMAT, "symbol '%s' (value %#llx) lies outside section %s "
                   "(size %#llx)", name, (unsigned long long)sym.value, si->name,
                   (unsigned long long)si->size);
}

/* Imports: every named undefined symbol, resolved through the firmware. */
enum hr_status hr_resolve_imports(struct hr_ld *ld, struct hr_error *err)
{
    struct hr_module *mod = ld->mod;
    size_t n = 0, missing = 0;
    const char *first = NULL;
    for (uint32_t i = 1; i < ld->elf.nsyms; i++) {
        struct hr_sym sym;
        hr_elf_sym(&ld->elf, i, &sym);
        if (sym.shndx != HR_SHN_UNDEF || sym.name == 0)
            continue;
        const char *name = hr_keep_name(ld, hr_elf_symname(&ld->elf, &sym));
        struct hr_import_info *imp = &mod->imports[n];
        ld->imp_sym[n++] = i;
        imp->name = name;
        /* Assemblers name the GOT when code uses it; it is the loader's own. */
        if (strcmp(name, "_GLOBAL_OFFSET_TABLE_") == 0) {
            ld->got_import = &mod->imports[n - 1];
            continue;
        }
        if (ld->cfg->resolve && ld->cfg->resolve(ld->cfg->resolve_ctx, name, &imp->addr) == 0)
            continue;
        imp->addr = 0;
        if (sym.bind == HR_STB_WEAK) {
            imp->weak_missing = true;
            continue;
        }
        if (!first)
            first = name;
        missing++;
    }
    if (missing == 1)
        return hr_fail(err, HR_E_UNRESOLVED, "unresolved import '%s': the firmware does not "
                       "provide it (keep it in the firmware or drop it from the module)", first);
    if (missing)
        return hr_fail(err, HR_E_UNRESOLVED, "unresolved import '%s' and %zu more: the firmware "
                       "does not provide them", first, missing - 1);
    return HR_OK;
}

void hr_collect_exports(struct hr_ld *ld)
{
    struct hr_module *mod = ld->mod;
    for (uint32_t i = 1; i < ld->elf.nsyms; i++) {
        struct hr_sym sym;
        hr_elf_sym(&ld->elf, i, &sym);
        if (sym.name && hr_is_persist(ld, &sym) && ld->map[sym.shndx] >= 0) {
            const struct hr_section_info *ps = &mod->secs[ld->map[sym.shndx]];
            if (sym.value <= ps->size && sym.size <= ps->size - sym.value) {
                struct hr_export_info *p = &mod->persist[mod->npersist++];
                p->name = hr_keep_name(ld, hr_elf_symname(&ld->elf, &sym));
                p->addr = ps->addr + sym.value;
                p->size = sym.size;
                p->kind = HR_EXPORT_DATA;
            }
        }
        if (sym.bind == HR_STB_LOCAL || !sym.name || sym.shndx == HR_SHN_UNDEF ||
            sym.shndx >= ld->elf.shnum || ld->map[sym.shndx] < 0)
            continue;
        const struct hr_section_info *si = &mod->secs[ld->map[sym.shndx]];
        if (sym.value > si->size)
            continue;
        struct hr_export_info *e = &mod->exports[mod->nexports++];
        e->name = hr_keep_name(ld, hr_elf_symname(&ld->elf, &sym));
        e->addr = si->addr + sym.value;
        e->size = sym.size;
        e->kind = sym.type == HR_STT_FUNC || (sym.type == HR_STT_NOTYPE &&
                                              si->kind == HR_REGION_TEXT)
                      ? HR_EXPORT_FUNC : HR_EXPORT_DATA;
    }
}
