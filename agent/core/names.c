#include <string.h>

#include "loader_int.h"

static const char *const arch_names[HR_ARCH_COUNT] = {"x86_64", "rv32", "rv64", "xtensa",
                                                     "arm"};

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

/* Which relocators this build holds: every one (hotd, the tests, the
 * oracle), or with HR_NATIVE_RELOCATOR (a firmware's loader, set by the
 * build) only the one of the architecture it is compiled for, so a device
 * carries no code for the others. */
#if !defined(HR_NATIVE_RELOCATOR) || defined(__riscv)
#define HAS_RISCV(ops) &ops
#else
#define HAS_RISCV(ops) NULL
#endif
/* 64-bit targets need 64-bit addresses (hr_addr_t), which a 32-bit build
 * does not have. */
#if UINTPTR_MAX > 0xffffffffu && (!defined(HR_NATIVE_RELOCATOR) || defined(__x86_64__))
#define HAS_X86_64 &hr_ops_x86_64
#else
#define HAS_X86_64 NULL
#endif
#if UINTPTR_MAX > 0xffffffffu
#define HAS_RISCV64 HAS_RISCV(hr_ops_rv64)
#else
#define HAS_RISCV64 NULL
#endif
#if !defined(HR_NATIVE_RELOCATOR) || defined(__XTENSA__)
#define HAS_XTENSA &hr_ops_xtensa
#else
#define HAS_XTENSA NULL
#endif

#if !defined(HR_NATIVE_RELOCATOR) || defined(__arm__)
#define HAS_ARM &hr_ops_arm
#else
#define HAS_ARM NULL
#endif

const struct hr_arch_ops *hr_arch_ops(enum hr_arch arch)
{
    static const struct hr_arch_ops *const ops[HR_ARCH_COUNT] = {
        HAS_X86_64, HAS_RISCV(hr_ops_rv32), HAS_RISCV64, HAS_XTENSA, HAS_ARM};
    return (unsigned)arch < HR_ARCH_COUNT ? ops[arch] : NULL;
}

const char *hr_reloc_name(enum hr_arch arch, uint32_t type)
{
    const struct hr_arch_ops *ops = hr_arch_ops(arch);
    return ops ? ops->name(type) : NULL;
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
