"""The sites the oracle checks by decoding instead of byte for byte: there the
loader's output differs from ld's by construction, so the field is decoded in
both and must reach the same thing. GOT accesses (the loader's GOT lives
elsewhere than ld's: both slots must hold the symbol's address), x86-64
veneers, weak imports the firmware lacks (ld rewrites the instruction even
with --no-relax; on ARM both make the call a no-op, ld with `nop.w` where
the object's build attributes allow Thumb-2) and R_RISCV_SUB6 (ld 2.40 computes it wrongly: checked
against the psABI formula). Every decoded field is masked out of the
byte-for-byte comparison that follows.
"""
from arches import ARCHES
from objtools import reloc_names

R_X86_64_PLT32 = 4
X86_GOT = {9, 41, 42}  # GOTPCREL, GOTPCRELX, REX_GOTPCRELX
R_RISCV_CALLS = {18, 19}  # CALL, CALL_PLT
R_RISCV_GOT_HI20 = 20
R_RISCV_SUB6 = 52
R_RISCV_PCREL_LO12_I = 24
R_ARM_THM_CALL = 10
R_ARM_GOTOFF32, R_ARM_BASE_PREL, R_ARM_GOT_BREL, R_ARM_GOT_PREL = 24, 25, 26, 96
ARM_GOT = {R_ARM_GOTOFF32, R_ARM_BASE_PREL, R_ARM_GOT_BREL, R_ARM_GOT_PREL}
# A call that does nothing: `b.n` over a `nop` (any M-profile core), `nop.w`.
ARM_NO_CALL = {0xbf00e000, 0x8000f3af}


