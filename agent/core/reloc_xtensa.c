/* Xtensa relocations (little-endian cores: lx106, ESP32, ESP32-S3), from the
 * Xtensa ISA reference and binutils' elf32-xtensa.c, which is the oracle:
 * every value written here is the one `ld --no-relax` writes.
 *
 * SLOT0_OP carries no field description: the instruction at the place says
 * which operand holds the target, so the relocator decodes it. Byte b0 is
 * the lowest address; op0 is b0[3:0] and fixes the length (0-7: 3 bytes,
 * 8-13: 2-byte density forms, 14-15: FLIX bundles or reserved). */
#include "loader_int.h"

enum {
    R_XTENSA_NONE = 0,
    R_XTENSA_32 = 1,
    R_XTENSA_RTLD = 2,
    R_XTENSA_RELATIVE = 5,
    R_XTENSA_PLT = 6,
    R_XTENSA_OP0 = 8,
    R_XTENSA_OP2 = 10,
    R_XTENSA_ASM_EXPAND = 11,
    R_XTENSA_ASM_SIMPLIFY = 12,
    R_XTENSA_32_PCREL = 14,
    R_XTENSA_GNU_VTINHERIT = 15,
    R_XTENSA_GNU_VTENTRY = 16,
    R_XTENSA_DIFF8 = 17,
    R_XTENSA_DIFF16 = 18,
    R_XTENSA_DIFF32 = 19,
    R_XTENSA_SLOT0_OP = 20,
    R_XTENSA_SLOT14_OP = 34,
    R_XTENSA_SLOT0_ALT = 35,
    R_XTENSA_SLOT14_ALT = 49,
    R_XTENSA_TLSDESC_FN = 50,
    R_XTENSA_TLS_CALL = 56,
    R_XTENSA_PDIFF8 = 57,
    R_XTENSA_NDIFF32 = 62,
};

/* Every number in binutils' include/elf/xtensa.h; 7 and 13 are unassigned. */
static const char *const xt_names[] = {
    "R_XTENSA_NONE", "R_XTENSA_32", "R_XTENSA_RTLD", "R_XTENSA_GLOB_DAT",
    "R_XTENSA_JMP_SLOT", "R_XTENSA_RELATIVE", "R_XTENSA_PLT", NULL,
    "R_XTENSA_OP0", "R_XTENSA_OP1", "R_XTENSA_OP2", "R_XTENSA_ASM_EXPAND",
    "R_XTENSA_ASM_SIMPLIFY", NULL, "R_XTENSA_32_PCREL", "R_XTENSA_GNU_VTINHERIT",
    "R_XTENSA_GNU_VTENTRY", "R_XTENSA_DIFF8", "R_XTENSA_DIFF16", "R_XTENSA_DIFF32",
    "R_XTENSA_SLOT0_OP", "R_XTENSA_SLOT1_OP", "R_XTENSA_SLOT2_OP", "R_XTENSA_SLOT3_OP",
    "R_XTENSA_SLOT4_OP", "R_XTENSA_SLOT5_OP", "R_XTENSA_SLOT6_OP", "R_XTENSA_SLOT7_OP",
    "R_XTENSA_SLOT8_OP", "R_XTENSA_SLOT9_OP", "R_XTENSA_SLOT10_OP", "R_XTENSA_SLOT11_OP",
    "R_XTENSA_SLOT12_OP", "R_XTENSA_SLOT13_OP", "R_XTENSA_SLOT14_OP", "R_XTENSA_SLOT0_ALT",
    "R_XTENSA_SLOT1_ALT", "R_XTENSA_SLOT2_ALT", "R_XTENSA_SLOT3_ALT", "R_XTENSA_SLOT4_ALT",
    "R_XTENSA_SLOT5_ALT", "R_XTENSA_SLOT6_ALT", "R_XTENSA_SLOT7_ALT", "R_XTENSA_SLOT8_ALT",
    "R_XTENSA_SLOT9_ALT", "R_XTENSA_SLOT10_ALT", "R_XTENSA_SLOT11_ALT", "R_XTENSA_SLOT12_ALT",
    "R_XTENSA_SLOT13_ALT", "R_XTENSA_SLOT14_ALT", "R_XTENSA_TLSDESC_FN", "R_XTENSA_TLSDESC_ARG",
    "R_XTENSA_TLS_DTPOFF", "R_XTENSA_TLS_TPOFF", "R_XTENSA_TLS_FUNC", "R_XTENSA_TLS_ARG",
    "R_XTENSA_TLS_CALL", "R_XTENSA_PDIFF8", "R_XTENSA_PDIFF16", "R_XTENSA_PDIFF32",
    "R_XTENSA_NDIFF8", "R_XTENSA_NDIFF16", "R_XTENSA_NDIFF32",
};

