/* RISC-V relocations (rv32 and rv64), from the RISC-V ELF psABI.
 * S: symbol, A: addend, P: place (the execution address for code).
 * Instruction fields are little-endian 16-bit parcels, so every access goes
 * through byte helpers: code need not be 4-byte aligned with RVC. */
#include "loader_int.h"

enum {
    R_NONE = 0, R_32 = 1, R_64 = 2, R_RELATIVE = 3, R_COPY = 4, R_JUMP_SLOT = 5,
    R_TLS_DTPMOD32 = 6, R_TLS_DTPMOD64 = 7, R_TLS_DTPREL32 = 8, R_TLS_DTPREL64 = 9,
    R_TLS_TPREL32 = 10, R_TLS_TPREL64 = 11, R_TLSDESC = 12,
    R_BRANCH = 16, R_JAL = 17, R_CALL = 18, R_CALL_PLT = 19, R_GOT_HI20 = 20,
    R_TLS_GOT_HI20 = 21, R_TLS_GD_HI20 = 22, R_PCREL_HI20 = 23, R_PCREL_LO12_I = 24,
    R_PCREL_LO12_S = 25, R_HI20 = 26, R_LO12_I = 27, R_LO12_S = 28, R_TPREL_HI20 = 29,
    R_TPREL_LO12_I = 30, R_TPREL_LO12_S = 31, R_TPREL_ADD = 32, R_ADD8 = 33, R_ADD16 = 34,
    R_ADD32 = 35, R_ADD64 = 36, R_SUB8 = 37, R_SUB16 = 38, R_SUB32 = 39, R_SUB64 = 40,
    R_GNU_VTINHERIT = 41, R_GNU_VTENTRY = 42, R_ALIGN = 43, R_RVC_BRANCH = 44,
    R_RVC_JUMP = 45, R_RVC_LUI = 46, R_GPREL_I = 47, R_GPREL_S = 48, R_TPREL_I = 49,
    R_TPREL_S = 50, R_RELAX = 51, R_SUB6 = 52, R_SET6 = 53, R_SET8 = 54, R_SET16 = 55,
    R_SET32 = 56, R_32_PCREL = 57, R_IRELATIVE = 58, R_PLT32 = 59, R_SET_ULEB128 = 60,
    R_SUB_ULEB128 = 61,
};

static const char *const names[] = {
#define N(x) [R_##x] = "R_RISCV_" #x
    N(NONE), N(32), N(64), N(RELATIVE), N(COPY), N(JUMP_SLOT), N(TLS_DTPMOD32),
    N(TLS_DTPMOD64), N(TLS_DTPREL32), N(TLS_DTPREL64), N(TLS_TPREL32), N(TLS_TPREL64),
    N(TLSDESC), N(BRANCH), N(JAL), N(CALL), N(CALL_PLT), N(GOT_HI20), N(TLS_GOT_HI20),
    N(TLS_GD_HI20), N(PCREL_HI20), N(PCREL_LO12_I), N(PCREL_LO12_S), N(HI20), N(LO12_I),
    N(LO12_S), N(TPREL_HI20), N(TPREL_LO12_I), N(TPREL_LO12_S), N(TPREL_ADD), N(ADD8),
    N(ADD16), N(ADD32), N(ADD64), N(SUB8), N(SUB16), N(SUB32), N(SUB64), N(GNU_VTINHERIT),
    N(GNU_VTENTRY), N(ALIGN), N(RVC_BRANCH), N(RVC_JUMP), N(RVC_LUI), N(GPREL_I), N(GPREL_S),
    N(TPREL_I), N(TPREL_S), N(RELAX), N(SUB6), N(SET6), N(SET8), N(SET16), N(SET32),
    N(32_PCREL), N(IRELATIVE), N(PLT32), N(SET_ULEB128), N(SUB_ULEB128),
#undef N
};

