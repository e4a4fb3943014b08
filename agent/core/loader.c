/* The loader core: checks a module, lays its sections out by kind in regions
 * from the port, resolves imports, builds GOT slots and veneers, and drives
 * the architecture's relocator. Nothing here knows the platform. */
#include <string.h>

#include "module.h"

/* Section alignments beyond this are refused: a region from a small heap
 * cannot honour them and no compiler emits them for ordinary code. */
#define HR_MAX_ALIGN 4096u

static void *zalloc(const struct hr_port *port, size_t size)
{
    void *p = port->alloc(port->ctx, size ? size : 1);
    if (p)
        memset(p, 0, size ? size : 1);
    return p;
}

static void release(const struct hr_port *port, void *p)
{
    if (p)
        port->free(port->ctx, p);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Which region a section belongs to; false if it is not loaded at all. */
static bool classify(const struct hr_elf *elf, uint32_t i, const struct hr_shdr *sh,
                     enum hr_region_kind *kind)
{
    const char *name = hr_elf_secname(elf, i);
    if (!(sh->flags & HR_SHF_ALLOC) || sh->size == 0 || sh->type == HR_SHT_NOTE ||
        sh->type == HR_SHT_GROUP)
        return false;
    /* Unwind tables: no runtime unwinder registers them on the device, and gdb
     * reads unwind info from the unstripped module instead. */
    if (sh->type == HR_SHT_X86_64_UNWIND || strcmp(name, ".eh_frame") == 0)
        return false;
    if (sh->flags & HR_SHF_EXECINSTR)
        *kind = HR_REGION_TEXT;
    else if (starts_with(name, ".sdata") || starts_with(name, ".sbss") ||
             starts_with(name, ".srodata"))
        *kind = HR_REGION_SDATA;
    else if (sh->type == HR_SHT_NOBITS)
        *kind = HR_REGION_BSS;
    else if (sh->flags & HR_SHF_WRITE)
        *kind = HR_REGION_DATA;
    else
        *kind = HR_REGION_RODATA;
    return true;
}

/* Layout order inside a region: literal pools before code (Xtensa L32R only
 * reaches backwards), initialised bytes before zeroed ones. */
static unsigned slot_of(enum hr_region_kind kind, const char *name, uint32_t type)
{
    unsigned rank = kind == HR_REGION_TEXT ? !starts_with(name, ".literal")
                                           : type == HR_SHT_NOBITS;
    return 2u * (unsigned)kind + rank;
}

static void sort_u32(uint32_t *v, size_t n)
{
    /* Shell sort: no recursion, no allocation, fine for thousands. */
    for (size_t gap = n / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < n; i++)
            for (size_t j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
                uint32_t t = v[j];
                v[j] = v[j - gap];
                v[j - gap] = t;
            }
}

static size_t uniq_u32(uint32_t *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    return k;
}

/* ---- layout ----------------------------------------------------------- */

struct counts {
    size_t placed, imports, exports, persist, names;
};

/* Names are looked up only for the symbols that keep one and for
 * messages: this runs over every symbol of the module. */
static enum hr_status survey_symbols(struct hr_ld *ld, struct counts *c, struct hr_error *err)
{
    for (uint32_t i = 1; i < ld->elf.nsyms; i++) {
        struct hr_sym sym;
        hr_elf_sym(&ld->elf, i, &sym);
        if (sym.name >= ld->elf.str_size)
            return hr_fail(err, HR_E_FORMAT, "symbol %u: name offset %#x lies outside the "
                           "string table", i, sym.name);
        if (sym.shndx == HR_SHN_COMMON)
            return hr_fail(err, HR_E_FORMAT, "symbol '%s' is a common symbol: build the module "
                           "with -fno-common (the default since GCC 10)", hr_sym_name(ld, i));
        if (sym.type == HR_STT_TLS)
            return hr_fail(err, HR_E_FORMAT, "symbol '%s' is thread-local, which modules cannot "
                           "have", hr_sym_name(ld, i));
        if (sym.shndx < HR_SHN_LORESERVE && sym.shndx >= ld->elf.shnum)
            return hr_fail(err, HR_E_FORMAT, "symbol '%s': section index %u is out of range "
                           "(%u sections)", hr_sym_name(ld, i), sym.shndx, ld->elf.shnum);
        if (!sym.name || sym.shndx >= HR_SHN_LORESERVE)
            continue;
        bool import = sym.shndx == HR_SHN_UNDEF;
        bool export = !import && sym.bind != HR_STB_LOCAL;
        bool persist = !import && hr_is_persist(ld, &sym);
        if (!import && !export && !persist)
            continue; /* most symbols: local labels and objects */
        size_t len = strlen(hr_elf_symname(&ld->elf, &sym)) + 1;
        c->imports += import;
        c->exports += export;
        c->persist += persist;
        c->names += len * ((size_t)import + export + persist);
    }
    return HR_OK;
}

static enum hr_status survey(struct hr_ld *ld, struct counts *c, struct hr_error *err)
{
    memset(c, 0, sizeof *c);
    for (uint32_t i = 1; i < ld->elf.shnum; i++) {
        struct hr_shdr sh;
        enum hr_region_kind kind;
        hr_elf_shdr(&ld->elf, i, &sh);
        const char *name = hr_elf_secname(&ld->elf, i);
        if (!hr_elf_str(&ld->elf, ld->elf.shstrndx, sh.name))
            return hr_fail(err, HR_E_FORMAT, "section %u: name offset %#x lies outside the "
                           "section name table", i, sh.name);
        if (starts_with(name, ".hotreload.persist"))
            ld->secflags[i] |= HR_SEC_PERSIST;
        if (sh.type == HR_SHT_REL && sh.info < ld->elf.shnum && !ld->ops->addend) {
            struct hr_shdr target;
            hr_elf_shdr(&ld->elf, sh.info, &target);
            if (target.flags & HR_SHF_ALLOC)
                return hr_fail(err, HR_E_FORMAT, "section %s holds REL relocations; this "
                               "architecture's modules use RELA", name);
        }
        if (!classify(&ld->elf, i, &sh, &kind))
            continue;
        if (sh.flags & 0x400)
            return hr_fail(err, HR_E_FORMAT, "section %s is thread-local storage, which "
                           "modules cannot have", name);
        if (sh.addralign > HR_MAX_ALIGN)
            return hr_fail(err, HR_E_FORMAT, "section %s asks for %llu-byte alignment; the "
                           "limit is %u", name, (unsigned long long)sh.addralign, HR_MAX_ALIGN);
        if (sh.size > (uint64_t)(SIZE_MAX / 4) || sh.size > UINT32_MAX)
            return hr_fail(err, HR_E_FORMAT, "section %s is %llu bytes, over the loader's "
                           "limit", name, (unsigned long long)sh.size);
        ld->secflags[i] |= (uint8_t)(HR_SEC_PLACED |
                                     slot_of(kind, name, sh.type) << HR_SEC_SLOT_SHIFT);
        c->placed++;
        c->names += strlen(name) + 1;
    }
    return survey_symbols(ld, c, err);
}

/* Give every loaded section a slot in mod->secs (in file order); the
 * survey classified them. Until layout(), ld->offset holds each one's
 * alignment. */
static void map_sections(struct hr_ld *ld)
{
    struct hr_module *mod = ld->mod;
    mod->nsecs = 0;
    ld->name_next = mod->names;
    for (uint32_t i = 0; i < ld->elf.shnum; i++) {
        ld->map[i] = -1;
        if (!(ld->secflags[i] & HR_SEC_PLACED))
            continue;
        struct hr_shdr sh;
        hr_elf_shdr(&ld->elf, i, &sh);
        struct hr_section_info *si = &mod->secs[mod->nsecs];
        ld->offset[mod->nsecs] = sh.addralign ? sh.addralign : 1;
        ld->map[i] = (int32_t)mod->nsecs++;
        si->name = hr_keep_name(ld, hr_elf_secname(&ld->elf, i));
        si->kind = (enum hr_region_kind)((ld->secflags[i] >> HR_SEC_SLOT_SHIFT) / 2);
        si->size = sh.size;
    }
}

/* Each section's offset inside its region, slot by slot, and the regions'
 * sizes and alignments, with the loader-built GOT and veneers. */
static enum hr_status layout(struct hr_ld *ld, uint64_t size[HR_REGION_COUNT],
                             uint64_t align[HR_REGION_COUNT], struct hr_error *err)
{
    struct hr_module *mod = ld->mod;
    for (int k = 0; k < HR_REGION_COUNT; k++) {
        size[k] = 0;
        align[k] = 1;
    }
    for (unsigned slot = 0; slot < HR_SEC_SLOTS; slot++)
        for (uint32_t i = 1; i < ld->elf.shnum; i++) {
            if (ld->map[i] < 0 || ld->secflags[i] >> HR_SEC_SLOT_SHIFT != slot)
                continue;
            size_t j = (size_t)ld->map[i];
            int k = (int)mod->secs[j].kind;
            uint64_t a = ld->offset[j];
            size[k] = align_up(size[k], a);
            ld->offset[j] = size[k];
            size[k] += mod->secs[j].size;
            if (a > align[k])
                align[k] = a;
        }
    if (ld->ops->veneer_size && ld->nven) {
        size[HR_REGION_TEXT] = align_up(size[HR_REGION_TEXT], 16);
        ld->ven.size = ld->nven * ld->ops->veneer_size;
        size[HR_REGION_TEXT] += ld->ven.size;
        if (align[HR_REGION_TEXT] < 16)
            align[HR_REGION_TEXT] = 16;
    }
    if (ld->ngot) {
        size[HR_REGION_DATA] = align_up(size[HR_REGION_DATA], ld->got_entsize);
        ld->got.size = ld->ngot * ld->got_entsize;
        size[HR_REGION_DATA] += ld->got.size;
        if (align[HR_REGION_DATA] < ld->got_entsize)
            align[HR_REGION_DATA] = ld->got_entsize;
    }
    for (int k = 0; k < HR_REGION_COUNT; k++)
        if (size[k] > UINT32_MAX)
            return hr_fail(err, HR_E_FORMAT, "the %s sections add up to %llu bytes, over the "
                           "loader's limit", hr_region_name(k), (unsigned long long)size[k]);
    return HR_OK;
}

static enum hr_status alloc_regions(struct hr_ld *ld, const uint64_t size[HR_REGION_COUNT],
                                    const uint64_t align[HR_REGION_COUNT], struct hr_error *err)
{
    const struct hr_port *port = ld->cfg->port;
    struct hr_module *mod = ld->mod;
    uint64_t total = 0;
    for (int k = 0; k < HR_REGION_COUNT; k++)
        total += size[k]; /* each below 4 GiB: no overflow */
    if (port->max_total && total > port->max_total)
        return hr_fail(err, HR_E_NOMEM, "the module needs %llu bytes of memory (.bss included), "
                       "over the %llu this device gives modules", (unsigned long long)total,
                       (unsigned long long)port->max_total);
    for (int k = 0; k < HR_REGION_COUNT; k++) {
        if (size[k] == 0)
            continue;
        struct hr_mem m = {0};
        if (port->region_alloc(port->ctx, k, (size_t)size[k], (size_t)align[k], &m) != 0 ||
            !m.write)
            return hr_fail(err, HR_E_NOMEM, "out of memory: the port could not provide %llu "
                           "bytes for the %s region", (unsigned long long)size[k],
                           hr_region_name(k));
        m.size = (size_t)size[k];
        mod->regions[k] = m;
        memset(m.write, 0, m.size);
    }
    for (uint32_t i = 1; i < ld->elf.shnum; i++) {
        if (ld->map[i] < 0)
            continue;
        struct hr_section_info *si = &mod->secs[ld->map[i]];
        struct hr_mem *m = &mod->regions[si->kind];
        uint64_t off = ld->offset[ld->map[i]];
        struct hr_shdr sh;
        hr_elf_shdr(&ld->elf, i, &sh);
        si->addr = m->addr + off;
        if (sh.type != HR_SHT_NOBITS) {
            si->bytes = m->write ? m->write + off : NULL;
            if (sh.size)
                memcpy(m->write + off, ld->elf.img + sh.offset, (size_t)sh.size);
        }
    }
    if (ld->nven) {
        struct hr_mem *m = &mod->regions[HR_REGION_TEXT];
        size_t off = m->size - ld->ven.size;
        ld->ven.write = m->write + off;
        ld->ven.addr = m->addr + off;
    }
    if (ld->ngot) {
        struct hr_mem *m = &mod->regions[HR_REGION_DATA];
        size_t off = m->size - ld->got.size;
        ld->got.write = m->write + off;
        ld->got.addr = m->addr + off;
    }
    return HR_OK;
}

/* GOT slots and veneers are listed as sections so that reports, the dry run
 * and the debugger see every byte the loader placed. */
static enum hr_status fill_loader_built(struct hr_ld *ld, struct hr_error *err)
{
    struct hr_module *mod = ld->mod;
    for (size_t i = 0; i < ld->ngot; i++) {
        hr_addr_t S;
        enum hr_status st = hr_sym_addr(ld, ld->got_sym[i], &S, err);
        if (st != HR_OK)
            return st;
        uint8_t *w = ld->got.write + i * ld->got_entsize;
        if (ld->got_entsize == 8)
            hr_put64(w, S);
        else
            hr_put32(w, (uint32_t)S);
    }
    for (size_t i = 0; i < ld->nven; i++) {
        hr_addr_t S;
        enum hr_status st = hr_sym_addr(ld, ld->ven_sym[i], &S, err);
        if (st != HR_OK)
            return st;
        size_t off = i * ld->ops->veneer_size;
        ld->ops->write_veneer(ld->ven.write + off, ld->ven.addr + off, S);
    }
    if (ld->ngot)
        mod->secs[mod->nsecs++] = (struct hr_section_info){
            .name = ".hr.got", .kind = HR_REGION_DATA, .addr = ld->got.addr,
            .bytes = ld->got.write, .size = ld->got.size, .loader_built = true};
    if (ld->nven)
        mod->secs[mod->nsecs++] = (struct hr_section_info){
            .name = ".hr.veneers", .kind = HR_REGION_TEXT, .addr = ld->ven.addr,
            .bytes = ld->ven.write, .size = ld->ven.size, .loader_built = true};
    return HR_OK;
}

/* ---- entry points ----------------------------------------------------- */

static void free_work(struct hr_ld *ld)
{
    const struct hr_port *port = ld->cfg->port;
    release(port, ld->map);
    release(port, ld->secflags);
    release(port, ld->offset);
    release(port, ld->imp_sym);
    release(port, ld->got_sym);
    release(port, ld->ven_sym);
}

static enum hr_status load(struct hr_ld *ld, const void *image, size_t size, struct hr_error *err)
{
    const struct hr_port *port = ld->cfg->port;
    struct counts c;
    enum hr_status st = hr_elf_open(&ld->elf, image, size, ld->ops->is64, ld->ops->machine, err);
    if (st == HR_OK && ld->cfg->accept) {
        struct hr_module_ident id;
        hr_elf_ident(&ld->elf, &id);
        st = ld->cfg->accept(ld->cfg->accept_ctx, &id, err);
    }
    if (st != HR_OK)
        return st;
    ld->map = zalloc(port, ld->elf.shnum * sizeof *ld->map);
    ld->secflags = zalloc(port, ld->elf.shnum);
    if (!ld->map || !ld->secflags)
        return hr_fail(err, HR_E_NOMEM, "out of memory for the loader's tables (%u sections)",
                       ld->elf.shnum);
    if ((st = survey(ld, &c, err)) != HR_OK)
        return st;
    struct hr_module *mod = ld->mod;
    ld->offset = zalloc(port, c.placed * sizeof *ld->offset);
    ld->imp_sym = zalloc(port, c.imports * sizeof *ld->imp_sym);
    mod->secs = zalloc(port, (c.placed + 2) * sizeof *mod->secs);
    mod->imports = zalloc(port, c.imports * sizeof *mod->imports);
    mod->exports = zalloc(port, c.exports * sizeof *mod->exports);
    mod->persist = zalloc(port, c.persist * sizeof *mod->persist);
    mod->names = zalloc(port, c.names);
    if (!ld->offset || !ld->imp_sym || !mod->secs || !mod->imports || !mod->exports ||
        !mod->persist || !mod->names)
        return hr_fail(err, HR_E_NOMEM, "out of memory for the loader's tables (%zu sections, "
                       "%zu imports, %zu exports)", c.placed, c.imports, c.exports);
    ld->name_next = mod->names;
    mod->nimports = c.imports;
    ld->got_entsize = ld->ops->is64 ? 8 : 4;

    uint64_t rsize[HR_REGION_COUNT], ralign[HR_REGION_COUNT];
    /* map[] must exist before relocations are scanned; the layout waits for
     * the GOT and veneer sizes the scan finds. */
    map_sections(ld);
    if ((st = hr_scan_relocs(ld, false, err)) != HR_OK)
        return st;
    ld->got_sym = zalloc(port, ld->ngot * sizeof *ld->got_sym);
    ld->ven_sym = zalloc(port, ld->nven * sizeof *ld->ven_sym);
    if (!ld->got_sym || !ld->ven_sym)
        return hr_fail(err, HR_E_NOMEM, "out of memory for GOT and veneer tables");
    mod->stats = zalloc(port, mod->stats_cap * sizeof *mod->stats);
    if (!mod->stats)
        return hr_fail(err, HR_E_NOMEM, "out of memory for the relocation statistics");
    if (ld->ngot || ld->nven) /* nothing to fill in otherwise: spare a second pass */
        hr_scan_relocs(ld, true, err);
    sort_u32(ld->got_sym, ld->ngot);
    ld->ngot = uniq_u32(ld->got_sym, ld->ngot);
    sort_u32(ld->ven_sym, ld->nven);
    ld->nven = uniq_u32(ld->ven_sym, ld->nven);
    if ((st = layout(ld, rsize, ralign, err)) != HR_OK)
        return st;
    if ((st = alloc_regions(ld, rsize, ralign, err)) != HR_OK)
        return st;
    if ((st = hr_bind_symbols(ld, err)) != HR_OK)
        return st;
    if ((st = fill_loader_built(ld, err)) != HR_OK)
        return st;
    if ((st = hr_apply_relocs(ld, err)) != HR_OK)
        return st;
    if (port->sync_code && mod->regions[HR_REGION_TEXT].size)
        port->sync_code(port->ctx, &mod->regions[HR_REGION_TEXT]);
    return HR_OK;
}

enum hr_status hr_module_load(const struct hr_load_config *cfg, const void *image, size_t size,
                              struct hr_module **out, struct hr_error *err)
{
    if (err) {
        err->status = HR_OK;
        err->msg[0] = '\0';
    }
    if (out)
        *out = NULL;
    if (!cfg || !cfg->port || !cfg->port->alloc || !cfg->port->free ||
        !cfg->port->region_alloc || !cfg->port->region_free || !out)
        return hr_fail(err, HR_E_ARG, "hr_module_load: missing configuration, port or output");
    struct hr_ld ld = {0};
    ld.cfg = cfg;
    ld.ops = hr_arch_ops(cfg->arch);
    if (!ld.ops)
        return hr_fail(err, HR_E_ARG, "no relocator for architecture %s in this loader (a "
                       "firmware's loader holds its own architecture's only)",
                       hr_arch_name(cfg->arch));
    ld.mod = zalloc(cfg->port, sizeof *ld.mod);
    if (!ld.mod)
        return hr_fail(err, HR_E_NOMEM, "out of memory for the module record");
    ld.mod->port = cfg->port;
    ld.mod->arch = cfg->arch;
    enum hr_status st = load(&ld, image, size, err);
    free_work(&ld);
    if (st != HR_OK) {
        hr_module_free(ld.mod);
        return st;
    }
    *out = ld.mod;
    return HR_OK;
}

void hr_module_free(struct hr_module *mod)
{
    if (!mod)
        return;
    const struct hr_port *port = mod->port;
    for (int k = 0; k < HR_REGION_COUNT; k++)
        if (mod->regions[k].write)
            port->region_free(port->ctx, k, &mod->regions[k]);
    release(port, mod->secs);
    release(port, mod->imports);
    release(port, mod->exports);
    release(port, mod->persist);
    release(port, mod->names);
    release(port, mod->stats);
    port->free(port->ctx, mod);
}
