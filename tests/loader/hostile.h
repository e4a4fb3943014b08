/* loader_hostile's shared parts: ELF field access (hostile_elf.c), running
 * one load against its expectation (hostile_run.c), and the targeted
 * corruption families (hostile_structure.c, hostile_symrel.c) that
 * hostile.c drives over each module. */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotreload/loader.h"

/* ---- ELF field access by offset (hostile_elf.c) -------------------------- */

/* One field's place in the ELF64 and the ELF32 record, so each corruption
 * is written once for both classes. */
struct fld {
    uint8_t off64, w64, off32, w32;
};

enum { EH_TYPE, EH_MACHINE, EH_SHOFF, EH_SHENTSIZE, EH_SHNUM, EH_SHSTRNDX };
enum { SH_NAME, SH_TYPE, SH_FLAGS, SH_OFFSET, SH_SIZE, SH_LINK, SH_INFO, SH_ADDRALIGN,
       SH_ENTSIZE };
enum { ST_NAME, ST_INFO, ST_SHNDX, ST_VALUE };
enum { RA_OFFSET, RA_INFO };
extern const struct fld eh_f[], sh_f[], st_f[], ra_f[];

struct elfv {
    uint8_t *b;
    size_t n;
    bool is64;
};

uint64_t fget(const struct elfv *e, uint64_t base, struct fld f);
void fset(struct elfv *e, uint64_t base, struct fld f, uint64_t v);
uint64_t eh(const struct elfv *e, int f);
void eh_set(struct elfv *e, int f, uint64_t v);
uint64_t sh(const struct elfv *e, unsigned i, int f);
void sh_set(struct elfv *e, unsigned i, int f, uint64_t v);
unsigned shnum(const struct elfv *e);
int find_type(const struct elfv *e, uint32_t type);
int find_alloc_progbits(const struct elfv *e, int not);
int find_loaded_nobits(const struct elfv *e);
int find_rela(const struct elfv *e);
uint64_t sym_at(const struct elfv *e, unsigned i);
unsigned nsyms(const struct elfv *e);
const char *symname(const struct elfv *e, unsigned i);
int find_global(const struct elfv *e, bool want_undef);

/* ---- running one case (hostile_run.c) ------------------------------------ */

extern int g_cases, g_passed, g_failed;
extern bool g_verbose;

void failf(const char *label, const char *fmt, ...);

enum want { W_OK, W_FAIL, W_ANY, W_STATUS };

struct expect {
    enum want want;
    enum hr_status st, st2;  /* W_STATUS: either is accepted (st2 = st for one) */
    const char *word;        /* W_STATUS: the message must contain it */
};

static inline struct expect e_ok(void) { return (struct expect){W_OK, HR_OK, HR_OK, NULL}; }
static inline struct expect e_fail(void) { return (struct expect){W_FAIL, HR_OK, HR_OK, NULL}; }
static inline struct expect e_any(void) { return (struct expect){W_ANY, HR_OK, HR_OK, NULL}; }
static inline struct expect e_st(enum hr_status st, const char *word)
{
    return (struct expect){W_STATUS, st, st, word};
}

struct loadopt {
    enum hr_arch arch;
    const char *deny;
    long fail_alloc_at, fail_region_at;
    long *alloc_calls, *region_calls; /* out: how many calls the load made */
};

static inline struct loadopt opt(enum hr_arch arch)
{
    return (struct loadopt){arch, NULL, -1, -1, NULL, NULL};
}

/* Load `img` (copied into an exactly-sized buffer) and check the outcome.
 * Returns the status; counts the case. */
enum hr_status run_case(const char *label, const struct loadopt *o, const uint8_t *img,
                        size_t n, struct expect ex, char *msg_out, size_t msg_size);

/* hr_module_load's own argument checks: three cases, none needs a module. */
void check_bad_calls(void);

/* ---- the module under test ----------------------------------------------- */

struct subject {
    const char *path;
    enum hr_arch arch;
    uint8_t *img;
    size_t n;
    bool is64;
    bool ready; /* the valid module loads: relocation-level checks are strict */
};

struct elfv fresh(const struct subject *s, uint8_t *buf);
void label_of(char *out, size_t size, const struct subject *s, const char *what);
void targeted(const struct subject *s, const char *what, const struct elfv *e,
              struct expect ex, bool late);

/* Targeted corruptions, each family on a scratch buffer of s->n bytes. */
void corrupt_structure(const struct subject *s, uint8_t *buf); /* hostile_structure.c */
void corrupt_symbols(const struct subject *s, uint8_t *buf);   /* hostile_symrel.c */
void corrupt_relocs(const struct subject *s, uint8_t *buf);    /* hostile_symrel.c */

#endif
