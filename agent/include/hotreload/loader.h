/* The loader core: turns a module (an ELF relocatable object, ET_REL) into
 * placed, relocated code and data. Portable C, no OS calls: memory and cache
 * sync come from the port (port.h). */
#ifndef HOTRELOAD_LOADER_H
#define HOTRELOAD_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotreload/port.h"

enum hr_arch {
    HR_ARCH_X86_64,
    HR_ARCH_RV32,
    HR_ARCH_RV64,
    HR_ARCH_XTENSA,
    HR_ARCH_ARM,   /* Cortex-M: Thumb-2, ARMv6-M Thumb */
    HR_ARCH_COUNT
};

enum hr_status {
    HR_OK = 0,
    HR_E_ARG,        /* bad call (NULL pointers, unknown arch) */
    HR_E_FORMAT,     /* the image is not a well-formed ELF relocatable */
    HR_E_ARCH,       /* class or machine differ from the requested arch */
    HR_E_NOMEM,      /* the port could not provide memory */
    HR_E_UNRESOLVED, /* an import is not provided by the firmware */
    HR_E_RELOC,      /* a relocation type is unknown or not allowed */
    HR_E_RANGE,      /* a relocated value does not fit its field */
    HR_E_NOTFOUND,   /* lookup: no such export */
    HR_E_REFUSED,    /* the caller's accept check refused the module */
};

/* Errors are values: a status plus a message naming what is at fault
 * (section, symbol, relocation type and offset, limit). */
struct hr_error {
    enum hr_status status;
    char msg[240];
};

/* Import resolution: name -> address in the firmware. Return 0 if found. */
typedef int (*hr_resolve_fn)(void *ctx, const char *name, hr_addr_t *addr);

/* What a module says of itself, found while it is parsed. Pointers into
 * the image: valid during the accept call only. */
#define HR_FWID_SECTION ".hotreload.fwid"
struct hr_module_ident {
    const uint8_t *fwid;      /* the firmware build-id it was linked for (HR_FWID_SECTION) */
    size_t fwid_len;          /* 0: it does not say */
    const uint8_t *build_id;  /* its own GNU build-id (.note.gnu.build-id) */
    size_t build_id_len;      /* 0: none */
};

/* Called once the image is parsed and checked, before anything is placed:
 * return HR_OK to go on, or a status (with `err`'s message filled, e.g. by
 * hr_fail-like formatting) to refuse the module. */
typedef enum hr_status (*hr_accept_fn)(void *ctx, const struct hr_module_ident *id,
                                       struct hr_error *err);

struct hr_load_config {
    enum hr_arch arch;
    const struct hr_port *port;
    hr_resolve_fn resolve;
    void *resolve_ctx;
    hr_accept_fn accept;      /* optional */
    void *accept_ctx;
};

struct hr_module;

/* Parse, place, relocate and sync `image`. The image is only read during the
 * call; the module keeps no pointer into it. On failure nothing stays
 * allocated and `err` says why. */
enum hr_status hr_module_load(const struct hr_load_config *cfg, const void *image, size_t size,
                              struct hr_module **out, struct hr_error *err);

/* Give every region back to the port. NULL is allowed. */
void hr_module_free(struct hr_module *mod);

/* A placed section (or a loader-built area: ".hr.got", ".hr.veneers"). */
/* Widest members first: one per placed section stays for the module's life. */
struct hr_section_info {
    hr_addr_t addr;        /* address the module uses */
    hr_addr_t size;
    const char *name;
    const uint8_t *bytes;  /* relocated bytes; NULL for NOBITS */
    enum hr_region_kind kind;
    bool loader_built;     /* not a section of the module's file */
};

size_t hr_module_section_count(const struct hr_module *mod);
const struct hr_section_info *hr_module_section(const struct hr_module *mod, size_t i);

struct hr_import_info {
    const char *name;
    hr_addr_t addr;
    bool weak_missing; /* weak import the firmware does not have: address 0 */
};

size_t hr_module_import_count(const struct hr_module *mod);
const struct hr_import_info *hr_module_import(const struct hr_module *mod, size_t i);

enum hr_export_kind { HR_EXPORT_FUNC, HR_EXPORT_DATA };

struct hr_export_info {
    const char *name;
    hr_addr_t addr;
    hr_addr_t size;
    enum hr_export_kind kind;
};

size_t hr_module_export_count(const struct hr_module *mod);
const struct hr_export_info *hr_module_export(const struct hr_module *mod, size_t i);
/* Look up a global function or data object of the module by name. */
const struct hr_export_info *hr_module_lookup(const struct hr_module *mod, const char *name);

/* Variables the module keeps across reloads: objects in sections named
 * ".hotreload.persist*" (HOTRELOAD_PERSIST), static ones included. */
size_t hr_module_persist_count(const struct hr_module *mod);
const struct hr_export_info *hr_module_persist(const struct hr_module *mod, size_t i);

/* Where the loader wrote the module's bytes at `addr` (the data-bus view),
 * or NULL if [addr, addr+len) does not lie inside one of its regions. */
uint8_t *hr_module_bytes(const struct hr_module *mod, hr_addr_t addr, size_t len);

/* The contents of section `name` of an image, without loading it (e.g. the
 * firmware build-id a module carries). HR_E_NOTFOUND if it has none. The
 * image is checked like a load would, for any architecture. */
enum hr_status hr_image_section(const void *image, size_t size, const char *name,
                                const uint8_t **data, size_t *len, struct hr_error *err);

/* How many relocations of `type` were applied; for reports and tests. */
struct hr_reloc_count {
    uint32_t type;
    uint32_t count;
};
size_t hr_module_reloc_stats(const struct hr_module *mod, const struct hr_reloc_count **out);

/* Names for reports. */
const char *hr_arch_name(enum hr_arch arch);
int hr_arch_from_name(const char *name, enum hr_arch *out);
const char *hr_reloc_name(enum hr_arch arch, uint32_t type);
const char *hr_region_name(enum hr_region_kind kind);
const char *hr_status_name(enum hr_status st);

#endif
