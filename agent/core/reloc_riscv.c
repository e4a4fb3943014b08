/* RISC-V relocations: placeholder until the relocator lands. */
#include "loader_int.h"

static const char *rv_name(uint32_t t) { (void)t; return NULL; }
static enum hr_need rv_need(uint32_t t) { (void)t; return HR_NEED_NONE; }
static enum hr_status rv_apply(struct hr_site *s, struct hr_error *err)
{
    return hr_site_fail(s, err, HR_E_RELOC, "not implemented");
}

const struct hr_arch_ops hr_ops_rv32 = {
    .machine = HR_EM_RISCV, .is64 = false, .name = rv_name, .need = rv_need, .apply = rv_apply,
};
const struct hr_arch_ops hr_ops_rv64 = {
    .machine = HR_EM_RISCV, .is64 = true, .name = rv_name, .need = rv_need, .apply = rv_apply,
};
