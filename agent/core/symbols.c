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

/* Import n, symbol i: resolved through the firmware. False when the
 * firmware lacks it and it is not weak. */
static bool bind_import(struct hr_ld *ld, uint32_t i, const struct hr_sym *sym, size_t n)
{
    struct hr_import_info *imp = &ld->mod->imports[n];
    ld->imp_sym[n] = i;
    imp->name = hr_keep_name(ld, hr_elf_symname(&ld->elf, sym));
    /* Assemblers name the GOT when code uses it; it is the loader's own. */
    if (strcmp(imp->name, "_GLOBAL_OFFSET_TABLE_") == 0) {
        imp->addr = ld->got.addr;
        return true;
    }
    if (ld->cfg->resolve && ld->cfg->resolve(ld->cfg->resolve_ctx, imp->name, &imp->addr) == 0)
        return true;
    imp->addr = 0;
    imp->weak_missing = sym->bind == HR_STB_WEAK;
    return imp->weak_missing;
}

/* The export (a global symbol) and the persistent variable that symbol
 * might be, in a loaded section `si`. */
static void bind_export(struct hr_ld *ld, const struct hr_sym *sym,
                        const struct hr_section_info *si)
{
    struct hr_module *mod = ld->mod;
    if (hr_is_persist(ld, sym) && sym->value <= si->size && sym->size <= si->size - sym->value) {
        struct hr_export_info *p = &mod->persist[mod->npersist++];
        p->name = hr_keep_name(ld, hr_elf_symname(&ld->elf, sym));
        p->addr = si->addr + sym->value;
        p->size = sym->size;
        p->kind = HR_EXPORT_DATA;
    }
    if (sym->bind == HR_STB_LOCAL || sym->value > si->size)
        return;
    struct hr_export_info *e = &mod->exports[mod->nexports++];
    e->name = hr_keep_name(ld, hr_elf_symname(&ld->elf, sym));
    e->addr = si->addr + sym->value;
    e->size = sym->size;
    e->kind = sym->type == HR_STT_FUNC || (sym->type == HR_STT_NOTYPE &&
                                           si->kind == HR_REGION_TEXT)
                  ? HR_EXPORT_FUNC : HR_EXPORT_DATA;
}

/* One pass over the symbols, once the regions are placed: imports
 * resolved, exports and persistent variables recorded. */
enum hr_status hr_bind_symbols(struct hr_ld *ld, struct hr_error *err)
{
    size_t n = 0, missing = 0;
    const char *first = NULL;
    for (uint32_t i = 1; i < ld->elf.nsyms; i++) {
        struct hr_sym sym;
        hr_elf_sym(&ld->elf, i, &sym);
        if (!sym.name)
            continue;
        if (sym.shndx == HR_SHN_UNDEF) {
            if (!bind_import(ld, i, &sym, n) && !missing++)
                first = ld->mod->imports[n].name;
            n++;
        } else if (sym.shndx < ld->elf.shnum && ld->map[sym.shndx] >= 0) {
            bind_export(ld, &sym, &ld->mod->secs[ld->map[sym.shndx]]);
        }
    }
    if (missing == 1)
        return hr_fail(err, HR_E_UNRESOLVED, "unresolved import '%s': the firmware does not "
                       "provide it (keep it in the firmware or drop it from the module)", first);
    if (missing)
        return hr_fail(err, HR_E_UNRESOLVED, "unresolved import '%s' and %zu more: the firmware "
                       "does not provide them", first, missing - 1);
    return HR_OK;
}
