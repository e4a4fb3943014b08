/* Xtensa relocations: placeholder until the relocator lands. */
#include "loader_int.h"

static const char *xt_name(uint32_t t) { (void)t; return NULL; }
static enum hr_need xt_need(uint32_t t) { (void)t; return HR_NEED_NONE; }
static enum hr_status xt_apply(struct hr_site *s, struct hr_error *err)
{
    return hr_site_fail(s, err, HR_E_RELOC, "not implemented");
}

const struct hr_arch_ops hr_ops_xtensa = {
    .machine = HR_EM_XTENSA, .is64 = false, .name = xt_name, .need = xt_need, .apply = xt_apply,
};
