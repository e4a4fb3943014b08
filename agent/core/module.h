/* The loader's own state, shared by loader.c (layout), symbols.c and
 * relocate.c. Relocators see only loader_int.h. */
#ifndef HR_MODULE_H
#define HR_MODULE_H

#include "loader_int.h"

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
    struct hr_export_info *persist;
    size_t npersist;
    char *names;
    struct hr_reloc_count *stats; /* one per relocation type the module uses */
    size_t nstats, stats_cap;
};

/* What the loader learns of a section once and looks up often. */
enum {
    HR_SEC_SORTED = 1,   /* relocation section, sorted by offset */
    HR_SEC_UNSORTED = 2, /* relocation section, not sorted (neither bit: not looked at yet) */
    HR_SEC_PERSIST = 4,  /* named .hotreload.persist*: HOTRELOAD_PERSIST variables */
    HR_SEC_PLACED = 8,   /* loaded: its slot in the layout is secflags >> HR_SEC_SLOT_SHIFT */
};
/* A loaded section's place in the layout: its region kind, then literal
 * pools before code and initialised bytes before zeroed ones (2 * kind +
 * rank), found once by the survey. */
#define HR_SEC_SLOT_SHIFT 4
#define HR_SEC_SLOTS (2 * HR_REGION_COUNT)

struct hr_ld {
    struct hr_elf elf;
    const struct hr_load_config *cfg;
    const struct hr_arch_ops *ops;
    struct hr_module *mod;
    int32_t *map;          /* ELF section index -> index in mod->secs, or -1 */
    uint8_t *secflags;     /* per section: HR_SEC_* */
    uint64_t *offset;      /* per placed section: offset inside its region */
    uint32_t *imp_sym;     /* symbol index of each import, ascending */
    uint32_t *got_sym;     /* symbols with a GOT slot, ascending */
    size_t ngot;
    uint32_t *ven_sym;     /* imports with a veneer, ascending */
    size_t nven;
    unsigned got_entsize;
    struct hr_mem got, ven;
    char *name_next;
};

bool hr_find_u32(const uint32_t *v, size_t n, uint32_t key, size_t *at);
const char *hr_keep_name(struct hr_ld *ld, const char *s);
const char *hr_sym_name(const struct hr_ld *ld, uint32_t idx);
/* Why hr_sym_addr found no address for symbol idx (cold: the message). */
enum hr_status hr_sym_fail(const struct hr_ld *ld, uint32_t idx, struct hr_error *err);

/* S of symbol idx for a relocation. Inline, its failures out of line:
 * every relocation asks. */
HR_HOT enum hr_status hr_sym_addr(struct hr_ld *ld, uint32_t idx, hr_addr_t *S,
                                  struct hr_error *err)
{
    struct hr_sym sym;
    size_t at;
    *S = 0;
    if (idx == 0)
        return HR_OK;
    if (idx >= ld->elf.nsyms)
        return hr_sym_fail(ld, idx, err);
    hr_elf_sym(&ld->elf, idx, &sym);
    if (sym.shndx == HR_SHN_UNDEF) {
        if (!hr_find_u32(ld->imp_sym, ld->mod->nimports, idx, &at))
            return hr_sym_fail(ld, idx, err);
        *S = ld->mod->imports[at].addr;
        return HR_OK;
    }
    if (sym.shndx == HR_SHN_ABS) {
        *S = sym.value;
        return HR_OK;
    }
    if (sym.shndx >= ld->elf.shnum || ld->map[sym.shndx] < 0)
        return hr_sym_fail(ld, idx, err);
    const struct hr_section_info *si = &ld->mod->secs[ld->map[sym.shndx]];
    /* A local symbol may lie past its section's end: GCC's section anchors
     * (.LANCHORn, every 4 KiB of a large .data) do. Its value is only
     * arithmetic for relocations, whose sites are checked on their own; a
     * global one can be an export whose bytes are read, so it must lie inside. */
    if (sym.value > si->size && sym.bind != HR_STB_LOCAL)
        return hr_sym_fail(ld, idx, err);
    *S = si->addr + sym.value;
    return HR_OK;
}
enum hr_status hr_bind_symbols(struct hr_ld *ld, struct hr_error *err);
/* Is `sym` a variable kept across reloads (HOTRELOAD_PERSIST)? */
static inline bool hr_is_persist(const struct hr_ld *ld, const struct hr_sym *sym)
{
    return sym->type == HR_STT_OBJECT && sym->shndx != HR_SHN_UNDEF &&
           sym->shndx < ld->elf.shnum && (ld->secflags[sym->shndx] & HR_SEC_PERSIST);
}
/* Check every relocation's type and symbol, and list the symbols that need a
 * GOT slot or a veneer. With `fill` false it only counts (and counts the
 * distinct relocation types into mod->stats_cap). */
enum hr_status hr_scan_relocs(struct hr_ld *ld, bool fill, struct hr_error *err);
enum hr_status hr_apply_relocs(struct hr_ld *ld, struct hr_error *err);

#endif
