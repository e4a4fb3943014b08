#!/usr/bin/python3
"""Byte-exact oracle for the loader: GNU ld places every section where the
loader placed it, and the relocated bytes must be identical.

For one architecture: build every corpus file at -O0/-O2/-Os in each code
model variant, make a firmware that defines every import at an absolute
address, run `hotd relocate`, link the same object with the arch's GNU ld at
the loader's addresses, and compare each section byte for byte. Only GOT
accesses (and x86-64 veneers) are compared by decoding instead: there the
loader's GOT lives elsewhere than ld's, so the displacement fields differ by
construction; both must reach a slot holding the same symbol address.

Run with /usr/bin/python3 (Debian's python3-pyelftools). See README.md.
"""
import argparse
import glob
import multiprocessing
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

HERE = os.path.dirname(os.path.abspath(__file__))
OPTS = ["-O0", "-O2", "-Os"]
COMMON_CFLAGS = ["-c", "-ffreestanding", "-fno-common", "-g", "-Wall", "-Werror"]

# One section per function and object: many sections, calls between them,
# and on Xtensa one .literal.<fn> per function.
SECTIONS = ["-ffunction-sections", "-fdata-sections"]

# Imports no firmware provides: they resolve to 0 (weak) in both linkers.
MISSING_PREFIX = "fw_optional"

ARCHES = {
    "x86_64": dict(
        cc=["gcc"], cflags=[],
        # -fno-plt: `call *f@GOTPCREL(%rip)`, the non-REX R_X86_64_GOTPCRELX
        variants={"pic": ["-fPIC"], "nopic": ["-fno-pic"], "noplt": ["-fPIC", "-fno-plt"],
                  "sections": ["-fno-pic"] + SECTIONS},
        ld=["ld", "-m", "elf_x86_64"], asm=["x86_64"],
        text=0x10000000, data=0x20000000,  # below 2 GiB: -fno-pic needs R_X86_64_32/32S
        fw=0x08000000,                     # imports: within reach of PC32 and 32S
        ldgot=0x50000000,                  # ld's own .got, away from the module
        bits=64),
    "rv32": dict(
        cc=["riscv64-unknown-elf-gcc"],
        cflags=["-misa-spec=2.2", "-march=rv32imc", "-mabi=ilp32"],
        variants={"medlow": ["-mcmodel=medlow"], "medany": ["-mcmodel=medany"],
                  "pic": ["-fPIC"], "sections": SECTIONS + ["-mcmodel=medany", "-mno-relax"],
                  "align": ["-falign-functions=16"]},
        ld=["riscv64-unknown-elf-ld", "-m", "elf32lriscv"], asm=["riscv"],
        text=0x10000000, data=0x20000000, fw=0x08000000, ldgot=0x50000000, bits=32),
    "rv64": dict(
        cc=["riscv64-unknown-elf-gcc"], cflags=["-march=rv64imac", "-mabi=lp64"],
        variants={"medlow": ["-mcmodel=medlow"], "medany": ["-mcmodel=medany"],
                  "pic": ["-fPIC"], "sections": SECTIONS + ["-mcmodel=medany", "-mno-relax"],
                  "align": ["-falign-functions=16"]},
        ld=["riscv64-unknown-elf-ld", "-m", "elf64lriscv"], asm=["riscv"],
        # medlow: everything within ±2 GiB of address 0
        text=0x10000000, data=0x20000000, fw=0x08000000, ldgot=0x50000000, bits=64),
    "xtensa": dict(
        cc=["xtensa-lx106-elf-gcc"], cflags=["-mlongcalls"],
        # -fPIC: calls through R_XTENSA_PLT literals
        variants={"lit": [], "textlit": ["-mtext-section-literals"],
                  "sections": SECTIONS, "pic": ["-fPIC"]},
        ld=["xtensa-lx106-elf-ld"], asm=["xtensa"],
        # IRAM for code, DRAM for data, imports in the ROM/flash window
        text=0x40100000, data=0x3ffe8000, fw=0x40210000, ldgot=0x60000000, bits=32),
}