static const char *rv_name(uint32_t t)
{
    return t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

static enum hr_need rv_need(uint32_t t)
{
    return t == R_GOT_HI20 ? HR_NEED_GOT : HR_NEED_NONE;
}

/* ---- instruction fields ---- */

/* An instruction is 4-byte aligned unless compressed ones precede it: then
 * it is two 16-bit parcels, each aligned. One or two accesses on a
 * little-endian machine; byte by byte otherwise, or where data is odd. */
static uint32_t get_insn(const uint8_t *p)
{
#if HR_LE_LOADS
    if ((uintptr_t)p % 4 == 0)
        return hr_load32(p);
    if ((uintptr_t)p % 2 == 0) {
        uint16_t lo, hi;
        __builtin_memcpy(&lo, __builtin_assume_aligned(p, 2), 2);
        __builtin_memcpy(&hi, __builtin_assume_aligned(p + 2, 2), 2);
        return (uint32_t)lo | (uint32_t)hi << 16;
    }
#endif
    return hr_get32(p);
}

static void put_insn(uint8_t *p, uint32_t v)
{
#if HR_LE_LOADS
    if ((uintptr_t)p % 4 == 0) {
        __builtin_memcpy(__builtin_assume_aligned(p, 4), &v, 4);
        return;
    }
    if ((uintptr_t)p % 2 == 0) {
        uint16_t lo = (uint16_t)v, hi = (uint16_t)(v >> 16);
        __builtin_memcpy(__builtin_assume_aligned(p, 2), &lo, 2);
        __builtin_memcpy(__builtin_assume_aligned(p + 2, 2), &hi, 2);
        return;
    }
#endif
    hr_put32(p, v);
}

static uint32_t bits(uint32_t v, unsigned hi, unsigned lo)
{
    return (v >> lo) & ((2u << (hi - lo)) - 1);
}

static uint32_t enc_i(uint32_t v) { return bits(v, 11, 0) << 20; }
static uint32_t enc_s(uint32_t v) { return bits(v, 11, 5) << 25 | bits(v, 4, 0) << 7; }
static uint32_t enc_u(uint32_t v) { return bits(v + 0x800, 31, 12) << 12; }
static uint32_t enc_b(uint32_t v)
{
    return bits(v, 12, 12) << 31 | bits(v, 10, 5) << 25 | bits(v, 4, 1) << 8 |
           bits(v, 11, 11) << 7;
}
static uint32_t enc_j(uint32_t v)
{
    return bits(v, 20, 20) << 31 | bits(v, 10, 1) << 21 | bits(v, 11, 11) << 20 |
           bits(v, 19, 12) << 12;
}
static uint16_t enc_cb(uint32_t v)
{
    return (uint16_t)(bits(v, 8, 8) << 12 | bits(v, 4, 3) << 10 | bits(v, 7, 6) << 5 |
                      bits(v, 2, 1) << 3 | bits(v, 5, 5) << 2);
}
static uint16_t enc_cj(uint32_t v)
{
    return (uint16_t)(bits(v, 11, 11) << 12 | bits(v, 4, 4) << 11 | bits(v, 9, 8) << 9 |
                      bits(v, 10, 10) << 8 | bits(v, 6, 6) << 7 | bits(v, 7, 7) << 6 |
                      bits(v, 3, 1) << 3 | bits(v, 5, 5) << 2);
}

#define MASK_I 0x000fffffu /* keeps opcode, rd, funct3, rs1 */
#define MASK_S 0x01fff07fu
#define MASK_U 0x00000fffu
#define MASK_B 0x01fff07fu
#define MASK_J 0x00000fffu
#define MASK_CB 0xe383u
#define MASK_CJ 0xe003u

static enum hr_status patch32(struct hr_site *s, uint32_t keep, uint32_t field,
                              struct hr_error *err)
{
    enum hr_status st = hr_site_room(s, 4, err);
    if (st == HR_OK)
        put_insn(s->loc, (get_insn(s->loc) & keep) | field);
    return st;
}

static enum hr_status patch16(struct hr_site *s, uint16_t keep, uint16_t field,
                              struct hr_error *err)
{
    enum hr_status st = hr_site_room(s, 2, err);
    if (st == HR_OK)
        hr_put16(s->loc, (uint16_t)((hr_get16(s->loc) & keep) | field));
    return st;
}

/* On rv32 addresses wrap at 2^32, so a value is reduced to 32 bits and
 * sign-extended before its range is checked; on rv64 it is used as is.
 * hr_addend_t is as wide as an address: one word on a 32-bit device. */
static hr_addend_t xval(bool rv64, hr_addr_t v)
{
    return rv64 ? (hr_addend_t)v : (hr_addend_t)(int32_t)(uint32_t)v;
}

/* Branch and jump offsets: fields of `bits_` < 32 bits. */
static enum hr_status range(struct hr_site *s, hr_addend_t v, unsigned bits_, unsigned align,
                            struct hr_error *err)
{
    hr_addend_t lim = (hr_addend_t)1 << (bits_ - 1);
    if (v < -lim || v >= lim)
        return hr_site_fail(s, err, HR_E_RANGE, "offset %lld is out of the %u-bit range "
                            "(±%llu bytes)", (long long)v, bits_,
                            (unsigned long long)1 << (bits_ - 1));
    if (v & (hr_addend_t)(align - 1))
        return hr_site_fail(s, err, HR_E_RANGE, "offset %lld is not %u-byte aligned",
                            (long long)v, align);
    return HR_OK;
}

/* The 32-bit value a lui/auipc + addi pair can build: [-2^31-2^11, 2^31-2^11). */
static enum hr_status range_hi20(struct hr_site *s, hr_addend_t v, struct hr_error *err)
{
#if UINTPTR_MAX > 0xffffffffu
    bool out = v < -(INT64_C(1) << 31) - 0x800 || v >= (INT64_C(1) << 31) - 0x800;
#else
    bool out = v >= INT32_MAX - 0x7ff; /* a 32-bit v is never below the lower end */
#endif
    if (out)
        return hr_site_fail(s, err, HR_E_RANGE, "value %#llx is out of the ±2 GiB reach of a "
                            "20-bit upper immediate", (unsigned long long)v);
    return HR_OK;
}

static bool is_pcrel_hi(uint32_t t) { return t == R_PCREL_HI20 || t == R_GOT_HI20; }

/* The value a PCREL_HI20/GOT_HI20 computed: what its LO12 partner completes. */
static enum hr_status hi_value(struct hr_site *hi, hr_addend_t *v, struct hr_error *err)
{
    hr_addr_t target = hi->S + (hr_addr_t)hi->A;
    if (hi->r.type == R_GOT_HI20) {
        enum hr_status st = hr_got_slot(hi, &target, err);
        if (st != HR_OK)
            return st;
        target += (hr_addr_t)hi->A;
    }
    *v = (hr_addend_t)(target - hi->P);
    return HR_OK;
}

/* 32_PCREL, PLT32: a 32-bit word, S+A-P. */
static enum hr_status pcrel32(struct hr_site *s, hr_addr_t SA, bool rv64, struct hr_error *err)
{
    enum hr_status st = hr_site_room(s, 4, err);
    if (st != HR_OK)
        return st;
    if (rv64 && !hr_fits_signed((int64_t)(SA - s->P), 32))
        return hr_site_fail(s, err, HR_E_RANGE, "offset %lld is out of the 32-bit range "
                            "(±2147483648 bytes)", (long long)(int64_t)(SA - s->P));
    put_insn(s->loc, (uint32_t)(SA - s->P));
    return HR_OK;
}

/* PCREL_LO12_I/S: S is the label of the auipc; the offset comes from its
 * relocation. */
static enum hr_status pcrel_lo(struct hr_site *s, bool rv64, struct hr_error *err)
{
    struct hr_site hi;
    hr_addend_t v;
    enum hr_status st = hr_find_partner(s, s->S, is_pcrel_hi, &hi, err);
    if (st == HR_E_FORMAT)
        return st; /* the section cannot be searched: said */
    if (st != HR_OK)
        return hr_site_fail(s, err, HR_E_RELOC, "no R_RISCV_PCREL_HI20 or R_RISCV_GOT_HI20 "
                            "at the label (%#llx) it pairs with", (unsigned long long)s->S);
    if ((st = hi_value(&hi, &v, err)) != HR_OK)
        return st;
    v = xval(rv64, (hr_addr_t)v);
    if (s->r.type == R_PCREL_LO12_I)
        return patch32(s, MASK_I, enc_i((uint32_t)v), err);
    return patch32(s, MASK_S, enc_s((uint32_t)v), err);
}

/* c.lui: nzimm[17] at bit 12, nzimm[16:12] at bits 6:2 */
static enum hr_status rvc_lui(struct hr_site *s, hr_addr_t SA, bool rv64, struct hr_error *err)
{
    hr_addend_t hi = xval(rv64, SA + 0x800) >> 12;
    if (hi == 0 || !hr_fits_signed(hi, 6))
        return hr_site_fail(s, err, HR_E_RANGE, "value %#llx does not fit c.lui; link "
                            "with the address in reach or build with -mno-relax",
                            (unsigned long long)SA);
    return patch16(s, 0xef83u, (uint16_t)(bits((uint32_t)hi, 5, 5) << 12 |
                                          bits((uint32_t)hi, 4, 0) << 2), err);
}

/* ADDn, SUBn, SETn (n = 8..64) and SUB6/SET6: data fields, as debug
 * information and jump tables use them. */
static enum hr_status data_field(struct hr_site *s, hr_addr_t SA, struct hr_error *err)
{
    static const uint8_t width[] = {1, 2, 4, 8, 1, 2, 4, 8};
    uint32_t t = s->r.type;
    bool six = t == R_SUB6 || t == R_SET6;
    unsigned w = six ? 1 : t >= R_SET8 ? 1u << (t - R_SET8) : width[t - R_ADD8];
    enum hr_status st = hr_site_room(s, w, err);
    if (st != HR_OK)
        return st;
    uint64_t old = w == 1 ? s->loc[0] : w == 2 ? hr_get16(s->loc)
                 : w == 4 ? hr_get32(s->loc) : hr_get64(s->loc);
    bool set = t == R_SET6 || (!six && t >= R_SET8), sub = t == R_SUB6 || (t >= R_SUB8 && !set);
    uint64_t v = set ? SA : sub ? old - SA : old + SA;
    if (six)
        s->loc[0] = (uint8_t)((old & 0xc0) | (v & 0x3f));
    else if (w == 1)
        s->loc[0] = (uint8_t)v;
    else if (w == 2)
        hr_put16(s->loc, (uint16_t)v);
    else if (w == 4)
        hr_put32(s->loc, (uint32_t)v);
    else
        hr_put64(s->loc, v);
    return HR_OK;
}

/* ALIGN: a linker with relaxation deletes some of these A bytes of nops so
 * that P+kept is aligned. The loader cannot move code: it accepts the
 * padding only when it already lands on the boundary. */
static enum hr_status align_padding(struct hr_site *s, struct hr_error *err)
{
    uint64_t align = 1;
    /* Sections align to 4096 at most (loader.c): more padding than that
     * is no assembler's, and doubling past 2^63 would never end. */
    if (s->A < 0 || s->A >= 4096)
        return hr_site_fail(s, err, HR_E_RELOC, "alignment padding of %lld bytes: more "
                            "than any alignment the loader accepts (4096)", (long long)s->A);
    while (align <= (hr_addr_t)s->A)
        align <<= 1;
    if (((s->P + (hr_addr_t)s->A) & (align - 1)) == 0)
        return HR_OK;
    return hr_site_fail(s, err, HR_E_RELOC, "code alignment to %llu bytes needs linker "
                        "relaxation, which the loader does not do: build the module with "
                        "-mno-relax", (unsigned long long)align);
}

static enum hr_status apply(struct hr_site *s, bool rv64, struct hr_error *err)
{
    hr_addr_t SA = s->S + (hr_addr_t)s->A;
    hr_addend_t pc = xval(rv64, SA - s->P);
    enum hr_status st;
    switch (s->r.type) {
    case R_NONE:
    case R_RELAX: /* a hint that the previous relocation may be relaxed */
        return HR_OK;
    case R_32:
        if ((st = hr_site_room(s, 4, err)) == HR_OK)
            put_insn(s->loc, (uint32_t)SA);
        return st;
    case R_64:
        if ((st = hr_site_room(s, 8, err)) == HR_OK)
            hr_put64(s->loc, SA);
        return st;
    case R_32_PCREL:
    case R_PLT32:
        return pcrel32(s, SA, rv64, err);
    case R_HI20:
        if ((st = range_hi20(s, xval(rv64, SA), err)) != HR_OK)
            return st;
        return patch32(s, MASK_U, enc_u((uint32_t)SA), err);
    case R_LO12_I:
        return patch32(s, MASK_I, enc_i((uint32_t)SA), err);
    case R_LO12_S:
        return patch32(s, MASK_S, enc_s((uint32_t)SA), err);
    case R_PCREL_HI20:
        if ((st = range_hi20(s, pc, err)) != HR_OK)
            return st;
        return patch32(s, MASK_U, enc_u((uint32_t)pc), err);
    case R_GOT_HI20: {
        hr_addend_t v;
        if ((st = hi_value(s, &v, err)) != HR_OK || (st = range_hi20(s, v, err)) != HR_OK)
            return st;
        return patch32(s, MASK_U, enc_u((uint32_t)v), err);
    }
    case R_PCREL_LO12_I:
    case R_PCREL_LO12_S:
        return pcrel_lo(s, rv64, err);
    case R_CALL:
    case R_CALL_PLT:
        /* auipc ra, hi ; jalr ra, lo(ra) */
        if ((st = hr_site_room(s, 8, err)) != HR_OK || (st = range_hi20(s, pc, err)) != HR_OK)
            return st;
        put_insn(s->loc, (get_insn(s->loc) & MASK_U) | enc_u((uint32_t)pc));
        put_insn(s->loc + 4, (get_insn(s->loc + 4) & MASK_I) | enc_i((uint32_t)pc));
        return HR_OK;
    case R_BRANCH:
        if ((st = range(s, pc, 13, 2, err)) != HR_OK)
            return st;
        return patch32(s, MASK_B, enc_b((uint32_t)pc), err);
    case R_JAL:
        if ((st = range(s, pc, 21, 2, err)) != HR_OK)
            return st;
        return patch32(s, MASK_J, enc_j((uint32_t)pc), err);
    case R_RVC_BRANCH:
        if ((st = range(s, pc, 9, 2, err)) != HR_OK)
            return st;
        return patch16(s, MASK_CB, enc_cb((uint32_t)pc), err);
    case R_RVC_JUMP:
        if ((st = range(s, pc, 12, 2, err)) != HR_OK)
            return st;
        return patch16(s, MASK_CJ, enc_cj((uint32_t)pc), err);
    case R_RVC_LUI:
        return rvc_lui(s, SA, rv64, err);
    case R_ADD8: case R_ADD16: case R_ADD32: case R_ADD64:
    case R_SUB8: case R_SUB16: case R_SUB32: case R_SUB64:
    case R_SET8: case R_SET16: case R_SET32:
    case R_SUB6: case R_SET6:
        return data_field(s, SA, err);
    case R_ALIGN:
        return align_padding(s, err);
    default:
        return hr_site_fail(s, err, HR_E_RELOC, "not valid in a module (dynamic, TLS or "
                            "gp-relative relocation); build the module with -c and without "
                            "-ftls-model/gp relaxation");
    }
}

static enum hr_status rv32_apply(struct hr_site *s, struct hr_error *err)
{
    return apply(s, false, err);
}

const struct hr_arch_ops hr_ops_rv32 = {
    .machine = HR_EM_RISCV, .is64 = false, .name = rv_name, .need = rv_need, .apply = rv32_apply,
};

/* rv64 in 64-bit builds only (core/names.c); a device's rv32 relocator is
 * then apply()'s one caller, which it inlines. */
#if HR_ELF64
static enum hr_status rv64_apply(struct hr_site *s, struct hr_error *err)
{
    return apply(s, true, err);
}

const struct hr_arch_ops hr_ops_rv64 = {
    .machine = HR_EM_RISCV, .is64 = true, .name = rv_name, .need = rv_need, .apply = rv64_apply,
};
#endif
