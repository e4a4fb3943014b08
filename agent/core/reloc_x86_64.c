/* x86-64 relocations, from the System V x86-64 psABI (small code model).
 * S: symbol, A: addend, P: place, G+GOT: the loader-built GOT slot. */
#include "loader_int.h"

enum {
    R_X86_64_NONE = 0,
    R_X86_64_64 = 1,
    R_X86_64_PC32 = 2,
    R_X86_64_PLT32 = 4,
    R_X86_64_GOTPCREL = 9,
    R_X86_64_32 = 10,
    R_X86_64_32S = 11,
    R_X86_64_PC64 = 24,
    R_X86_64_GOTPCRELX = 41,
    R_X86_64_REX_GOTPCRELX = 42,
};

static const char *x86_name(uint32_t t)
{
    switch (t) {
    case R_X86_64_NONE: return "R_X86_64_NONE";
    case R_X86_64_64: return "R_X86_64_64";
    case R_X86_64_PC32: return "R_X86_64_PC32";
    case R_X86_64_PLT32: return "R_X86_64_PLT32";
    case R_X86_64_GOTPCREL: return "R_X86_64_GOTPCREL";
    case R_X86_64_32: return "R_X86_64_32";
    case R_X86_64_32S: return "R_X86_64_32S";
    case R_X86_64_PC64: return "R_X86_64_PC64";
    case R_X86_64_GOTPCRELX: return "R_X86_64_GOTPCRELX";
    case R_X86_64_REX_GOTPCRELX: return "R_X86_64_REX_GOTPCRELX";
    default: return NULL;
    }
}

static enum hr_need x86_need(uint32_t t)
{
    switch (t) {
    case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX:
    case R_X86_64_REX_GOTPCRELX: return HR_NEED_GOT;
    case R_X86_64_PLT32: return HR_NEED_VENEER;
    default: return HR_NEED_NONE;
    }
}

static enum hr_status put_pc32(struct hr_site *s, int64_t v, struct hr_error *err)
{
    if (!hr_fits_signed(v, 32))
        return hr_site_fail(s, err, HR_E_RANGE, "displacement %#llx does not fit 32 bits: place "
                            "the module within 2 GiB of its target", (unsigned long long)v);
    hr_put32(s->loc, (uint32_t)v);
    return HR_OK;
}

static enum hr_status x86_apply(struct hr_site *s, struct hr_error *err)
{
    uint64_t SA = s->S + (uint64_t)s->A;
    enum hr_status st;
    hr_addr_t at;
    if (s->r.type == R_X86_64_NONE)
        return HR_OK;
    unsigned width = s->r.type == R_X86_64_64 || s->r.type == R_X86_64_PC64 ? 8 : 4;
    if ((st = hr_site_room(s, width, err)) != HR_OK)
        return st;
    switch (s->r.type) {
    case R_X86_64_64:
        hr_put64(s->loc, SA);
        return HR_OK;
    case R_X86_64_PC64:
        hr_put64(s->loc, SA - s->P);
        return HR_OK;
    case R_X86_64_32:
        if (SA > UINT32_MAX)
            return hr_site_fail(s, err, HR_E_RANGE, "address %#llx does not fit 32 bits "
                                "zero-extended: build the module with -fPIC",
                                (unsigned long long)SA);
        hr_put32(s->loc, (uint32_t)SA);
        return HR_OK;
    case R_X86_64_32S:
        if (!hr_fits_signed((int64_t)SA, 32))
            return hr_site_fail(s, err, HR_E_RANGE, "address %#llx does not fit 32 bits "
                                "sign-extended: build the module with -fPIC",
                                (unsigned long long)SA);
        hr_put32(s->loc, (uint32_t)SA);
        return HR_OK;
    case R_X86_64_PC32:
        return put_pc32(s, (int64_t)(SA - s->P), err);
    case R_X86_64_PLT32:
        /* A call out of ±2 GiB goes through a veneer next to the module. */
        if (hr_fits_signed((int64_t)(SA - s->P), 32))
            return put_pc32(s, (int64_t)(SA - s->P), err);
        if ((st = hr_veneer(s, &at, err)) != HR_OK)
            return st;
        return put_pc32(s, (int64_t)(at + (uint64_t)s->A - s->P), err);
    default: /* the GOTPCREL family */
        if ((st = hr_got_slot(s, &at, err)) != HR_OK)
            return st;
        return put_pc32(s, (int64_t)(at + (uint64_t)s->A - s->P), err);
    }
}

/* jmp *0(%rip); .quad target -- reaches anywhere, clobbers nothing. */
static void x86_veneer(uint8_t *w, hr_addr_t at, hr_addr_t target)
{
    (void)at;
    static const uint8_t jmp[6] = {0xff, 0x25, 0, 0, 0, 0};
    for (int i = 0; i < 6; i++)
        w[i] = jmp[i];
    hr_put64(w + 6, target);
    w[14] = 0xcc;
    w[15] = 0xcc;
}

const struct hr_arch_ops hr_ops_x86_64 = {
    .machine = HR_EM_X86_64,
    .is64 = true,
    .name = x86_name,
    .need = x86_need,
    .apply = x86_apply,
    .veneer_size = 16,
    .write_veneer = x86_veneer,
};
