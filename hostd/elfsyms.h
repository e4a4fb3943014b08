/* What a module's symbol table says about its interface with the firmware,
 * read with libelf; and writing generated files only when they change. */
#ifndef HOTD_ELFSYMS_H
#define HOTD_ELFSYMS_H

#include <stddef.h>

struct modsyms {
    unsigned machine;     /* e_machine */
    int elfclass;         /* ELFCLASS32 or ELFCLASS64 */
    int xtensa_abi;       /* ABI= of .xtensa.info (0 windowed, 1 call0), -1 if absent */
    int arm_cpu_arch;     /* Tag_CPU_arch of .ARM.attributes (11 v6-M, 12 v6S-M, 13 v7E-M,
                           * ...), -1 if absent */
    char **exports;       /* defined global/weak functions, sorted, unique */
    size_t nexports;
    char **imports;       /* undefined named symbols, sorted, unique */
    size_t nimports;
};

/* Read an ET_REL module. Returns 0, or -1 with a message. */
int modsyms_read(const char *path, struct modsyms *m, char *msg, size_t msgsize);
void modsyms_free(struct modsyms *m);

/* Add to *v (sorted, unique) the undefined global symbols of an ELF object,
 * or of every object in an archive: what a link input asks for. Other files
 * add nothing. 0, or -1 with a message. */
int undefined_symbols(const char *path, char ***v, size_t *n, char *msg, size_t msgsize);

/* Write `len` bytes to dir/name unless the file already holds exactly them:
 * an unchanged file keeps its mtime, so the build does not redo what depends
 * on it. Writes a temporary file and renames it (readers never see half a
 * file). Returns 1 written, 0 unchanged, -1 with a message. */
int write_if_changed(const char *dir, const char *name, const char *data, size_t len,
                     char *msg, size_t msgsize);

#endif
