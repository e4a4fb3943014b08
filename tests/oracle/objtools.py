"""Running the toolchain and reading what it produces: the module's sections,
symbols and relocations (Obj), relocation type names (from readelf, which
knows every machine), the copy of the object ld is given (clear_merge_flags)
and an address-space view of a linked image (Image).
"""
import re
import struct
import subprocess

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection


def run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


def sh(cmd):
    return " ".join(c if re.match(r"^[\w@%+=:,./-]+$", c) else "'" + c + "'" for c in cmd)


def indent(s):
    return "".join("    " + l + "\n" for l in s.rstrip("\n").split("\n"))


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
