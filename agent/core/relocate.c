/* Relocation sites: what each relocation's formula needs (S, A, P, where
 * to write), the services relocators call, and the passes over all
 * relocations of the loaded sections. */
#include <string.h>

#include "module.h"

/* A relocation section with what every one of its relocations shares,
 * looked up once: its header and the placed section it applies to. */
struct relsec {
    uint32_t idx;
    bool rel; /* SHT_REL: addends are in the places (the relocator reads them) */
    struct hr_shdr sh;
    const uint8_t *table;
    size_t n;
    const struct hr_section_info *target;
};

static void relsec_at(struct hr_ld *ld, uint32_t idx, struct relsec *rs)
{
    rs->idx = idx;
    hr_elf_shdr(&ld->elf, idx, &rs->sh);
    rs->rel = HR_REL && rs->sh.type == HR_SHT_REL;
    rs->table = hr_elf_rela_table(&ld->elf, &rs->sh);
    rs->n = hr_elf_rela_count(&ld->elf, &rs->sh);
    rs->target = &ld->mod->secs[ld->map[rs->sh.info]];
}

/* Why relocation i of rs has no site (cold: out of line, so that the hot
 * path keeps its registers). */
static enum hr_status site_fail(const struct relsec *rs, size_t i, hr_addr_t off,
                                struct hr_error *err)
{
    const struct hr_section_info *si = rs->target;
    if (off > si->size)
        return hr_fail(err, HR_E_FORMAT, "relocation %llu of %s: offset %#llx is outside the "
                       "section (size %#llx)", (unsigned long long)i, si->name,
                       (unsigned long long)off, (unsigned long long)si->size);
    return hr_fail(err, HR_E_FORMAT, "relocation %llu applies to %s, which has no contents "
                   "(NOBITS)", (unsigned long long)i, si->name);
}

/* Every field is set here, none zeroed in bulk: this runs once per
 * relocation, and names are looked up only when a message needs them. */
HR_HOT enum hr_status make_site(struct hr_ld *ld, const struct relsec *rs, size_t i,
                                struct hr_site *s, struct hr_error *err)
{
    const struct hr_section_info *si = rs->target;
    s->ld = ld;
    s->relsec = rs->idx;
    if (HR_REL && rs->rel)
        hr_elf_rel(&ld->elf, rs->table, i, &s->r);
    else
        hr_elf_rela(&ld->elf, rs->table, i, &s->r);
    s->A = s->r.addend;
    if (s->r.offset > si->size || !si->bytes)
        return site_fail(rs, i, s->r.offset, err);
    s->loc = (uint8_t *)si->bytes + s->r.offset;
    s->room = si->size - s->r.offset;
    s->P = si->addr + s->r.offset;
    /* REL: the addend is what the place holds before it is patched. */
    enum hr_status st = HR_REL && rs->rel ? ld->ops->addend(s, err) : HR_OK;
    return st == HR_OK ? hr_sym_addr(ld, s->r.sym, &s->S, err) : st;
}

enum hr_status hr_site_fail(const struct hr_site *s, struct hr_error *err, enum hr_status status,
                            const char *fmt, ...)
{
    if (!err)
        return status;
    struct hr_ld *ld = s->ld;
    struct hr_shdr rsh;
    hr_elf_shdr(&ld->elf, s->relsec, &rsh);
    const char *tname = ld->ops->name(s->r.type);
    const char *symname = s->r.sym ? hr_sym_name(ld, s->r.sym) : "";
    size_t n;
    if (tname)
        n = hr_fmt(err->msg, sizeof err->msg, "%s", tname);
    else
        n = hr_fmt(err->msg, sizeof err->msg, "relocation type %u", s->r.type);
    n += hr_fmt(err->msg + n, sizeof err->msg - n, " at %s+%#llx",
                ld->mod->secs[ld->map[rsh.info]].name, (unsigned long long)s->r.offset);
    if (*symname)
        n += hr_fmt(err->msg + n, sizeof err->msg - n, " against '%s'", symname);
    n += hr_fmt(err->msg + n, sizeof err->msg - n, ": ");
    va_list ap;
    va_start(ap, fmt);
    hr_vfmt(err->msg + n, sizeof err->msg - n, fmt, ap);
    va_end(ap);
    err->status = status;
    return status;
}

void hr_site_sym(const struct hr_site *s, struct hr_sym *out)
{
    hr_elf_sym(&s->ld->elf, s->r.sym, out);
}

enum hr_status hr_site_room_fail(const struct hr_site *s, hr_addr_t bytes, struct hr_error *err)
{
    return hr_site_fail(s, err, HR_E_FORMAT, "the %llu-byte field runs past the end of the "
                        "section", (unsigned long long)bytes);
}