# Imports at a chosen address rather than in the firmware's block.
FW_FIXED = {
    "small_abs": 0x1f000,  # asm/riscv-forms.S: R_RISCV_RVC_LUI wants a 6-bit hi20
}

# Builds the loader may refuse: (arch, variant) -> regex its message must
# match. Those it loads must still be byte-exact.
EXPECT_REFUSE = {
    # -falign-functions with relaxation on: the assembler pads with nops and
    # emits R_RISCV_ALIGN for ld to delete the excess. The loader does not
    # delete code, so it refuses unless the padding already ends aligned.
    ("rv32", "align"): r"R_RISCV_ALIGN .* needs linker relaxation",
    ("rv64", "align"): r"R_RISCV_ALIGN .* needs linker relaxation",
}

R_X86_64_PLT32 = 4
X86_GOT = {9, 41, 42}  # GOTPCREL, GOTPCRELX, REX_GOTPCRELX
R_RISCV_CALLS = {18, 19}  # CALL, CALL_PLT
R_RISCV_GOT_HI20 = 20
R_RISCV_SUB6 = 52
R_RISCV_PCREL_LO12_I = 24


def run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


def sh(cmd):
    return " ".join(c if re.match(r"^[\w@%+=:,./-]+$", c) else "'" + c + "'" for c in cmd)


# ---- phase 1: compile ------------------------------------------------------

def compile_one(job):
    arch, src, var, opt, obj = job
    a = ARCHES[arch]
    cmd = a["cc"] + a["cflags"] + a["variants"].get(var, []) + [opt] + COMMON_CFLAGS + [src,
                                                                                "-o", obj]
    rc, out, err = run(cmd)
    return obj, cmd, rc, out + err


# ---- phase 2: the firmware -------------------------------------------------

def undefined_symbols(obj):
    names = set()
    with open(obj, "rb") as f:
        elf = ELFFile(f)
        for sec in elf.iter_sections():
            if isinstance(sec, SymbolTableSection):
                for s in sec.iter_symbols():
                    if s.name and s["st_shndx"] == "SHN_UNDEF":
                        names.add(s.name)
    return names


def make_firmware(arch, work, objs):
    """fw.elf: every import of every object at its own absolute address."""
    a = ARCHES[arch]
    names = set()
    for o in objs:
        names |= undefined_symbols(o)
    names.discard("_GLOBAL_OFFSET_TABLE_")
    names = sorted(n for n in names if not n.startswith(MISSING_PREFIX))
    fw = {n: FW_FIXED.get(n, a["fw"] + 0x40 * i) for i, n in enumerate(names)}
    empty_c = os.path.join(work, "empty.c")
    with open(empty_c, "w") as f:
        f.write("/* nothing: the firmware is only symbols */\n")
    empty_o = os.path.join(work, "empty.o")
    rc, out, err = run(a["cc"] + a["cflags"] + ["-c", empty_c, "-o", empty_o])
    if rc:
        sys.exit("oracle %s: cannot build the firmware's empty object:\n%s" % (arch, out + err))
    script = os.path.join(work, "fw.ld")
    with open(script, "w") as f:
        f.write("/* Generated by oracle.py: every import the corpus uses. */\n")
        for n, addr in fw.items():
            f.write("%s = %#x;\n" % (n, addr))
    fw_elf = os.path.join(work, "fw.elf")
    rc, out, err = run(a["ld"] + ["-T", script, empty_o, "-o", fw_elf, "-e", "0"])
    if rc:
        sys.exit("oracle %s: cannot link the firmware:\n%s" % (arch, out + err))
    return fw_elf, fw


# ---- phase 3: relocate, link, compare ---------------------------------------

