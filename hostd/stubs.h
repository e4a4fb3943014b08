/* The stubs of a module, as `hotd stubs` (at build time) and `hotd link`
 * (when the firmware links) generate them. */
#ifndef HOTD_STUBS_H
#define HOTD_STUBS_H

#include <stdio.h>

#include "elfsyms.h"

enum arch { X86_64, RV32, RV64, XTENSA, XTENSA_WIN, ARM };

/* The files generate_stubs writes, NAME + suffix, as a bit mask. */
enum {
    STUBS_ASM = 1,       /* NAME_stubs.S */
    STUBS_SYMTAB = 2,    /* NAME_symtab.c */
    STUBS_IMPORTS = 4,   /* NAME_imports.ld */
    STUBS_EXPORTS = 8,   /* NAME_exports.txt: the functions with a stub, in slot order */
    STUBS_FUNCTIONS = 16 /* NAME_functions.txt: every function the module exports */
};

/* The architecture named `name` (x86_64, rv32, ...), or -1 with the error said. */
int stubs_arch(const char *cmd, const char *name);

/* Read a module's interface for stubs: hotreload_* functions (the runtime's
 * hooks) dropped, names and machine checked against `arch`. 0, or -1 said. */
int stubs_read_module(const char *cmd, const char *path, enum arch arch, struct modsyms *m);

/* The files of `files` into dir, each only when its content changed. The
 * stubs are for all.exports, or for `stubbed` when not NULL (a subset).
 * 0, or -1 said; *written: how many were rewritten. */
int stubs_write(const char *cmd, enum arch arch, const char *name, const char *dir,
                const struct modsyms *all, const struct modsyms *stubbed, unsigned files,
                int *written);

/* NAME_stubs.S for the exports of `m` (stubs_asm.c); `arch_name` for its
 * header. */
void stubs_gen_asm(FILE *f, enum arch arch, const char *arch_name, const char *name,
                   const struct modsyms *m);

#endif