hr_addr_t hr_got_base(const struct hr_site *s)
{
    return s->ld->got.addr;
}

enum hr_status hr_got_slot(const struct hr_site *s, hr_addr_t *slot, struct hr_error *err)
{
    size_t at;
    if (!hr_find_u32(s->ld->got_sym, s->ld->ngot, s->r.sym, &at))
        return hr_site_fail(s, err, HR_E_RELOC, "no GOT slot was reserved");
    *slot = s->ld->got.addr + (hr_addr_t)at * s->ld->got_entsize;
    return HR_OK;
}

enum hr_status hr_veneer(const struct hr_site *s, hr_addr_t *at, struct hr_error *err)
{
    size_t i;
    if (!hr_find_u32(s->ld->ven_sym, s->ld->nven, s->r.sym, &i))
        return hr_site_fail(s, err, HR_E_RANGE, "target is out of reach and is not an import "
                            "that a veneer could reach");
    *at = s->ld->ven.addr + (hr_addr_t)i * s->ld->ops->veneer_size;
    return HR_OK;
}

/* Is relocation section rs sorted by offset (as assemblers write them)?
 * Computed once per section. */
static bool rels_sorted(struct hr_ld *ld, const struct relsec *rs)
{
    uint8_t *flags = &ld->secflags[rs->idx];
    if (!(*flags & (HR_SEC_SORTED | HR_SEC_UNSORTED))) {
        hr_addr_t prev = 0;
        *flags |= HR_SEC_SORTED;
        for (size_t i = 0; i < rs->n; i++) {
            struct hr_rela r;
            hr_elf_rela(&ld->elf, rs->table, i, &r);
            if (r.offset < prev) {
                *flags ^= HR_SEC_SORTED | HR_SEC_UNSORTED;
                break;
            }
            prev = r.offset;
        }
    }
    return *flags & HR_SEC_SORTED;
}

enum hr_status hr_find_partner(const struct hr_site *s, hr_addr_t place,
                               bool (*match)(uint32_t type), struct hr_site *out,
                               struct hr_error *err)
{
    struct hr_ld *ld = s->ld;
    struct relsec rs;
    relsec_at(ld, s->relsec, &rs);
    const struct hr_section_info *si = rs.target;
    size_t n = rs.n, lo = 0, hi = n;
    struct hr_rela r;
    if (rs.rel || !rels_sorted(ld, &rs))
        /* Pairing searches by offset; a linear search instead would let a
         * hostile module cost O(n^2). GNU as and ld -r write them sorted. */
        return hr_site_fail(s, err, HR_E_FORMAT, "its relocation section is not sorted by "
                            "offset, which pairing a low part with its high part needs (as "
                            "GNU as and ld -r write them)");
    if (place >= si->addr && place - si->addr <= si->size) {
        hr_addr_t off = place - si->addr;
        while (lo < hi) { /* the first relocation at `off` */
            size_t mid = lo + (hi - lo) / 2;
            hr_elf_rela(&ld->elf, rs.table, mid, &r);
            if (r.offset < off)
                lo = mid + 1;
            else
                hi = mid;
        }
        /* A high part shares its offset with a RELAX hint at most: a few
         * looks, never a walk through thousands stacked at one offset. */
        for (size_t i = lo; i < n && i < lo + 4; i++) {
            hr_elf_rela(&ld->elf, rs.table, i, &r);
            if (r.offset != off)
                break;
            if (match(r.type))
                return make_site(ld, &rs, i, out, err);
        }
    }
    return hr_site_fail(s, err, HR_E_RELOC, "no matching high-part relocation at %#llx",
                        (unsigned long long)place);
}

/* The statistics entry of `type`, added if there is room. */
static struct hr_reloc_count *count_of(struct hr_module *mod, uint32_t type)
{
    for (size_t i = 0; i < mod->nstats; i++)
        if (mod->stats[i].type == type)
            return &mod->stats[i];
    if (mod->nstats < mod->stats_cap) {
        mod->stats[mod->nstats] = (struct hr_reloc_count){type, 0};
        return &mod->stats[mod->nstats++];
    }
    return NULL;
}

/* Each placed section's relocation sections, in file order: RELA, or REL
 * where the relocator reads addends from the places (the survey refused
 * any other REL section of a placed one). */
