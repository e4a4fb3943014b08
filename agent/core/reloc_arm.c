/* ARM relocations for Cortex-M (Thumb-2 and ARMv6-M Thumb), from the ELF
 * for the Arm Architecture (AAELF32) and binutils' elf32-arm.c, which is the
 * oracle: every value written here is the one GNU ld writes.
 *
 * ARM objects use REL sections: the addend is the field the place already
 * holds (arm_addend decodes it, before anything is patched). In AAELF's
 * formulas S is a symbol's address and T is 1 when it is a Thumb function:
 * the symbol tables mark those with bit 0 of their value. An import is
 * known by its address alone: an odd one is a Thumb function for a branch,
 * and taken as it is for data (the same value as GNU ld's for any even
 * addend, the only kind a compiler puts on a function's address). */
#include "loader_int.h"

enum {
    R_ARM_NONE = 0, R_ARM_ABS32 = 2, R_ARM_REL32 = 3, R_ARM_THM_CALL = 10, R_ARM_THM_PC8 = 11,
    R_ARM_GOTOFF32 = 24, R_ARM_BASE_PREL = 25, R_ARM_GOT_BREL = 26,
    R_ARM_THM_JUMP24 = 30, R_ARM_TARGET1 = 38, R_ARM_V4BX = 40, R_ARM_PREL31 = 42,
    R_ARM_THM_MOVW_ABS_NC = 47, R_ARM_THM_MOVT_ABS = 48, R_ARM_THM_MOVW_PREL_NC = 49,
    R_ARM_THM_MOVT_PREL = 50, R_ARM_THM_JUMP19 = 51, R_ARM_THM_JUMP6 = 52,
    R_ARM_THM_ALU_PREL_11_0 = 53, R_ARM_THM_PC12 = 54, R_ARM_GOT_PREL = 96,
    R_ARM_THM_JUMP11 = 102, R_ARM_THM_JUMP8 = 103,
};

static const char *const names[] = {
#define N(x) [R_ARM_##x] = "R_ARM_" #x
    N(NONE), N(ABS32), N(REL32), N(THM_CALL), N(THM_PC8), N(GOTOFF32), N(BASE_PREL),
    N(GOT_BREL), N(THM_JUMP24), N(TARGET1), N(V4BX), N(PREL31), N(THM_MOVW_ABS_NC),
    N(THM_MOVT_ABS), N(THM_MOVW_PREL_NC), N(THM_MOVT_PREL), N(THM_JUMP19), N(THM_JUMP6),
    N(THM_ALU_PREL_11_0), N(THM_PC12), N(GOT_PREL), N(THM_JUMP11), N(THM_JUMP8),
#undef N
};