static const char *xt_name(uint32_t t)
{
    return t < sizeof xt_names / sizeof xt_names[0] ? xt_names[t] : NULL;
}

/* Literals hold full addresses, so nothing needs a GOT slot or a veneer. */
static enum hr_need xt_need(uint32_t t)
{
    (void)t;
    return HR_NEED_NONE;
}

/* A windowed call stores the window increment in the return address's top
 * two bits, and RETW takes PC[31:30] from the callee's own PC: caller and
 * callee must share a 1 GiB segment. */
static bool crosses_segment(uint32_t from, uint32_t to)
{
    return (from >> 30) != (to >> 30);
}

/* d = target - (P + 4) must fit a signed field of `bits` bits. */
static enum hr_status check_signed(struct hr_site *s, const char *what, int32_t d, unsigned bits,
                                   struct hr_error *err)
{
    if (!hr_fits_signed(d, bits))
        return hr_site_fail(s, err, HR_E_RANGE, "%s target %#x is %d bytes from the "
                            "instruction's end; the limit is %d..%d", what,
                            (unsigned)(s->S + (hr_addr_t)s->A), (int)d, -(1 << (bits - 1)),
                            (1 << (bits - 1)) - 1);
    return HR_OK;
}

static enum hr_status check_unsigned(struct hr_site *s, const char *what, int32_t d,
                                     unsigned max, struct hr_error *err)
{
    if (d < 0 || d > (int32_t)max)
        return hr_site_fail(s, err, HR_E_RANGE, "%s target %#x is %d bytes from the "
                            "instruction's end; the limit is 0..%u (forward only)", what,
                            (unsigned)(s->S + (hr_addr_t)s->A), (int)d, max);
    return HR_OK;
}

/* 8-bit signed branch offset in b2 (RRI8 and BRI8 forms): target = P+4+imm8. */
static enum hr_status put_imm8(struct hr_site *s, const char *what, int32_t d,
                               struct hr_error *err)
{
    enum hr_status st = check_signed(s, what, d, 8, err);
    if (st == HR_OK)
        s->loc[2] = (uint8_t)d;
    return st;
}

/* 18-bit offset split as b0[7:6] = off[1:0], b1 = off[9:2], b2 = off[17:10]
 * (CALL and J formats). */
static void put_off18(uint8_t *b, int32_t off)
{
    uint32_t f = (uint32_t)off & 0x3ffff;
    b[0] = (uint8_t)((b[0] & 0x3f) | (f & 3) << 6);
    b[1] = (uint8_t)(f >> 2);
    b[2] = (uint8_t)(f >> 10);
}

static enum hr_status refuse_insn(struct hr_site *s, unsigned len, struct hr_error *err)
{
    const uint8_t *b = s->loc;
    if (len == 2)
        return hr_site_fail(s, err, HR_E_RELOC, "instruction %02x %02x (op0 %u) has no "
                            "relocatable operand the loader knows (of the narrow forms, only "
                            "BEQZ.N/BNEZ.N)", b[0], b[1], b[0] & 15u);
    return hr_site_fail(s, err, HR_E_RELOC, "instruction %02x %02x %02x (op0 %u) has no "
                        "relocatable operand the loader knows (L32R, CALLn, J, branches, "
                        "LOOPs)", b[0], b[1], b[2], b[0] & 15u);
}

