/* The loader core: checks a module, lays its sections out by kind in regions
 * from the port, resolves imports, builds GOT slots and veneers, and drives
 * the architecture's relocator. Nothing here knows the platform. */
#include <string.h>

#include "loader_int.h"

/* Section alignments beyond this are refused: a region from a small heap
 * cannot honour them and no compiler emits them for ordinary code. */
#define HR_MAX_ALIGN 4096u
#define HR_MAX_STATS 64u

struct hr_module {
    const struct hr_port *port;
    enum hr_arch arch;
    struct hr_mem regions[HR_REGION_COUNT];
    struct hr_section_info *secs;
    size_t nsecs;
    struct hr_import_info *imports;
    size_t nimports;
    struct hr_export_info *exports;
    size_t nexports;
    char *names;
    struct hr_reloc_count stats[HR_MAX_STATS];
    size_t nstats;
};

struct hr_ld {
    struct hr_elf elf;
    const struct hr_load_config *cfg;
    const struct hr_arch_ops *ops;
    struct hr_module *mod;
    int32_t *map;          /* ELF section index -> index in mod->secs, or -1 */
    uint8_t *sorted;       /* per relocation section: 0 unknown, 1 by offset, 2 not */
    uint64_t *offset;      /* per placed section: offset inside its region */
    uint32_t *imp_sym;     /* symbol index of each import, ascending */
    uint32_t *got_sym;     /* symbols with a GOT slot, ascending */
    size_t ngot;
    uint32_t *ven_sym;     /* imports with a veneer, ascending */
    size_t nven;
    unsigned got_entsize;
    struct hr_mem got, ven;
    struct hr_import_info *got_import; /* _GLOBAL_OFFSET_TABLE_, if named */
    char *name_next;
};