static bool next_relsec(struct hr_ld *ld, uint32_t *i, struct hr_shdr *rsh)
{
    for ((*i)++; *i < ld->elf.shnum; (*i)++) {
        hr_elf_shdr(&ld->elf, *i, rsh);
        if ((rsh->type == HR_SHT_RELA ||
             (HR_REL && rsh->type == HR_SHT_REL && ld->ops->addend)) &&
            ld->map[rsh->info] >= 0)
            return true;
    }
    return false;
}

/* A relocation the scan refuses (cold: the message). */
static enum hr_status scan_fail(struct hr_ld *ld, const struct hr_shdr *rsh,
                                const struct hr_rela *r, struct hr_error *err)
{
    const char *sec = ld->mod->secs[ld->map[rsh->info]].name;
    if (r->type >= 256 || !ld->ops->name(r->type))
        return hr_fail(err, HR_E_RELOC, "unknown %s relocation type %u at %s+%#llx: the "
                       "loader does not implement it", hr_arch_name(ld->cfg->arch),
                       r->type, sec, (unsigned long long)r->offset);
    return hr_fail(err, HR_E_FORMAT, "%s at %s+%#llx: symbol index %u is out of "
                   "range (%u symbols)", ld->ops->name(r->type), sec,
                   (unsigned long long)r->offset, r->sym, ld->elf.nsyms);
}

/* Collect the symbol of a relocation that needs a GOT slot or a veneer. */
static void scan_need(struct hr_ld *ld, const struct hr_rela *r, bool fill, size_t *ngot,
                      size_t *nven)
{
    enum hr_need need = ld->ops->need(r->type);
    if (need == HR_NEED_GOT) {
        if (fill)
            ld->got_sym[*ngot] = r->sym;
        ++*ngot;
    } else if (need == HR_NEED_VENEER && ld->ops->veneer_size && r->sym) {
        struct hr_sym sym;
        hr_elf_sym(&ld->elf, r->sym, &sym);
        /* Outside the module: an import, or an absolute firmware address
         * (hotd bind --absolute). */
        if (sym.shndx != HR_SHN_UNDEF && sym.shndx != HR_SHN_ABS)
            return;
        if (fill)
            ld->ven_sym[*nven] = r->sym;
        ++*nven;
    }
}

enum hr_status hr_scan_relocs(struct hr_ld *ld, bool fill, struct hr_error *err)
{
    size_t ngot = 0, nven = 0;
    /* Per relocation type (every known one is below 256; the others are
     * refused): seen, and needs something built. The relocator is asked once
     * per type, not per relocation. */
    uint32_t seen[256 / 32] = {0}, needy[256 / 32] = {0};
    struct hr_shdr rsh;
    for (uint32_t rs = 0; next_relsec(ld, &rs, &rsh);) {
        const uint8_t *table = hr_elf_rela_table(&ld->elf, &rsh);
        size_t n = hr_elf_rela_count(&ld->elf, &rsh);
        bool rel = HR_REL && rsh.type == HR_SHT_REL;
        for (size_t i = 0; i < n; i++) {
            struct hr_rela r;
            if (rel)
                hr_elf_rel(&ld->elf, table, i, &r);
            else
                hr_elf_rela(&ld->elf, table, i, &r);
            uint32_t bit = 1u << r.type % 32, w = r.type / 32 % 8;
            if (r.type >= 256 || !(seen[w] & bit)) {
                if (r.type >= 256 || !ld->ops->name(r.type))
                    return scan_fail(ld, &rsh, &r, err);
                seen[w] |= bit;
                if (ld->ops->need(r.type) != HR_NEED_NONE)
                    needy[w] |= bit;
                if (!fill)
                    ld->mod->stats_cap++;
            }
            if (r.sym >= ld->elf.nsyms)
                return scan_fail(ld, &rsh, &r, err);
            if (needy[w] & bit)
                scan_need(ld, &r, fill, &ngot, &nven);
        }
    }
    ld->ngot = ngot;
    ld->nven = nven;
    return HR_OK;
}

enum hr_status hr_apply_relocs(struct hr_ld *ld, struct hr_error *err)
{
    struct hr_shdr rsh;
    struct hr_reloc_count *count = NULL;
    for (uint32_t idx = 0; next_relsec(ld, &idx, &rsh);) {
        struct relsec rs;
        relsec_at(ld, idx, &rs);
        for (size_t i = 0; i < rs.n; i++) {
            struct hr_site s;
            enum hr_status st = make_site(ld, &rs, i, &s, err);
            if (st == HR_OK)
                st = ld->ops->apply(&s, err);
            if (st != HR_OK)
                return st;
            if (!count || count->type != s.r.type)
                count = count_of(ld->mod, s.r.type);
            if (count)
                count->count++;
        }
    }
    return HR_OK;
}
