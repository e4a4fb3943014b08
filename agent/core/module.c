/* What a loaded module offers its user: its sections, imports, exports,
 * persistent variables, bytes by address and relocation counts (the
 * loader, loader.c, fills them in). */
#include <string.h>

#include "module.h"

size_t hr_module_section_count(const struct hr_module *mod) { return mod->nsecs; }
const struct hr_section_info *hr_module_section(const struct hr_module *mod, size_t i)
{
    return i < mod->nsecs ? &mod->secs[i] : NULL;
}
size_t hr_module_import_count(const struct hr_module *mod) { return mod->nimports; }
const struct hr_import_info *hr_module_import(const struct hr_module *mod, size_t i)
{
    return i < mod->nimports ? &mod->imports[i] : NULL;
}
size_t hr_module_export_count(const struct hr_module *mod) { return mod->nexports; }
const struct hr_export_info *hr_module_export(const struct hr_module *mod, size_t i)
{
    return i < mod->nexports ? &mod->exports[i] : NULL;
}

const struct hr_export_info *hr_module_lookup(const struct hr_module *mod, const char *name)
{
    for (size_t i = 0; mod && name && i < mod->nexports; i++)
        if (strcmp(mod->exports[i].name, name) == 0)
            return &mod->exports[i];
    return NULL;
}

size_t hr_module_persist_count(const struct hr_module *mod) { return mod->npersist; }
const struct hr_export_info *hr_module_persist(const struct hr_module *mod, size_t i)
{
    return i < mod->npersist ? &mod->persist[i] : NULL;
}

uint8_t *hr_module_bytes(const struct hr_module *mod, hr_addr_t addr, size_t len)
{
    for (int k = 0; k < HR_REGION_COUNT; k++) {
        const struct hr_mem *m = &mod->regions[k];
        if (m->write && addr >= m->addr && addr - m->addr <= m->size &&
            len <= m->size - (addr - m->addr))
            return m->write + (addr - m->addr);
    }
    return NULL;
}

size_t hr_module_reloc_stats(const struct hr_module *mod, const struct hr_reloc_count **out)
{
    *out = mod->stats;
    return mod->nstats;
}