static const struct hr_arch_ops *ops_for(enum hr_arch arch)
{
    switch (arch) {
    case HR_ARCH_X86_64: return &hr_ops_x86_64;
    case HR_ARCH_RV32: return &hr_ops_rv32;
    case HR_ARCH_RV64: return &hr_ops_rv64;
    case HR_ARCH_XTENSA: return &hr_ops_xtensa;
    default: return NULL;
    }
}

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
static int order_rank(const struct hr_section_info *si, uint32_t type)
{
    if (si->kind == HR_REGION_TEXT)
        return starts_with(si->name, ".literal") ? 0 : 1;
    return type == HR_SHT_NOBITS ? 1 : 0;
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

static bool find_u32(const uint32_t *v, size_t n, uint32_t key, size_t *at)
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

static const char *keep_name(struct hr_ld *ld, const char *s)
{
    char *d = ld->name_next;
    size_t n = strlen(s) + 1;
    memcpy(d, s, n);
    ld->name_next += n;
    return d;
}

/* ---- symbols ---------------------------------------------------------- */

static enum hr_status sym_addr(struct hr_ld *ld, uint32_t idx, hr_addr_t *S, const char **name,
                               struct hr_error *err)
{
    *S = 0;
    *name = "";
    if (idx == 0)
        return HR_OK;
    if (idx >= ld->elf.nsyms)
        return hr_fail(err, HR_E_FORMAT, "symbol index %u is out of range (%u symbols)", idx,
                       ld->elf.nsyms);
    struct hr_sym sym;
    hr_elf_sym(&ld->elf, idx, &sym);
    *name = hr_elf_symname(&ld->elf, &sym);
    if (sym.shndx == HR_SHN_UNDEF) {
        size_t at;
        if (!find_u32(ld->imp_sym, ld->mod->nimports, idx, &at))
            return hr_fail(err, HR_E_FORMAT, "symbol %u ('%s') is undefined but has no name",
                           idx, *name);
        *S = ld->mod->imports[at].addr;
        return HR_OK;
    }
    if (sym.shndx == HR_SHN_ABS) {
        *S = sym.value;
        return HR_OK;
    }
    if (sym.shndx >= ld->elf.shnum || ld->map[sym.shndx] < 0)
        return hr_fail(err, HR_E_FORMAT, "symbol '%s' is defined in section %u, which is not "
                       "loaded", *name, sym.shndx);
    const struct hr_section_info *si = &ld->mod->secs[ld->map[sym.shndx]];
    if (sym.value > si->size)
        return hr_fail(err, HR_E_FORMAT, "symbol '%s' (value %#llx) lies outside section %s "
                       "(size %#llx)", *name, (unsigned long long)sym.value, si->name,
                       (unsigned long long)si->size);
    *S = si->addr + sym.value;
    return HR_OK;
}

/* Imports: every named undefined symbol, resolved through the firmware. */
static enum hr_status resolve_imports(struct hr_ld *ld, struct hr_error *err)
{
    struct hr_module *mod = ld->mod;
    size_t n = 0, missing = 0;
    const char *first = NULL;
    for (uint32_t i = 1; i < ld->elf.nsyms; i++) {
        struct hr_sym sym;
        hr_elf_sym(&ld->elf, i, &sym);
        if (sym.shndx != HR_SHN_UNDEF || sym.name == 0)
            continue;
        const char *name = keep_name(ld, hr_elf_symname(&ld->elf, &sym));
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

/* ---- relocation sites ------------------------------------------------- */

static enum hr_status make_site(struct hr_ld *ld, uint32_t relsec, uint64_t i, struct hr_site *s,
                                struct hr_error *err)
{
    struct hr_shdr rsh;
    hr_elf_shdr(&ld->elf, relsec, &rsh);
    const struct hr_section_info *si = &ld->mod->secs[ld->map[rsh.info]];
    memset(s, 0, sizeof *s);
    s->ld = ld;
    s->relsec = relsec;
    s->index = i;
    s->secname = si->name;
    hr_elf_rela(&ld->elf, &rsh, i, &s->r);
    s->A = s->r.addend;
    if (s->r.offset > si->size)
        return hr_fail(err, HR_E_FORMAT, "relocation %llu of %s: offset %#llx is outside the "
                       "section (size %#llx)", (unsigned long long)i, si->name,
                       (unsigned long long)s->r.offset, (unsigned long long)si->size);
    if (!si->bytes)
        return hr_fail(err, HR_E_FORMAT, "relocation %llu applies to %s, which has no contents "
                       "(NOBITS)", (unsigned long long)i, si->name);
    s->loc = (uint8_t *)si->bytes + s->r.offset;
    s->room = si->size - s->r.offset;
    s->P = si->addr + s->r.offset;
    return sym_addr(ld, s->r.sym, &s->S, &s->symname, err);
}

enum hr_status hr_site_fail(const struct hr_site *s, struct hr_error *err, enum hr_status status,
                            const char *fmt, ...)
{
    if (!err)
        return status;
    const char *tname = s->ld->ops->name(s->r.type);
    size_t n;
    if (tname)
        n = hr_fmt(err->msg, sizeof err->msg, "%s", tname);
    else
        n = hr_fmt(err->msg, sizeof err->msg, "relocation type %u", s->r.type);
    n += hr_fmt(err->msg + n, sizeof err->msg - n, " at %s+%#llx", s->secname,
                (unsigned long long)s->r.offset);
    if (s->symname && *s->symname)
        n += hr_fmt(err->msg + n, sizeof err->msg - n, " against '%s'", s->symname);
    n += hr_fmt(err->msg + n, sizeof err->msg - n, ": ");
    va_list ap;
    va_start(ap, fmt);
    hr_vfmt(err->msg + n, sizeof err->msg - n, fmt, ap);
    va_end(ap);
    err->status = status;
    return status;
}

enum hr_status hr_site_room(const struct hr_site *s, uint64_t bytes, struct hr_error *err)
{
    if (bytes <= s->room)
        return HR_OK;
    return hr_site_fail(s, err, HR_E_FORMAT, "the %llu-byte field runs past the end of the "
                        "section", (unsigned long long)bytes);
}

enum hr_status hr_got_slot(const struct hr_site *s, hr_addr_t *slot, struct hr_error *err)
{
    size_t at;
    if (!find_u32(s->ld->got_sym, s->ld->ngot, s->r.sym, &at))
        return hr_site_fail(s, err, HR_E_RELOC, "no GOT slot was reserved");
    *slot = s->ld->got.addr + (hr_addr_t)at * s->ld->got_entsize;
    return HR_OK;
}

enum hr_status hr_veneer(const struct hr_site *s, hr_addr_t *at, struct hr_error *err)
{
    size_t i;
    if (!find_u32(s->ld->ven_sym, s->ld->nven, s->r.sym, &i))
        return hr_site_fail(s, err, HR_E_RANGE, "target is out of reach and is not an import "
                            "that a veneer could reach");
    *at = s->ld->ven.addr + (hr_addr_t)i * s->ld->ops->veneer_size;
    return HR_OK;
}

/* Is relocation section `relsec` sorted by offset (as assemblers write them)?
 * Computed once per section: 1 sorted, 2 not. */
static bool rels_sorted(struct hr_ld *ld, uint32_t relsec, const struct hr_shdr *rsh)
{
    if (!ld->sorted[relsec]) {
        uint64_t n = hr_elf_rela_count(&ld->elf, rsh), prev = 0;
        ld->sorted[relsec] = 1;
        for (uint64_t i = 0; i < n; i++) {
            struct hr_rela r;
            hr_elf_rela(&ld->elf, rsh, i, &r);
            if (r.offset < prev) {
                ld->sorted[relsec] = 2;
                break;
            }
            prev = r.offset;
        }
    }
    return ld->sorted[relsec] == 1;
}

enum hr_status hr_find_partner(const struct hr_site *s, hr_addr_t place,
                               bool (*match)(uint32_t type), struct hr_site *out,
                               struct hr_error *err)
{
    struct hr_ld *ld = s->ld;
    struct hr_shdr rsh;
    hr_elf_shdr(&ld->elf, s->relsec, &rsh);
    const struct hr_section_info *si = &ld->mod->secs[ld->map[rsh.info]];
    uint64_t n = hr_elf_rela_count(&ld->elf, &rsh), lo = 0, hi = n;
    struct hr_rela r;
    if (place >= si->addr && place - si->addr <= si->size) {
        uint64_t off = place - si->addr;
        if (rels_sorted(ld, s->relsec, &rsh)) {
            /* Binary search for the first relocation at `off`: linear-time
             * pairing would let a hostile module cost O(n^2). */
            while (lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2;
                hr_elf_rela(&ld->elf, &rsh, mid, &r);
                if (r.offset < off)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            hi = n;
        }
        for (uint64_t i = lo; i < hi; i++) {
            hr_elf_rela(&ld->elf, &rsh, i, &r);
            if (r.offset == off && match(r.type))
                return make_site(ld, s->relsec, i, out, err);
            if (r.offset > off && ld->sorted[s->relsec] == 1)
                break;
        }
    }
    return hr_site_fail(s, err, HR_E_RELOC, "no matching high-part relocation at %#llx",
                        (unsigned long long)place);
}

static void count_type(struct hr_module *mod, uint32_t type)
{
    for (size_t i = 0; i < mod->nstats; i++)
        if (mod->stats[i].type == type) {
            mod->stats[i].count++;
            return;
        }
    if (mod->nstats < HR_MAX_STATS)
        mod->stats[mod->nstats++] = (struct hr_reloc_count){type, 1};
}

/* Each placed section's relocation sections, in file order. */
static bool next_relsec(struct hr_ld *ld, uint32_t *i, struct hr_shdr *rsh)
{
    for ((*i)++; *i < ld->elf.shnum; (*i)++) {
        hr_elf_shdr(&ld->elf, *i, rsh);
        if (rsh->type == HR_SHT_RELA && ld->map[rsh->info] >= 0)
            return true;
    }
    return false;
}

/* Check every relocation's type and symbol, and list the symbols that need a
 * GOT slot or a veneer. With `fill` false it only counts. */
static enum hr_status scan_relocs(struct hr_ld *ld, bool fill, struct hr_error *err)
{
    size_t ngot = 0, nven = 0;
    struct hr_shdr rsh;
    for (uint32_t rs = 0; next_relsec(ld, &rs, &rsh);) {
        uint64_t n = hr_elf_rela_count(&ld->elf, &rsh);
        for (uint64_t i = 0; i < n; i++) {
            struct hr_rela r;
            hr_elf_rela(&ld->elf, &rsh, i, &r);
            const char *sec = ld->mod->secs[ld->map[rsh.info]].name;
            if (!ld->ops->name(r.type))
                return hr_fail(err, HR_E_RELOC, "unknown %s relocation type %u at %s+%#llx: the "
                               "loader does not implement it", hr_arch_name(ld->cfg->arch),
                               r.type, sec, (unsigned long long)r.offset);
            if (r.sym >= ld->elf.nsyms)
                return hr_fail(err, HR_E_FORMAT, "%s at %s+%#llx: symbol index %u is out of "
                               "range (%u symbols)", ld->ops->name(r.type), sec,
                               (unsigned long long)r.offset, r.sym, ld->elf.nsyms);
            enum hr_need need = ld->ops->need(r.type);
            if (need == HR_NEED_GOT) {
                if (fill)
                    ld->got_sym[ngot] = r.sym;
                ngot++;
            } else if (need == HR_NEED_VENEER && ld->ops->veneer_size) {
                struct hr_sym sym;
                hr_elf_sym(&ld->elf, r.sym, &sym);
                if (r.sym == 0 || sym.shndx != HR_SHN_UNDEF)
                    continue;
                if (fill)
                    ld->ven_sym[nven] = r.sym;
                nven++;
            }
        }
    }
    ld->ngot = ngot;
    ld->nven = nven;
    return HR_OK;
}

static enum hr_status apply_relocs(struct hr_ld *ld, struct hr_error *err)
{
    struct hr_shdr rsh;
    for (uint32_t rs = 0; next_relsec(ld, &rs, &rsh);) {
        uint64_t n = hr_elf_rela_count(&ld->elf, &rsh);
        for (uint64_t i = 0; i < n; i++) {
            struct hr_site s;
            enum hr_status st = make_site(ld, rs, i, &s, err);
            if (st == HR_OK)
                st = ld->ops->apply(&s, err);
            if (st != HR_OK)
                return st;
            count_type(ld->mod, s.r.type);
        }
    }
    return HR_OK;
}

/* ---- layout ----------------------------------------------------------- */

struct counts {
    size_t placed, imports, exports, names;
};

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
        if (sh.type == HR_SHT_REL && sh.info < ld->elf.shnum) {
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
        c->placed++;
        c->names += strlen(name) + 1;
    }
    struct hr_shdr symtab;
    hr_elf_shdr(&ld->elf, ld->elf.symtab, &symtab);
    for (uint32_t i = 1; i < ld->elf.nsyms; i++) {
        struct hr_sym sym;
        hr_elf_sym(&ld->elf, i, &sym);
        const char *name = hr_elf_symname(&ld->elf, &sym);
        if (sym.name && !hr_elf_str(&ld->elf, symtab.link, sym.name))
            return hr_fail(err, HR_E_FORMAT, "symbol %u: name offset %#x lies outside the "
                           "string table", i, sym.name);
        if (sym.shndx == HR_SHN_COMMON)
            return hr_fail(err, HR_E_FORMAT, "symbol '%s' is a common symbol: build the module "
                           "with -fno-common (the default since GCC 10)", name);
        if (sym.type == HR_STT_TLS)
            return hr_fail(err, HR_E_FORMAT, "symbol '%s' is thread-local, which modules cannot "
                           "have", name);
        if (sym.shndx == HR_SHN_UNDEF) {
            if (sym.name) {
                c->imports++;
                c->names += strlen(name) + 1;
            }
        } else if (sym.shndx < HR_SHN_LORESERVE && sym.shndx >= ld->elf.shnum) {
            return hr_fail(err, HR_E_FORMAT, "symbol '%s': section index %u is out of range "
                           "(%u sections)", name, sym.shndx, ld->elf.shnum);
        } else if (sym.bind != HR_STB_LOCAL && sym.name && sym.shndx != HR_SHN_ABS &&
                   sym.shndx < HR_SHN_LORESERVE) {
            c->exports++;
            c->names += strlen(name) + 1;
        }
    }
    return HR_OK;
}

/* Give every loaded section a slot, then an offset inside its region. */
static enum hr_status place(struct hr_ld *ld, uint64_t size[HR_REGION_COUNT],
                            uint64_t align[HR_REGION_COUNT], struct hr_error *err)
{
    struct hr_module *mod = ld->mod;
    for (uint32_t i = 0; i < ld->elf.shnum; i++)
        ld->map[i] = -1;
    for (uint32_t i = 1; i < ld->elf.shnum; i++) {
        struct hr_shdr sh;
        enum hr_region_kind kind;
        hr_elf_shdr(&ld->elf, i, &sh);
        if (!classify(&ld->elf, i, &sh, &kind))
            continue;
        struct hr_section_info *si = &mod->secs[mod->nsecs];
        ld->map[i] = (int32_t)mod->nsecs++;
        si->name = keep_name(ld, hr_elf_secname(&ld->elf, i));
        si->kind = kind;
        si->size = sh.size;
    }
    for (int k = 0; k < HR_REGION_COUNT; k++) {
        size[k] = 0;
        align[k] = 1;
        for (int rank = 0; rank < 2; rank++)
            for (uint32_t i = 1; i < ld->elf.shnum; i++) {
                if (ld->map[i] < 0)
                    continue;
                struct hr_section_info *si = &mod->secs[ld->map[i]];
                struct hr_shdr sh;
                hr_elf_shdr(&ld->elf, i, &sh);
                if ((int)si->kind != k || order_rank(si, sh.type) != rank)
                    continue;
                uint64_t a = sh.addralign ? sh.addralign : 1;
                size[k] = align_up(size[k], a);
                ld->offset[ld->map[i]] = size[k];
                size[k] += sh.size;
                if (a > align[k])
                    align[k] = a;
            }
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
    if (ld->got_import)
        ld->got_import->addr = ld->got.addr;
    return HR_OK;
}

/* GOT slots and veneers are listed as sections so that reports, the dry run
 * and the debugger see every byte the loader placed. */
static enum hr_status fill_loader_built(struct hr_ld *ld, struct hr_error *err)
{
    struct hr_module *mod = ld->mod;
    for (size_t i = 0; i < ld->ngot; i++) {
        hr_addr_t S;
        const char *name;
        enum hr_status st = sym_addr(ld, ld->got_sym[i], &S, &name, err);
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
        const char *name;
        enum hr_status st = sym_addr(ld, ld->ven_sym[i], &S, &name, err);
        if (st != HR_OK)
            return st;
        size_t off = i * ld->ops->veneer_size;
        ld->ops->write_veneer(ld->ven.write + off, ld->ven.addr + off, S);
    }
    if (ld->ngot)
        mod->secs[mod->nsecs++] = (struct hr_section_info){
            ".hr.got", HR_REGION_DATA, ld->got.addr, ld->got.write, ld->got.size, true};
    if (ld->nven)
        mod->secs[mod->nsecs++] = (struct hr_section_info){
            ".hr.veneers", HR_REGION_TEXT, ld->ven.addr, ld->ven.write, ld->ven.size, true};
    return HR_OK;
}

static void collect_exports(struct hr_ld *ld)
{
    struct hr_module *mod = ld->mod;
    for (uint32_t i = 1; i < ld->elf.nsyms; i++) {
        struct hr_sym sym;
        hr_elf_sym(&ld->elf, i, &sym);
        if (sym.bind == HR_STB_LOCAL || !sym.name || sym.shndx == HR_SHN_UNDEF ||
            sym.shndx >= ld->elf.shnum || ld->map[sym.shndx] < 0)
            continue;
        const struct hr_section_info *si = &mod->secs[ld->map[sym.shndx]];
        if (sym.value > si->size)
            continue;
        struct hr_export_info *e = &mod->exports[mod->nexports++];
        e->name = keep_name(ld, hr_elf_symname(&ld->elf, &sym));
        e->addr = si->addr + sym.value;
        e->size = sym.size;
        e->kind = sym.type == HR_STT_FUNC || (sym.type == HR_STT_NOTYPE &&
                                              si->kind == HR_REGION_TEXT)
                      ? HR_EXPORT_FUNC : HR_EXPORT_DATA;
    }
}

/* ---- entry points ----------------------------------------------------- */

static void free_work(struct hr_ld *ld)
{
    const struct hr_port *port = ld->cfg->port;
    release(port, ld->map);
    release(port, ld->sorted);
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
    if (st == HR_OK)
        st = survey(ld, &c, err);
    if (st != HR_OK)
        return st;
    struct hr_module *mod = ld->mod;
    ld->map = zalloc(port, ld->elf.shnum * sizeof *ld->map);
    ld->sorted = zalloc(port, ld->elf.shnum);
    ld->offset = zalloc(port, c.placed * sizeof *ld->offset);
    ld->imp_sym = zalloc(port, c.imports * sizeof *ld->imp_sym);
    mod->secs = zalloc(port, (c.placed + 2) * sizeof *mod->secs);
    mod->imports = zalloc(port, c.imports * sizeof *mod->imports);
    mod->exports = zalloc(port, c.exports * sizeof *mod->exports);
    mod->names = zalloc(port, c.names);
    if (!ld->map || !ld->sorted || !ld->offset || !ld->imp_sym || !mod->secs || !mod->imports ||
        !mod->exports || !mod->names)
        return hr_fail(err, HR_E_NOMEM, "out of memory for the loader's tables (%zu sections, "
                       "%zu imports, %zu exports)", c.placed, c.imports, c.exports);
    ld->name_next = mod->names;
    mod->nimports = c.imports;
    ld->got_entsize = ld->ops->is64 ? 8 : 4;

    uint64_t rsize[HR_REGION_COUNT], ralign[HR_REGION_COUNT];
    /* map[] must exist before relocations are scanned, so place() runs
     * twice: once to map sections, once more with the GOT/veneer sizes. */
    mod->nsecs = 0;
    ld->name_next = mod->names;
    if ((st = place(ld, rsize, ralign, err)) != HR_OK)
        return st;
    if ((st = scan_relocs(ld, false, err)) != HR_OK)
        return st;
    ld->got_sym = zalloc(port, ld->ngot * sizeof *ld->got_sym);
    ld->ven_sym = zalloc(port, ld->nven * sizeof *ld->ven_sym);
    if (!ld->got_sym || !ld->ven_sym)
        return hr_fail(err, HR_E_NOMEM, "out of memory for GOT and veneer tables");
    scan_relocs(ld, true, err);
    sort_u32(ld->got_sym, ld->ngot);
    ld->ngot = uniq_u32(ld->got_sym, ld->ngot);
    sort_u32(ld->ven_sym, ld->nven);
    ld->nven = uniq_u32(ld->ven_sym, ld->nven);
    mod->nsecs = 0;
    ld->name_next = mod->names;
    if ((st = place(ld, rsize, ralign, err)) != HR_OK)
        return st;
    if ((st = resolve_imports(ld, err)) != HR_OK)
        return st;
    if ((st = alloc_regions(ld, rsize, ralign, err)) != HR_OK)
        return st;
    if ((st = fill_loader_built(ld, err)) != HR_OK)
        return st;
    if ((st = apply_relocs(ld, err)) != HR_OK)
        return st;
    collect_exports(ld);
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
    ld.ops = ops_for(cfg->arch);
    if (!ld.ops)
        return hr_fail(err, HR_E_ARG, "unknown architecture %d", (int)cfg->arch);
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
    release(port, mod->names);
    port->free(port->ctx, mod);
}

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

size_t hr_module_reloc_stats(const struct hr_module *mod, const struct hr_reloc_count **out)
{
    *out = mod->stats;
    return mod->nstats;
}
