/* Firmware symbols for resolving a module's imports on the host. */
#ifndef HOTD_SYMBOLS_H
#define HOTD_SYMBOLS_H

#include <stddef.h>

#include "hotreload/port.h"

struct symtab {
    struct sym_entry {
        char *name;
        hr_addr_t addr;
    } *v;
    size_t n, cap;
};

/* Add the defined global symbols of an ELF file (libelf). Returns 0, or -1
 * with a message in `msg`. */
int symtab_load_elf(struct symtab *t, const char *path, char *msg, size_t msgsize);
int symtab_add(struct symtab *t, const char *name, hr_addr_t addr);
/* An hr_resolve_fn over a symtab; later additions win. */
int symtab_resolve(void *ctx, const char *name, hr_addr_t *addr);
void symtab_free(struct symtab *t);

#endif