static const char *arm_name(uint32_t t)
{
    return t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

static enum hr_need arm_need(uint32_t t)
{
    if (t == R_ARM_GOT_BREL || t == R_ARM_GOT_PREL)
        return HR_NEED_GOT;
    return t == R_ARM_THM_CALL || t == R_ARM_THM_JUMP24 ? HR_NEED_VENEER : HR_NEED_NONE;
}

/* The low `bits` bits of v, sign-extended. */
static int32_t sext(uint32_t v, unsigned bits)
{
    uint32_t m = 1u << (bits - 1);
    return (int32_t)(((v & (2 * m - 1)) ^ m) - m);
}

/* ---- Thumb instruction fields: little-endian halfwords ---- */

/* BL / B.W (T4): S:I1:I2:imm10:imm11:0, I1 = !(J1 ^ S), I2 = !(J2 ^ S). */
static int32_t get_b24(const uint8_t *p)
{
    uint32_t hi = hr_get16(p), lo = hr_get16(p + 2), s = hi >> 10 & 1;
    uint32_t i1 = !((lo >> 13 & 1) ^ s), i2 = !((lo >> 11 & 1) ^ s);
    return sext(s << 24 | i1 << 23 | i2 << 22 | (hi & 0x3ff) << 12 | (lo & 0x7ff) << 1, 25);
}

static void put_b24(uint8_t *p, uint32_t v)
{
    uint32_t s = v >> 24 & 1, j1 = !(v >> 23 & 1) ^ s, j2 = !(v >> 22 & 1) ^ s;
    hr_put16(p, (uint16_t)((hr_get16(p) & 0xf800) | s << 10 | (v >> 12 & 0x3ff)));
    hr_put16(p + 2, (uint16_t)((hr_get16(p + 2) & 0xd000) | j1 << 13 | j2 << 11 |
                               (v >> 1 & 0x7ff)));
}

/* B<c>.W (T3): S:J2:J1:imm6:imm11:0. */
static int32_t get_b19(const uint8_t *p)
{
    uint32_t hi = hr_get16(p), lo = hr_get16(p + 2);
    return sext((hi >> 10 & 1) << 20 | (lo >> 11 & 1) << 19 | (lo >> 13 & 1) << 18 |
                (hi & 0x3f) << 12 | (lo & 0x7ff) << 1, 21);
}

static void put_b19(uint8_t *p, uint32_t v)
{
    hr_put16(p, (uint16_t)((hr_get16(p) & 0xfbc0) | (v >> 20 & 1) << 10 | (v >> 12 & 0x3f)));
    hr_put16(p + 2, (uint16_t)((hr_get16(p + 2) & 0xd000) | (v >> 18 & 1) << 13 |
                               (v >> 19 & 1) << 11 | (v >> 1 & 0x7ff)));
}

/* MOVW / MOVT (T3 / T1): imm4:i:imm3:imm8. */
static uint32_t get_imm16(const uint8_t *p)
{
    uint32_t hi = hr_get16(p), lo = hr_get16(p + 2);
    return (hi & 0xf) << 12 | (hi >> 10 & 1) << 11 | (lo >> 12 & 7) << 8 | (lo & 0xff);
}

static void put_imm16(uint8_t *p, uint32_t v)
{
    hr_put16(p, (uint16_t)((hr_get16(p) & 0xfbf0) | (v >> 11 & 1) << 10 | (v >> 12 & 0xf)));
    hr_put16(p + 2, (uint16_t)((hr_get16(p + 2) & 0x8f00) | (v >> 8 & 7) << 12 | (v & 0xff)));
}

/* LDR (literal) T2 and ADR/ADDW/SUBW T3/T4: U (or ADD/SUB) with imm12 =
 * i:imm3:imm8 for ADR, a plain imm12 for LDR. */
static bool is_ldr_lit(uint32_t hi)
{
    return (hi & 0xff7f) == 0xf85f || (hi & 0xfe5f) == 0xf81f; /* LDR, LDRB/LDRH/...(lit) */
}

static int32_t get_pc12(const uint8_t *p)
{
    uint32_t hi = hr_get16(p), lo = hr_get16(p + 2);
    if (is_ldr_lit(hi))
        return (hi & 0x80) ? (int32_t)(lo & 0xfff) : -(int32_t)(lo & 0xfff);
    int32_t imm = (int32_t)((hi >> 10 & 1) << 11 | (lo >> 12 & 7) << 8 | (lo & 0xff));
    return (hi & 0xa0) ? -imm : imm; /* SUBW (ADR's subtracting form) */
}

static void put_pc12(uint8_t *p, int32_t v)
{
    uint32_t hi = hr_get16(p), lo = hr_get16(p + 2), u = v >= 0, a = (uint32_t)(u ? v : -v);
    if (is_ldr_lit(hi)) {
        hr_put16(p, (uint16_t)((hi & ~0x80u) | u << 7));
        hr_put16(p + 2, (uint16_t)((lo & 0xf000) | a));
        return;
    }
    /* ADR: ADDW (0xf20f) forward, SUBW (0xf2af) back, from PC. */
    hr_put16(p, (uint16_t)((hi & 0xfb0f) | (u ? 0 : 0xa0) | (a >> 11 & 1) << 10));
    hr_put16(p + 2, (uint16_t)((lo & 0x8f00) | (a >> 8 & 7) << 12 | (a & 0xff)));
}

/* The field's width in bytes. */
static unsigned width(uint32_t type)
{
    switch (type) {
    case R_ARM_NONE: case R_ARM_V4BX: return 0;
    case R_ARM_THM_JUMP6: case R_ARM_THM_JUMP11: case R_ARM_THM_JUMP8: case R_ARM_THM_PC8:
        return 2;
    default: return 4;
    }
}

static enum hr_status arm_addend(struct hr_site *s, struct hr_error *err)
{
    enum hr_status st = hr_site_room(s, width(s->r.type), err);
    if (st != HR_OK)
        return st;
    const uint8_t *p = s->loc;
    switch (s->r.type) {
    case R_ARM_ABS32: case R_ARM_REL32: case R_ARM_TARGET1: case R_ARM_GOTOFF32:
    case R_ARM_BASE_PREL: case R_ARM_GOT_BREL: case R_ARM_GOT_PREL:
        s->A = (int32_t)hr_get32(p); break;
    case R_ARM_THM_PC8: /* as GNU ld reads it: the PC's +4 folded in */
        s->A = (int32_t)((((hr_get16(p) & 0xffu) << 2) + 4) & 0x3ff) - 4; break;
    case R_ARM_THM_PC12: case R_ARM_THM_ALU_PREL_11_0: s->A = get_pc12(p); break;
    case R_ARM_PREL31: s->A = sext(hr_get32(p), 31); break;
    case R_ARM_THM_CALL: case R_ARM_THM_JUMP24: s->A = get_b24(p); break;
    case R_ARM_THM_JUMP19: s->A = get_b19(p); break;
    case R_ARM_THM_JUMP11: s->A = sext((hr_get16(p) & 0x7ffu) << 1, 12); break;
    case R_ARM_THM_JUMP8: s->A = sext((hr_get16(p) & 0xffu) << 1, 9); break;
    case R_ARM_THM_JUMP6:
        s->A = (int32_t)((hr_get16(p) >> 9 & 1) << 6 | (hr_get16(p) >> 3 & 0x1f) << 1); break;
    case R_ARM_THM_MOVW_ABS_NC: case R_ARM_THM_MOVT_ABS: case R_ARM_THM_MOVW_PREL_NC:
    case R_ARM_THM_MOVT_PREL:
        s->A = sext(get_imm16(p), 16); break;
    default: s->A = 0; break;
    }
    return HR_OK;
}

/* T, and S without it: a defined symbol says whether it is a Thumb
 * function; an import at an odd address is one where a branch goes. So is
 * an absolute symbol: a firmware address a module was bound to (hotd bind
 * --absolute), which carries no type. */
static uint32_t thumb_bit(const struct hr_site *s, bool branch)
{
    if (!(s->S & 1))
        return 0;
    struct hr_sym sym;
    hr_site_sym(s, &sym);
    if (sym.shndx == HR_SHN_UNDEF || sym.shndx == HR_SHN_ABS)
        return branch;
    return sym.type == HR_STT_FUNC;
}

static enum hr_status range_fail(struct hr_site *s, int32_t v, unsigned bits,
                                 struct hr_error *err)
{
    return hr_site_fail(s, err, HR_E_RANGE, "displacement %d does not fit the %u-bit field "
                        "(±%u bytes): place the module nearer its target", (int)v, bits,
                        1u << (bits - 1));
}

/* GOT(S) + A - base: the offset of the symbol's slot in the loader's GOT. */
static enum hr_status got_entry(struct hr_site *s, uint32_t base, struct hr_error *err)
{
    hr_addr_t slot;
    enum hr_status st = hr_got_slot(s, &slot, err);
    if (st == HR_OK)
        hr_put32(s->loc, (uint32_t)slot + (uint32_t)s->A - base);
    return st;
}

/* Loads and ADR from the word-aligned PC (Pa): Thumb16 LDR/ADR (imm8, words
 * forward), LDR.W (imm12 either way), ADDW/SUBW (imm12, a Thumb target's bit
 * 0 kept). */
static enum hr_status pc_relative(struct hr_site *s, uint32_t S, uint32_t T,
                                  struct hr_error *err)
{
    int32_t v = (int32_t)(S + (uint32_t)s->A - ((uint32_t)s->P & ~3u));
    uint8_t *p = s->loc;
    if (s->r.type == R_ARM_THM_PC8) {
        if (v < 0 || v > 1020 || v % 4)
            return hr_site_fail(s, err, HR_E_RANGE, "offset %d is not a multiple of 4 in "
                                "0..1020", (int)v);
        hr_put16(p, (uint16_t)((hr_get16(p) & 0xff00) | (uint32_t)v >> 2));
        return HR_OK;
    }
    if (v <= -0x1000 || v >= 0x1000)
        return range_fail(s, v, 13, err);
    if (s->r.type == R_ARM_THM_ALU_PREL_11_0 && T)
        v = v < 0 ? -(-v | 1) : v | 1;
    put_pc12(p, v);
    return HR_OK;
}

/* A Thumb branch: T4 reaches ±16 MiB; a call to an import beyond that goes
 * through a veneer next to the module. M-profile cores run Thumb only: a
 * branch to anything else would fault. */
static enum hr_status branch24(struct hr_site *s, uint32_t S, struct hr_error *err)
{
    int32_t v = (int32_t)(S + (uint32_t)s->A - (uint32_t)s->P);
    if (!hr_fits_signed(v, 25)) {
        hr_addr_t at;
        enum hr_status st = hr_veneer(s, &at, err);
        if (st != HR_OK)
            return range_fail(s, v, 25, err);
        v = (int32_t)((uint32_t)at + (uint32_t)s->A - (uint32_t)s->P);
        if (!hr_fits_signed(v, 25))
            return range_fail(s, v, 25, err);
    }
    put_b24(s->loc, (uint32_t)v);
    return HR_OK;
}

static enum hr_status short_branch(struct hr_site *s, int32_t v, struct hr_error *err)
{
    uint8_t *p = s->loc;
    switch (s->r.type) {
    case R_ARM_THM_JUMP19:
        if (!hr_fits_signed(v, 21))
            return range_fail(s, v, 21, err);
        put_b19(p, (uint32_t)v);
        return HR_OK;
    case R_ARM_THM_JUMP11:
        if (!hr_fits_signed(v, 12))
            return range_fail(s, v, 12, err);
        hr_put16(p, (uint16_t)((hr_get16(p) & 0xf800) | ((uint32_t)v >> 1 & 0x7ff)));
        return HR_OK;
    case R_ARM_THM_JUMP8:
        if (!hr_fits_signed(v, 9))
            return range_fail(s, v, 9, err);
        hr_put16(p, (uint16_t)((hr_get16(p) & 0xff00) | ((uint32_t)v >> 1 & 0xff)));
        return HR_OK;
    default: /* JUMP6: CBZ/CBNZ branch forward only */
        if (v < 0 || v > 126)
            return hr_site_fail(s, err, HR_E_RANGE, "CBZ/CBNZ displacement %d is outside "
                                "0..126", (int)v);
        hr_put16(p, (uint16_t)((hr_get16(p) & 0xfd07) | ((uint32_t)v >> 6 & 1) << 9 |
                               ((uint32_t)v >> 1 & 0x1f) << 3));
        return HR_OK;
    }
}

/* Is the site's symbol an import the firmware lacks (a weak one, at 0)? */
static bool missing_import(const struct hr_site *s)
{
    struct hr_sym sym;
    if (s->S != 0 || !s->r.sym)
        return false;
    hr_site_sym(s, &sym);
    return sym.shndx == HR_SHN_UNDEF;
}

static enum hr_status arm_apply(struct hr_site *s, struct hr_error *err)
{
    uint32_t type = s->r.type, A = (uint32_t)s->A, P = (uint32_t)s->P;
    bool branch = type == R_ARM_THM_CALL || type == R_ARM_THM_JUMP24 ||
                  type == R_ARM_THM_JUMP19 || type == R_ARM_THM_JUMP11 ||
                  type == R_ARM_THM_JUMP8 || type == R_ARM_THM_JUMP6;
    uint32_t T = thumb_bit(s, branch), S = (uint32_t)s->S & ~T;
    uint8_t *p = s->loc;
    switch (type) {
    case R_ARM_NONE: case R_ARM_V4BX:
        return HR_OK; /* V4BX: an ARMv4 BX marker, nothing to do on Thumb */
    case R_ARM_ABS32: case R_ARM_TARGET1:
        hr_put32(p, (S + A) | T);
        return HR_OK;
    case R_ARM_REL32:
        hr_put32(p, ((S + A) | T) - P);
        return HR_OK;
    case R_ARM_PREL31: {
        int32_t v = (int32_t)(((S + A) | T) - P);
        if (!hr_fits_signed(v, 31))
            return range_fail(s, v, 31, err);
        hr_put32(p, (hr_get32(p) & 0x80000000u) | ((uint32_t)v & 0x7fffffffu));
        return HR_OK;
    }
    case R_ARM_GOTOFF32:
        hr_put32(p, ((S + A) | T) - (uint32_t)hr_got_base(s));
        return HR_OK;
    case R_ARM_BASE_PREL:
        hr_put32(p, (uint32_t)hr_got_base(s) + A - P);
        return HR_OK;
    case R_ARM_GOT_BREL: case R_ARM_GOT_PREL:
        return got_entry(s, type == R_ARM_GOT_BREL ? (uint32_t)hr_got_base(s) : P, err);
    case R_ARM_THM_PC8: case R_ARM_THM_PC12: case R_ARM_THM_ALU_PREL_11_0:
        return pc_relative(s, S, T, err);
    case R_ARM_THM_MOVW_ABS_NC: put_imm16(p, ((S + A) | T) & 0xffff); return HR_OK;
    case R_ARM_THM_MOVT_ABS: put_imm16(p, (S + A) >> 16); return HR_OK;
    case R_ARM_THM_MOVW_PREL_NC: put_imm16(p, (((S + A) | T) - P) & 0xffff); return HR_OK;
    case R_ARM_THM_MOVT_PREL: put_imm16(p, (S + A - P) >> 16); return HR_OK;
    default:
        break;
    }
    if (type == R_ARM_THM_CALL && missing_import(s)) {
        /* A call to it does nothing, as GNU ld makes it: `b.n` over a `nop`,
         * which every M-profile core runs (ld writes one `nop.w` where the
         * module's build attributes allow Thumb-2; the oracle checks that
         * both skip the call). */
        hr_put16(p, 0xe000);
        hr_put16(p + 2, 0xbf00);
        return HR_OK;
    }
    if (!T && s->r.sym && s->S)
        return hr_site_fail(s, err, HR_E_RELOC, "branch to code that is not Thumb (bit 0 of "
                            "its address is clear): Cortex-M cores execute Thumb only");
    if (type == R_ARM_THM_CALL || type == R_ARM_THM_JUMP24)
        return branch24(s, S | T, err);
    return short_branch(s, (int32_t)(S + A - P), err);
}

/* A call beyond a branch's reach: load the target into ip and BX to it,
 * in ARMv6-M's instructions too (Cortex-M0+ has no 32-bit LDR). The AAPCS
 * lets a veneer use ip (r12); r0 is kept. */
static void arm_veneer(uint8_t *w, hr_addr_t at, hr_addr_t target)
{
    (void)at;
    static const uint16_t code[6] = {
        0xb401, /* push {r0} */
        0x4802, /* ldr r0, [pc, #8]: the word below */
        0x4684, /* mov ip, r0 */
        0xbc01, /* pop {r0} */
        0x4760, /* bx ip */
        0xbf00, /* nop: the word 4-aligned */
    };
    for (int i = 0; i < 6; i++)
        hr_put16(w + 2 * i, code[i]);
    hr_put32(w + 12, (uint32_t)target | 1);
}

const struct hr_arch_ops hr_ops_arm = {
    .machine = HR_EM_ARM,
    .is64 = false,
    .name = arm_name,
    .need = arm_need,
    .apply = arm_apply,
    .veneer_size = 16,
    .write_veneer = arm_veneer,
    .addend = arm_addend,
};
