#include <string.h>

#include "loader_int.h"

static const char *const arch_names[HR_ARCH_COUNT] = {"x86_64", "rv32", "rv64", "xtensa"};

const char *hr_arch_name(enum hr_arch arch)
{
    return (unsigned)arch < HR_ARCH_COUNT ? arch_names[arch] : "unknown";
}

int hr_arch_from_name(const char *name, enum hr_arch *out)
{
    for (int i = 0; i < HR_ARCH_COUNT; i++)
        if (strcmp(name, arch_names[i]) == 0) {
            *out = (enum hr_arch)i;
            return 0;
        }
    if (strcmp(name, "x86-64") == 0) {
        *out = HR_ARCH_X86_64;
        return 0;
    }
    return -1;
}

const char *hr_reloc_name(enum hr_arch arch, uint32_t type)
{
    static const struct hr_arch_ops *const ops[HR_ARCH_COUNT] = {
        &hr_ops_x86_64, &hr_ops_rv32, &hr_ops_rv64, &hr_ops_xtensa};
    return (unsigned)arch < HR_ARCH_COUNT ? ops[arch]->name(type) : NULL;
}

const char *hr_region_name(enum hr_region_kind kind)
{
    static const char *const names[HR_REGION_COUNT] = {"text", "rodata", "data", "sdata", "bss"};
    return (unsigned)kind < HR_REGION_COUNT ? names[kind] : "unknown";
}

const char *hr_status_name(enum hr_status st)
{
    switch (st) {
    case HR_OK: return "ok";
    case HR_E_ARG: return "bad argument";
    case HR_E_FORMAT: return "malformed module";
    case HR_E_ARCH: return "wrong architecture";
    case HR_E_NOMEM: return "out of memory";
    case HR_E_UNRESOLVED: return "unresolved import";
    case HR_E_RELOC: return "unsupported relocation";
    case HR_E_RANGE: return "relocation out of range";
    case HR_E_NOTFOUND: return "not found";
    case HR_E_REFUSED: return "refused";
    }
    return "unknown";
}