def sext(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def fmt(v):
    return "?" if v is None else "%#x" % v


def word(img_bytes, off, n):
    return int.from_bytes(img_bytes[off:off + n], "little")


def arm_got_origins(arch, o, layout, lbytes, ldsecs):
    """(loader's, ld's) GOT origin: what an R_ARM_BASE_PREL field holds is
    origin + A - P. None when no site says."""
    mask = (1 << ARCHES[arch]["bits"]) - 1
    for name, addr, size in layout:
        if name not in lbytes or name not in ldsecs:
            continue
        for off, typ, symidx, addend in o.relocs.get(name, []):
            if typ == R_ARM_BASE_PREL:
                A = sext(word(o.contents(name), off, 4), 32)
                P = addr + off
                return ((word(lbytes[name], off, 4) - A + P) & mask,
                        (word(ldsecs[name][3], off, 4) - A + P) & mask)
    return None


def decode_sites(arch, obj, o, layout, loader, ld, sym_value, problems, res):
    """Check every decoded site of one build; loader and ld are each
    (section name -> bytes, Image). Appends to problems, counts into res,
    returns the masks: section -> {offset: byte mask of bits to ignore}."""
    lbytes, limg = loader
    ldsecs, ldimg = ld
    bits = ARCHES[arch]["bits"]
    psize = bits // 8
    mask_all = (1 << bits) - 1
    masks = {}

    def ignore(sec, off, width, fieldmask):
        m = masks.setdefault(sec, {})
        for i in range(width):
            m[off + i] = m.get(off + i, 0) | (fieldmask >> (8 * i)) & 0xff

    # ARM: each linker's GOT origin, from a BASE_PREL site (GOT origin + A - P).
    origin = arm_got_origins(arch, o, layout, lbytes, ldsecs) if arch == "arm" else None

    # Decode-check the sites whose field differs by construction.
    for name, addr, size in layout:
        if name.startswith(".hr.") or name not in lbytes or name not in ldsecs:
            continue
        lb, db = lbytes[name], ldsecs[name][3]
        if len(lb) != len(db):
            continue
        rels = o.relocs.get(name, [])
        for off, typ, symidx, addend in rels:
            P = addr + off
            if arch == "x86_64" and (typ in X86_GOT or typ == R_X86_64_PLT32):
                ls = (P + sext(word(lb, off, 4), 32) - addend) & mask_all
                ds = (P + sext(word(db, off, 4), 32) - addend) & mask_all
                want = sym_value(symidx)
                if typ == R_X86_64_PLT32:
                    _, where = limg.read(ls, 1)
                    if where != ".hr.veneers":
                        continue  # a direct call: compared byte for byte
                    ven, _ = limg.read(ls, 16)
                    lt = int.from_bytes(ven[6:14], "little")
                    if ven[:6] != b"\xff\x25\0\0\0\0" or lt != ds or (want is not None
                                                                     and lt != want):
                        problems.append("veneer for the call at %s+%#x: loader %s -> %#x, ld "
                                        "calls %#x, symbol %#x" % (name, off, ven[:6].hex(),
                                                                   lt, ds, want or 0))
                    res["veneer_sites"] += 1
                    ignore(name, off, 4, 0xffffffff)
                    continue
                lv, lwhere = limg.read(ls, 8)
                dv, dwhere = ldimg.read(ds, 8)
                lv = None if lv is None else int.from_bytes(lv, "little")
                dv = None if dv is None else int.from_bytes(dv, "little")
                if (want == 0 and o.syms[symidx][1] == "SHN_UNDEF" and off >= 2
                        and db[off - 2] == 0xc7 and db[off - 1] >> 6 == 3
                        and lb[off - 2] == 0x8b and lb[off - 1] & 0xc7 == 5):
                    # ld resolves a weak import that is missing to 0 and, even
                    # with --no-relax, turns `mov sym@GOTPCREL(%rip), %reg`
                    # into `mov $0, %reg`: the value is the immediate.
                    if (lb[off - 1] >> 3 & 7) != (db[off - 1] & 7):
                        problems.append("GOT site at %s+%#x: ld's mov $imm uses another "
                                        "register" % (name, off))
                    dv, dwhere, ds = sext(word(db, off, 4), 32) & mask_all, "an immediate", 0
                    ignore(name, off - 2, 2, 0xffff)
                    res["weak_imm"] += 1
                if lwhere != ".hr.got" or dv is None or lv != dv or lv != want:
                    problems.append(
                        "GOT site at %s+%#x (%s): loader slot %#x in %s holds %s, ld slot %#x "
                        "in %s holds %s, symbol '%s' is at %s" % (
                            name, off, reloc_names(obj).get(typ, typ), ls, lwhere, fmt(lv), ds, dwhere, fmt(dv),
                            o.syms[symidx][0], fmt(want)))
                res["got_sites"] += 1
                ignore(name, off, 4, 0xffffffff)
            elif (arch in ("rv32", "rv64") and typ in R_RISCV_CALLS and sym_value(symidx) == 0
                  and o.syms[symidx][1] == "SHN_UNDEF" and off + 8 <= len(db)
                  and (word(db, off + 4, 4) >> 15) & 31 == 0):
                # A call to a weak import the firmware lacks: ld rewrites the
                # jalr's base to x0 (`auipc ra,0; jalr ra,0(x0)`), the loader
                # keeps auipc+jalr reaching 0 pc-relatively. Both must reach 0.
                targets = []
                for img_bytes, is_ld in ((lb, False), (db, True)):
                    au, jr = word(img_bytes, off, 4), word(img_bytes, off + 4, 4)
                    rs1 = (jr >> 15) & 31
                    lo = sext(jr >> 20, 12)
                    if rs1 == 0:
                        targets.append(lo & mask_all)
                    elif rs1 == (au >> 7) & 31 and au & 0x7f == 0x17:
                        targets.append((P + sext(au & 0xfffff000, 32) + lo) & mask_all)
                    else:
                        targets.append(None)
                if targets != [0, 0]:
                    problems.append("call to missing weak '%s' at %s+%#x: loader reaches %s, "
                                    "ld %s (both should reach 0)" % (
                                        o.syms[symidx][0], name, off, fmt(targets[0]),
                                        fmt(targets[1])))
                ignore(name, off, 4, 0xfffff000)
                ignore(name, off + 4, 4, 0xfff00000 | 31 << 15)
                res["weak_imm"] += 1
            elif arch == "arm" and typ in ARM_GOT:
                # The loader's GOT is its own: each field must reach the same
                # thing from its GOT origin (or slot) as ld's does from ld's.
                A = sext(word(o.contents(name), off, 4), 32)  # REL: in the place
                lv, dv = word(lb, off, 4), word(db, off, 4)
                gl, gd = origin or (None, None)
                if typ == R_ARM_BASE_PREL:
                    got = [(lv - A + P) & mask_all, (dv - A + P) & mask_all]
                    ok = got == [gl, gd]
                elif typ == R_ARM_GOTOFF32:
                    got = [(lv + (gl or 0)) & mask_all, (dv + (gd or 0)) & mask_all]
                    ok = got[0] == got[1]
                else:
                    base_l = P if typ == R_ARM_GOT_PREL else gl
                    base_d = P if typ == R_ARM_GOT_PREL else gd
                    got = [None, None]
                    if base_l is not None and base_d is not None:
                        sl, _ = limg.read((base_l + lv - A) & mask_all, 4)
                        sd, _ = ldimg.read((base_d + dv - A) & mask_all, 4)
                        got = [None if v is None else int.from_bytes(v, "little")
                               for v in (sl, sd)]
                    ok = got[0] is not None and got[0] == got[1]
                if not ok:
                    problems.append("GOT site %s at %s+%#x: loader reaches %s, ld %s" % (
                        reloc_names(obj).get(typ, typ), name, off, fmt(got[0]),
                        fmt(got[1])))
                res["got_sites"] += 1
                ignore(name, off, 4, 0xffffffff)
            elif (arch == "arm" and typ == R_ARM_THM_CALL and sym_value(symidx) == 0
                  and o.syms[symidx][1] == "SHN_UNDEF" and off + 4 <= len(db)):
                # A call to a weak import the firmware lacks: both must skip it.
                got = (word(lb, off, 4), word(db, off, 4))
                if got[0] != 0xbf00e000 or got[1] not in ARM_NO_CALL:
                    problems.append("call to missing weak '%s' at %s+%#x: loader %s, ld %s "
                                    "(both should be a no-op)" % (
                                        o.syms[symidx][0], name, off, fmt(got[0]),
                                        fmt(got[1])))
                ignore(name, off, 4, 0xffffffff)
                res["weak_imm"] += 1
            elif arch in ("rv32", "rv64") and typ == R_RISCV_SUB6:
                # binutils 2.40 adds instead of subtracting for SUB6 (ld gives
                # V + S + A in the low 6 bits). Check the loader against the
                # psABI formula, V - S - A, from the object's own byte.
                orig = o.contents(name)[off]
                want = sym_value(symidx)
                exp = None if want is None else (orig & 0xc0) | ((orig - want - addend) & 0x3f)
                if lb[off] != exp:
                    problems.append("R_RISCV_SUB6 at %s+%#x: loader %#04x, psABI V-S-A gives "
                                    "%s" % (name, off, lb[off], fmt(exp)))
                ignore(name, off, 1, 0x3f)
                res["formula"] += 1
            elif arch in ("rv32", "rv64") and typ == R_RISCV_GOT_HI20:
                los = [r for r in rels if r[1] == R_RISCV_PCREL_LO12_I
                       and o.syms[r[2]][1] != "SHN_UNDEF"
                       and o.byindex.get(o.syms[r[2]][1]) == name
                       and o.syms[r[2]][2] == off]
                if not los:
                    problems.append("GOT_HI20 at %s+%#x has no PCREL_LO12_I partner" % (name, off))
                    continue
                want = sym_value(symidx)
                ignore(name, off, 4, 0xfffff000)
                for lo_off, _, _, _ in los:
                    ignore(name, lo_off, 4, 0xfff00000)
                    slots = []
                    for img_bytes, img in ((lb, limg), (db, ldimg)):
                        hi = sext(word(img_bytes, off, 4) & 0xfffff000, 32)
                        lo = sext(word(img_bytes, lo_off, 4) >> 20, 12)
                        slot = (P + hi + lo) & mask_all
                        v, where = img.read(slot, psize)
                        slots.append((slot, where, None if v is None else
                                      int.from_bytes(v, "little")))
                    (ls, lw, lv), (ds, dw, dv) = slots
                    if lw != ".hr.got" or dv is None or lv != dv or lv != want:
                        problems.append(
                            "GOT site at %s+%#x/+%#x: loader slot %#x in %s holds %s, ld slot "
                            "%#x in %s holds %s, symbol '%s' is at %s" % (
                                name, off, lo_off, ls, lw, fmt(lv), ds, dw, fmt(dv),
                                o.syms[symidx][0], fmt(want)))
                    res["got_sites"] += 1

    return masks