class Obj:
    """What the comparison needs from the module's .o."""

    def contents(self, name):
        with open(self.path, "rb") as f:
            return ELFFile(f).get_section_by_name(name).data()

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            elf = ELFFile(f)
            self.sections = {}  # name -> (index, type, flags, size)
            self.byindex = {}
            self.dups = set()
            for i, sec in enumerate(elf.iter_sections()):
                if sec.name in self.sections:
                    self.dups.add(sec.name)
                self.sections[sec.name] = (i, sec["sh_type"], sec["sh_flags"], sec["sh_size"])
                self.byindex[i] = sec.name
            self.syms = []
            for sec in elf.iter_sections():
                if isinstance(sec, SymbolTableSection):
                    for s in sec.iter_symbols():
                        self.syms.append((s.name, s["st_shndx"], s["st_value"],
                                          s["st_info"]["bind"]))
            self.relocs = {}  # section name -> [(offset, type, symidx, addend)]
            for sec in elf.iter_sections():
                if isinstance(sec, RelocationSection) and sec["sh_info"] in self.byindex:
                    tgt = self.byindex[sec["sh_info"]]
                    self.relocs[tgt] = [(r["r_offset"], r["r_info_type"], r["r_info_sym"],
                                         r["r_addend"] if r.is_RELA() else 0)
                                        for r in sec.iter_relocations()]


_names_cache = {}


def reloc_names(obj):
    """Relocation type numbers -> names, from readelf (knows every machine)."""
    if obj in _names_cache:
        return _names_cache[obj]
    names = _names_cache[obj] = {}
    rc, out, _ = run(["readelf", "-rW", obj])
    for line in out.splitlines():
        m = re.match(r"^\s*[0-9a-f]+\s+([0-9a-f]+)\s+(R_\w+)", line)
        if m:
            info = int(m.group(1), 16)
            names[info & 0xffffffff if len(m.group(1)) > 8 else info & 0xff] = m.group(2)
    return names


def clear_merge_flags(src, dst):
    """A copy of the object without SHF_MERGE/SHF_STRINGS: ld would otherwise
    share string tails and fold duplicate constants, which the loader (that
    copies sections as they are) does not do. Nothing else changes."""
    b = bytearray(open(src, "rb").read())
    e = "<" if b[5] == 1 else ">"
    if b[4] == 2:
        shoff, = struct.unpack_from(e + "Q", b, 0x28)
        shentsize, shnum = struct.unpack_from(e + "HH", b, 0x3a)
        ff = "Q"
    else:
        shoff, = struct.unpack_from(e + "I", b, 0x20)
        shentsize, shnum = struct.unpack_from(e + "HH", b, 0x2e)
        ff = "I"
    for i in range(shnum):
        o = shoff + i * shentsize + 8
        flags, = struct.unpack_from(e + ff, b, o)
        struct.pack_into(e + ff, b, o, flags & ~0x30)
    with open(dst, "wb") as f:
        f.write(b)


def ld_script(arch, layout, obj):
    a = ARCHES[arch]
    lines = ["/* Generated by oracle.py: each section where the loader put it. */",
             "SECTIONS", "{"]
    placed = set()
    for name, addr, size in layout:
        if name.startswith(".hr."):
            continue
        placed.add(name)
        lines.append("  %s %#x : { *(%s) }" % (name, addr, name))
    lines += [
        "  /* ld's own tables, far from the module (the loader builds .hr.got instead) */",
        "  .got %#x : { *(.got) *(.igot) *(.got.plt) *(.igot.plt) }" % a["ldgot"],
        "  .plt : { *(.plt) *(.iplt) }",
        "  .rela.dyn : { *(.rela.*) }",
    ]
    discard = [".eh_frame", ".note*", ".comment", ".xtensa.info"]
    for name, (idx, typ, flags, size) in obj.sections.items():
        if flags & 2 and name not in placed and name not in discard and typ not in (
                "SHT_RELA", "SHT_REL", "SHT_GROUP"):
            discard.append(name)  # not loaded (zero-size, unwind, notes)
    lines.append("  /DISCARD/ : { %s }" % " ".join("*(%s)" % d for d in discard))
    lines.append("}")
    return "\n".join(lines) + "\n"