static enum hr_status slot0(struct hr_site *s, struct hr_error *err)
{
    uint8_t *b = s->loc;
    uint32_t P = (uint32_t)s->P, T = (uint32_t)(s->S + (hr_addr_t)s->A);
    /* Distances wrap at 32 bits as they do in ld; d is target - (P + 4). */
    int32_t d = (int32_t)(T - P - 4);
    enum hr_status st = hr_site_room(s, 2, err);
    if (st != HR_OK)
        return st;
    unsigned op0 = b[0] & 15u, n = b[0] >> 4 & 3u, m = b[0] >> 6;
    if (op0 >= 14)
        return hr_site_fail(s, err, HR_E_RELOC, "instruction %02x %02x (op0 %u) is a FLIX "
                            "bundle or reserved opcode, which the loader does not decode",
                            b[0], b[1], op0);
    if (op0 >= 8) {
        /* BEQZ.N/BNEZ.N (RI6): op0 = 12 with b0[7] set; imm6 = b0[5:4]:b1[7:4],
         * unsigned, target = P + 4 + imm6. */
        if (op0 != 12 || !(b[0] & 0x80))
            return refuse_insn(s, 2, err);
        if ((st = check_unsigned(s, "BEQZ.N/BNEZ.N", d, 63, err)) != HR_OK)
            return st;
        b[0] = (uint8_t)((b[0] & 0xcf) | (d & 0x30));
        b[1] = (uint8_t)((b[1] & 0x0f) | (d & 0x0f) << 4);
        return HR_OK;
    }
    if ((st = hr_site_room(s, 3, err)) != HR_OK)
        return st;
    switch (op0) {
    case 1: {
        /* L32R (RI16): imm16 = b2:b1, target = ((P + 3) & ~3) + (0xffff0000 | imm16) * 4:
         * the literal always lies below the instruction, within 256 KiB. */
        int32_t off = (int32_t)(T - ((P + 3) & ~3u));
        if (off % 4 != 0)
            return hr_site_fail(s, err, HR_E_RANGE, "L32R literal %#x is not 4-byte aligned",
                                (unsigned)T);
        if (off >= 0 || off < -262144)
            return hr_site_fail(s, err, HR_E_RANGE, "L32R literal %#x is %d bytes from the "
                                "instruction; the limit is -262144..-4 (literals must be "
                                "placed below the code)", (unsigned)T, (int)off);
        b[1] = (uint8_t)(off >> 2);
        b[2] = (uint8_t)(off >> 10);
        return HR_OK;
    }
    case 5: {
        /* CALL0/4/8/12 (n = b0[5:4]): target = (P & ~3) + 4 + off18 * 4. */
        int32_t off = (int32_t)(T - (P & ~3u) - 4);
        if (n && crosses_segment(P, T))
            return hr_site_fail(s, err, HR_E_RANGE, "windowed CALL%u from %#x to %#x crosses "
                                "a 1 GiB boundary, so its return would fail", 4 * n,
                                (unsigned)P, (unsigned)T);
        if (off % 4 != 0 || !hr_fits_signed(off / 4, 18))
            return hr_site_fail(s, err, HR_E_RANGE, "CALL%u target %#x is %s (%d bytes away, "
                                "the limit is -524288..524284): build the module with "
                                "-mlongcalls", 4 * n, (unsigned)T,
                                off % 4 ? "misaligned" : "out of reach", (int)off);
        put_off18(b, off / 4);
        return HR_OK;
    }
    case 6:
        if (n == 0) {
            /* J: target = P + 4 + off18 (bytes). */
            if ((st = check_signed(s, "J", d, 18, err)) == HR_OK)
                put_off18(b, d);
            return st;
        }
        if (n == 1) {
            /* BEQZ/BNEZ/BLTZ/BGEZ (BRI12): imm12 = b2:b1[7:4], signed. */
            if ((st = check_signed(s, "BRI12 branch", d, 12, err)) != HR_OK)
                return st;
            b[1] = (uint8_t)((b[1] & 0x0f) | (d & 0x0f) << 4);
            b[2] = (uint8_t)(d >> 4);
            return HR_OK;
        }
        if (n == 2 || m >= 2) /* BEQI/BNEI/BLTI/BGEI, BLTUI/BGEUI (BRI8) */
            return put_imm8(s, "BRI8 branch", d, err);
        if (m == 1) {
            unsigned r = b[1] >> 4;
            if (r <= 1) /* BF/BT */
                return put_imm8(s, "BF/BT", d, err);
            if (r >= 8 && r <= 10) {
                /* LOOP/LOOPNEZ/LOOPGTZ: LEND = P + 4 + imm8, unsigned. */
                if ((st = check_unsigned(s, "LOOP end", d, 255, err)) == HR_OK)
                    b[2] = (uint8_t)d;
                return st;
            }
        }
        return refuse_insn(s, 3, err); /* ENTRY and the rest of the B1 group */
    case 7:
        /* RRI8 branches, all sixteen r values (BEQ..BBSI): imm8 = b2. */
        return put_imm8(s, "RRI8 branch", d, err);
    default:
        return refuse_insn(s, 3, err);
    }
}

/* ld reports this too: an ASM_EXPAND marks `l32r aN, lit; callxN aN`, and
 * a windowed CALLX must not leave the caller's 1 GiB segment either. */
