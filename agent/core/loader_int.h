/* What the loader core shares with its per-architecture relocators. */
#ifndef HR_LOADER_INT_H
#define HR_LOADER_INT_H

#include "elf.h"
#include "fmt.h"
#include "hotreload/loader.h"

struct hr_ld;

/* REL sections: only ARM's relocator reads addends from the places, so a
 * firmware's loader for another architecture (HR_NATIVE_RELOCATOR, see
 * names.c) carries no code for them, and its relocation loop no test. */
#if !defined(HR_NATIVE_RELOCATOR) || defined(__arm__)
#define HR_REL 1
#else
#define HR_REL 0
#endif

/* One relocation being applied, with everything its formula needs. */
struct hr_site {
    struct hr_ld *ld;
    struct hr_rela r;
    uint8_t *loc;          /* where the field is written */
    hr_addr_t room;        /* bytes from loc to the end of the section */
    hr_addr_t P;           /* address of the place as the module's code sees it */
    hr_addr_t S;           /* address of the symbol (0 for symbol index 0) */
    hr_addend_t A;         /* addend */
    uint32_t relsec;       /* the SHT_RELA section: pairing look-ups, messages */
};

/* What a relocation type needs the loader to build. */
enum hr_need { HR_NEED_NONE, HR_NEED_GOT, HR_NEED_VENEER };

struct hr_arch_ops {
    uint16_t machine;
    bool is64;
    const char *(*name)(uint32_t type);      /* NULL for unknown types */
    enum hr_need (*need)(uint32_t type);
    enum hr_status (*apply)(struct hr_site *s, struct hr_error *err);
    unsigned veneer_size;                    /* 0: this arch has no veneers */
    void (*write_veneer)(uint8_t *w, hr_addr_t at, hr_addr_t target);
    /* SHT_REL sections (ARM): set s->A to the addend the place holds for
     * the site's type, checking s->room. NULL: RELA only (REL refused). */
    enum hr_status (*addend)(struct hr_site *s, struct hr_error *err);
};

extern const struct hr_arch_ops hr_ops_x86_64;
extern const struct hr_arch_ops hr_ops_rv32;
extern const struct hr_arch_ops hr_ops_rv64;
extern const struct hr_arch_ops hr_ops_xtensa;
extern const struct hr_arch_ops hr_ops_arm;
/* The relocator for `arch`; NULL when this build does not hold it (see
 * names.c: a firmware's loader holds its own architecture's alone). */
const struct hr_arch_ops *hr_arch_ops(enum hr_arch arch);

/* Services for relocators. */
enum hr_status hr_site_room_fail(const struct hr_site *s, hr_addr_t bytes, struct hr_error *err);
/* Does the site's section hold `bytes` from the place on? (Every write checks.) */
HR_HOT enum hr_status hr_site_room(const struct hr_site *s, hr_addr_t bytes,
                                   struct hr_error *err)
{
    return bytes <= s->room ? HR_OK : hr_site_room_fail(s, bytes, err);
}
/* The site's symbol table entry (its type, where it is defined). */
void hr_site_sym(const struct hr_site *s, struct hr_sym *out);
/* Where the loader-built GOT starts (_GLOBAL_OFFSET_TABLE_; 0 when the
 * module has no GOT slots: GOT-relative code then computes from 0). */
hr_addr_t hr_got_base(const struct hr_site *s);
/* Address of the loader-built GOT slot holding the site's symbol. */
enum hr_status hr_got_slot(const struct hr_site *s, hr_addr_t *slot, struct hr_error *err);
/* Address of the veneer that jumps to the site's symbol. */
enum hr_status hr_veneer(const struct hr_site *s, hr_addr_t *at, struct hr_error *err);
/* Find, in the site's relocation section, a relocation whose place is
 * `place` and for which `match(type)` holds; fill `out` for it. Binary
 * search when the section's relocations are sorted by offset (as assemblers
 * write them), a linear scan otherwise; no table is built. */
enum hr_status hr_find_partner(const struct hr_site *s, hr_addr_t place,
                               bool (*match)(uint32_t type), struct hr_site *out,
                               struct hr_error *err);
/* "R_X at .text+0x1c against 'sym'" -- the common prefix of messages. */
enum hr_status hr_site_fail(const struct hr_site *s, struct hr_error *err,
                            enum hr_status status, const char *fmt, ...);

/* Does v fit a signed field of `bits` bits? */
static inline bool hr_fits_signed(int64_t v, unsigned bits)
{
    int64_t lim = (int64_t)1 << (bits - 1);
    return v >= -lim && v < lim;
}

#endif