def sext(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


class Image:
    """Address space view of a set of (addr, bytes) ranges."""

    def __init__(self):
        self.ranges = []

    def add(self, name, addr, data):
        self.ranges.append((addr, data, name))

    def read(self, addr, n):
        for base, data, name in self.ranges:
            if base <= addr and addr + n <= base + len(data):
                return data[addr - base:addr - base + n], name
        return None, None


def check_build(job):
    (arch, src, var, opt, obj, fw_elf, fw, hotd, outdir, compile_cmd) = job
    a = ARCHES[arch]
    bits = a["bits"]
    psize = bits // 8
    mask_all = (1 << bits) - 1
    tag = "%s %s %s" % (os.path.basename(src), var, opt)
    res = dict(tag=tag, ok=False, got_sites=0, veneer_sites=0, weak_imm=0, formula=0, msg="", refused=False)
    os.makedirs(outdir, exist_ok=True)
    lout = os.path.join(outdir, "loader")
    hcmd = [hotd, "relocate", obj, "--firmware", fw_elf, "--arch", arch,
            "--text", hex(a["text"]), "--data", hex(a["data"]), "--out", lout, "-q"]
    repro = "  reproduce:\n    %s\n    %s\n" % (sh(compile_cmd), sh(hcmd))
    rc, out, err = run(hcmd)
    if rc != 0:
        res["refused"] = True
        expect = EXPECT_REFUSE.get((arch, var))
        if expect and rc == 1 and re.search(expect, err):
            res["ok"] = True
            res["msg"] = "refused as expected"
        else:
            res["msg"] = "hotd relocate exited %d:\n%s%s" % (rc, indent(err + out), repro)
        return res

    layout = []
    with open(os.path.join(lout, "layout.txt")) as f:
        for line in f:
            name, addr, size = line.split()
            layout.append((name, int(addr, 16), int(size)))
    o = Obj(obj)
    if o.dups & {n for n, _, _ in layout}:
        res["msg"] = "sections with duplicate names cannot be placed by an ld script: %s" % (
            sorted(o.dups))
        return res

    # ld at the loader's addresses
    script = os.path.join(outdir, "place.ld")
    with open(script, "w") as f:
        f.write(ld_script(arch, layout, o))
    ldin = os.path.join(outdir, "mod-nomerge.o")
    clear_merge_flags(obj, ldin)
    ld_elf = os.path.join(outdir, "ld.elf")
    # The module before -R: ld creates its GOT in the first input, and the
    # sections of a --just-symbols file are dropped.
    lcmd = a["ld"] + ["--no-relax", "--no-warn-rwx-segments", "-e", "0", "-T", script,
                      ldin, "-R", fw_elf, "-o", ld_elf]
    repro += "    %s\n" % sh(lcmd)
    rc, out, err = run(lcmd)
    if rc != 0:
        res["msg"] = "ld failed:\n%s%s" % (indent(err + out), repro)
        return res

    ldimg = Image()
    ldsecs = {}
    with open(ld_elf, "rb") as f:
        elf = ELFFile(f)
        for sec in elf.iter_sections():
            if sec["sh_flags"] & 2:
                data = b"" if sec["sh_type"] == "SHT_NOBITS" else sec.data()
                ldsecs[sec.name] = (sec["sh_addr"], sec["sh_type"], sec["sh_size"], data)
                if data:
                    ldimg.add(sec.name, sec["sh_addr"], data)

    limg = Image()
    lbytes = {}
    laddr = {}
    for name, addr, size in layout:
        laddr[name] = addr
        p = os.path.join(lout, name + ".bin")
        if os.path.exists(p):
            lbytes[name] = open(p, "rb").read()
            limg.add(name, addr, lbytes[name])

    def sym_value(symidx):
        name, shndx, value, bind = o.syms[symidx]
        if shndx == "SHN_UNDEF":
            if name in fw:
                return fw[name]
            return 0 if bind == "STB_WEAK" else None
        if shndx == "SHN_ABS":
            return value
        return laddr[o.byindex[shndx]] + value

    problems = []
    masks = {}  # section -> {offset: byte mask of bits to ignore}

    def ignore(sec, off, width, fieldmask):
        m = masks.setdefault(sec, {})
        for i in range(width):
            m[off + i] = m.get(off + i, 0) | (fieldmask >> (8 * i)) & 0xff

    def word(img_bytes, off, n):
        return int.from_bytes(img_bytes[off:off + n], "little")

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

    # Byte for byte, everything else.
    tnames = None
    for name, addr, size in layout:
        if name.startswith(".hr."):
            continue
        if name not in ldsecs:
            problems.append("%s: ld did not produce this section" % name)
            continue
        daddr, dtype, dsize, db = ldsecs[name]
        if daddr != addr or dsize != size:
            problems.append("%s: loader %#x size %d, ld %#x size %d" % (name, addr, size, daddr,
                                                                        dsize))
            continue
        if name not in lbytes:
            if dtype != "SHT_NOBITS":
                problems.append("%s: NOBITS for the loader, %s for ld" % (name, dtype))
            continue
        lb = lbytes[name]
        m = masks.get(name, {})
        diffs = [i for i in range(size) if (lb[i] ^ db[i]) & ~m.get(i, 0) & 0xff]
        if not diffs:
            continue
        if tnames is None:
            tnames = reloc_names(obj)
        lines = ["%s: %d byte(s) differ, first at offset %#x (address %#x)" % (
            name, len(diffs), diffs[0], addr + diffs[0])]
        shown = set()
        for d in diffs:
            if len(shown) >= 6:
                break
            start = d & ~3
            if start in shown:
                continue
            shown.add(start)
            cover = [r for r in o.relocs.get(name, []) if start - 8 < r[0] < start + 8]
            rs = ", ".join("%s@%#x%s" % (
                tnames.get(r[1], "type %d" % r[1]), r[0], "" if r[2] == 0 else
                " against '%s'%+d" % (o.syms[r[2]][0] or "[section %s]" % o.byindex.get(
                    o.syms[r[2]][1], "?"), r[3])) for r in cover)
            lines.append("    +%#06x loader %s  ld %s   relocs near: %s" % (
                start, lb[start:start + 8].hex(), db[start:start + 8].hex(), rs or "none"))
        problems.append("\n".join(lines))

    # Every allocated byte of the module must be placed, but for what the
    # loader leaves out by design: unwind tables and notes.
    placed = {n for n, _, _ in layout}
    for name, (idx, typ, flags, size) in o.sections.items():
        if (flags & 2 and size and name not in placed and name != ".eh_frame"
                and typ not in ("SHT_NOTE", "SHT_GROUP", "SHT_X86_64_UNWIND", "SHT_RELA",
                                "SHT_REL")):
            problems.append("%s (%s, %d bytes, allocated) was not placed by the loader" % (
                name, typ, size))

    # Every byte the loader placed must be accounted for: .hr.got only as
    # decoded above; no other loader-built area is expected.
    for name, addr, size in layout:
        if name.startswith(".hr.") and name not in (".hr.got", ".hr.veneers"):
            problems.append("unexpected loader-built area %s" % name)

    names = reloc_names(obj)
    res["types"] = {}
    for name, addr, size in layout:
        for r in o.relocs.get(name, []):
            t = names.get(r[1], "type %d" % r[1])
            res["types"][t] = res["types"].get(t, 0) + 1
    if problems:
        res["msg"] = "\n".join(indent(p) for p in problems) + "\n" + repro + \
            "    cmp: %s/<section>.bin vs sections of %s\n" % (lout, ld_elf)
        return res
    res["ok"] = True
    return res


def fmt(v):
    return "?" if v is None else "%#x" % v


def indent(s):
    return "".join("    " + l + "\n" for l in s.rstrip("\n").split("\n"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hotd", required=True, help="path of the hotd executable")
    ap.add_argument("--arch", required=True, choices=sorted(ARCHES))
    ap.add_argument("--work", help="work directory (default: a temporary one, removed on "
                    "success)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", help="only corpus files whose name contains this")
    ap.add_argument("--max-failures", type=int, default=8,
                    help="how many failures to print in full")
    args = ap.parse_args()
    arch = args.arch
    t0 = time.time()
    work = args.work or tempfile.mkdtemp(prefix="oracle-%s-" % arch)
    if args.work:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    hotd = os.path.abspath(args.hotd)
    if not os.access(hotd, os.X_OK):
        sys.exit("oracle %s: %s is not an executable" % (arch, hotd))
    srcs = sorted(glob.glob(os.path.join(HERE, "corpus", "*.c")))
    if args.only:
        srcs = [s for s in srcs if args.only in os.path.basename(s)]

    jobs = []
    # Hand-written forms, assembled once: asm/<family>-*.S.
    for fam in ARCHES[arch]["asm"]:
        for src in sorted(glob.glob(os.path.join(HERE, "asm", fam + "-*.S"))):
            if not args.only or args.only in os.path.basename(src):
                base = os.path.splitext(os.path.basename(src))[0]
                jobs.append((arch, src, "asm", "-O0", os.path.join(work, base + ".asm.o")))
    for src in srcs:
        base = os.path.splitext(os.path.basename(src))[0]
        for var in ARCHES[arch]["variants"]:
            for opt in OPTS:
                obj = os.path.join(work, "%s.%s%s.o" % (base, var, opt))
                jobs.append((arch, src, var, opt, obj))

    with multiprocessing.Pool(args.jobs) as pool:
        compiled = pool.map(compile_one, jobs)
        bad = [c for c in compiled if c[2] != 0]
        for obj, cmd, rc, out in bad[:3]:
            print("oracle %s: compile failed: %s\n%s" % (arch, sh(cmd), indent(out)))
        if bad:
            print("oracle %s: %d builds, %d did not compile" % (arch, len(jobs), len(bad)))
            return 1
        fw_elf, fw = make_firmware(arch, work, [j[4] for j in jobs])
        cmds = {c[0]: c[1] for c in compiled}
        checks = []
        for (a, src, var, opt, obj) in jobs:
            outdir = os.path.splitext(obj)[0]
            checks.append((a, src, var, opt, obj, fw_elf, fw, hotd, outdir, cmds[obj]))
        results = pool.map(check_build, checks)

    failed = [r for r in results if not r["ok"]]
    refused = sum(1 for r in results if r["refused"] and not r["ok"])
    exact = sum(1 for r in results if r["ok"] and not r["refused"])
    got = sum(r["got_sites"] for r in results if r["ok"])
    ven = sum(r["veneer_sites"] for r in results if r["ok"])
    for r in failed[:args.max_failures]:
        print("FAIL %s %s\n%s" % (arch, r["tag"], r["msg"]))
    if len(failed) > args.max_failures:
        print("... and %d more failures:" % (len(failed) - args.max_failures))
        for r in failed[args.max_failures:]:
            print("FAIL %s %s: %s" % (arch, r["tag"], r["msg"].split("\n")[0].strip()))
    wimm = sum(r["weak_imm"] for r in results if r["ok"])
    form = sum(r["formula"] for r in results if r["ok"])
    extra = " (%d GOT sites decode-checked%s%s%s)" % (
        got, ", %d veneer sites" % ven if ven else "",
        ", %d sites where ld rewrote a missing weak import" % wimm if wimm else "",
        ", %d R_RISCV_SUB6 checked by formula (ld 2.40 gets them wrong)" % form if form else "")
    exp = sum(1 for r in results if r["ok"] and r["refused"])
    print("oracle %s: %d builds, %d byte-exact%s%s, %d failed%s [%.0fs]" % (
        arch, len(results), exact, extra, ", %d refused as expected" % exp if exp else "",
        len(failed), " (%d refused by the loader)" % refused if refused else "",
        time.time() - t0))
    types = {}
    for r in results:
        for t, n in r.get("types", {}).items():
            types[t] = types.get(t, 0) + n
    print("oracle %s: relocations in loaded sections: %s" % (arch, ", ".join(
        "%s %d" % (re.sub(r"^R_(X86_64|RISCV|XTENSA)_", "", t), n)
        for t, n in sorted(types.items(), key=lambda x: -x[1]))))
    if failed:
        print("oracle %s: work files kept in %s" % (arch, work))
        return 1
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