static enum hr_status check_expand(struct hr_site *s, struct hr_error *err)
{
    const uint8_t *b = s->loc;
    uint32_t T = (uint32_t)(s->S + (hr_addr_t)s->A);
    /* CALLX4/8/12 (CALLX format): b0 = 0xc0 | n << 4 with n = 1..3, b1[7:4] = 0, b2 = 0. */
    if (s->room < 6 || (b[0] & 15u) != 1 || (b[3] & 0xcf) != 0xc0 || !(b[3] & 0x30) ||
        (b[4] & 0xf0) || b[5] || s->S == 0)
        return HR_OK;
    if (crosses_segment((uint32_t)s->P, T))
        return hr_site_fail(s, err, HR_E_RANGE, "windowed long call from %#x to %#x crosses "
                            "a 1 GiB boundary, so its return would fail", (unsigned)s->P,
                            (unsigned)T);
    return HR_OK;
}

static enum hr_status xt_apply(struct hr_site *s, struct hr_error *err)
{
    uint32_t t = s->r.type, SA = (uint32_t)(s->S + (hr_addr_t)s->A);
    enum hr_status st;
    if (t == R_XTENSA_SLOT0_OP)
        return slot0(s, err);
    switch (t) {
    case R_XTENSA_NONE:
    case R_XTENSA_GNU_VTINHERIT:
    case R_XTENSA_GNU_VTENTRY:
        return HR_OK;
    case R_XTENSA_ASM_EXPAND:
        return check_expand(s, err);
    case R_XTENSA_32:
    case R_XTENSA_PLT:
    case R_XTENSA_32_PCREL:
        if ((st = hr_site_room(s, 4, err)) != HR_OK)
            return st;
        /* R_XTENSA_32 is partial_inplace in ld: the word already there is
         * added to S + A. PLT and 32_PCREL overwrite it. */
        if (t == R_XTENSA_32)
            hr_put32(s->loc, hr_get32(s->loc) + SA);
        else
            hr_put32(s->loc, t == R_XTENSA_PLT ? SA : SA - (uint32_t)s->P);
        return HR_OK;
    }
    if ((t >= R_XTENSA_DIFF8 && t <= R_XTENSA_DIFF32) ||
        (t >= R_XTENSA_PDIFF8 && t <= R_XTENSA_NDIFF32)) {
        /* The assembler already stored the difference of two symbols of the
         * same section; ld only rewrites it when relaxation moves code. */
        unsigned k = t >= R_XTENSA_PDIFF8 ? (t - R_XTENSA_PDIFF8) % 3 : t - R_XTENSA_DIFF8;
        return hr_site_room(s, 1u << k, err);
    }
    if (t <= R_XTENSA_RELATIVE)
        return hr_site_fail(s, err, HR_E_RELOC, "dynamic relocation: only linked executables "
                            "and shared objects have it, never a module (.o)");
    if (t >= R_XTENSA_OP0 && t <= R_XTENSA_OP2)
        return hr_site_fail(s, err, HR_E_RELOC, "obsolete operand relocation from assemblers "
                            "before 2003: reassemble the module");
    if (t == R_XTENSA_ASM_SIMPLIFY)
        return hr_site_fail(s, err, HR_E_RELOC, "made by a relaxing partial link (ld -r): "
                            "load the assembler's object, or link with --no-relax");
    if (t > R_XTENSA_SLOT0_OP && t <= R_XTENSA_SLOT14_OP)
        return hr_site_fail(s, err, HR_E_RELOC, "operand in FLIX slot %u: the loader decodes "
                            "only single (slot 0) instructions", t - R_XTENSA_SLOT0_OP);
    if (t >= R_XTENSA_SLOT0_ALT && t <= R_XTENSA_SLOT14_ALT)
        return hr_site_fail(s, err, HR_E_RELOC, "alternate form (CONST16 high half or "
                            "absolute-literal L32R) is not supported");
    if (t >= R_XTENSA_TLSDESC_FN && t <= R_XTENSA_TLS_CALL)
        return hr_site_fail(s, err, HR_E_RELOC, "thread-local storage, which modules cannot "
                            "have");
    return hr_site_fail(s, err, HR_E_RELOC, "not implemented");
}

const struct hr_arch_ops hr_ops_xtensa = {
    .machine = HR_EM_XTENSA,
    .is64 = false,
    .name = xt_name,
    .need = xt_need,
    .apply = xt_apply,
};
