"""What the gdb helper (hotreload_gdb) reads: the device's debug descriptor
(agent/include/hotreload/debug.h), the firmware's stub records and the GNU
build-ids of module files.

Nothing here assumes an architecture: the descriptor and the stub records are
read from raw memory with the target's pointer size, alignment and byte order,
so the firmware needs no debug information for them. Nothing here changes
gdb's breakpoints or symbols either: Breakpoint.stop() may call it.
"""
import re
import struct

import gdb

NOTIFY = "hotreload_debug_notify"
DESCRIPTOR = "hotreload_debug"
VERSION = 1
MAX_OBJECTS = 8
ACTION_CONSISTENT, ACTION_ADD, ACTION_DELETE = 0, 1, 2


# ---------------------------------------------------------------- ELF files


def elf_build_id(path):
    """The GNU build-id (bytes) of an ELF file, None if it has none."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) < 52 or data[:4] != b"\x7fELF":
        return None
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    try:
        if is64:
            shoff, = struct.unpack_from(end + "Q", data, 0x28)
            shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
            fmt = end + "IIQQQQ"
        else:
            shoff, = struct.unpack_from(end + "I", data, 0x20)
            shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
            fmt = end + "IIIIII"
        for i in range(shnum):
            _, stype, _, _, off, size = struct.unpack_from(fmt, data, shoff + i * shentsize)
            if stype != 7:  # SHT_NOTE
                continue
            p, stop = off, off + size
            while p + 12 <= stop:
                namesz, descsz, ntype = struct.unpack_from(end + "III", data, p)
                name = data[p + 12:p + 12 + namesz]
                desc_at = p + 12 + ((namesz + 3) & ~3)
                if ntype == 3 and name.rstrip(b"\0") == b"GNU":
                    return bytes(data[desc_at:desc_at + descsz])
                p = desc_at + ((descsz + 3) & ~3)
    except struct.error:
        return None
    return None


# ---------------------------------------------------------------- target memory


class Target:
    """Pointer size, alignment of 64-bit fields and byte order of the target."""

    def __init__(self):
        self.ptr = gdb.lookup_type("void").pointer().sizeof
        self.align64 = gdb.lookup_type("unsigned long long").alignof
        endian = gdb.execute("show endian", to_string=True)
        self.end = ">" if "big endian" in endian else "<"

    def read(self, addr, size):
        return bytes(gdb.selected_inferior().read_memory(addr, size))

    def u32(self, data, off):
        return struct.unpack_from(self.end + "I", data, off)[0]

    def i32(self, data, off):
        return struct.unpack_from(self.end + "i", data, off)[0]

    def u64(self, data, off):
        return struct.unpack_from(self.end + "Q", data, off)[0]

    def ptrval(self, data, off):
        return struct.unpack_from(self.end + ("Q" if self.ptr == 8 else "I"), data, off)[0]

    def string(self, addr, limit=256):
        if not addr:
            return ""
        out = b""
        while len(out) < limit:
            chunk = self.read(addr + len(out), 32)
            if b"\0" in chunk:
                return (out + chunk[:chunk.index(b"\0")]).decode("utf-8", "replace")
            out += chunk
        return out.decode("utf-8", "replace")


def align(n, a):
    return (n + a - 1) // a * a


class Layout:
    """Offsets of the descriptor's fields by the C layout rules (debug.h)."""

    def __init__(self, t):
        p = t.ptr
        self.header = 16                                  # version action changes subject
        self.obj_align = max(p, 4)
        self.obj_module = 0
        self.obj_generation = align(p, 4)
        self.obj_build_id_len = self.obj_generation + 4
        self.obj_build_id = self.obj_build_id_len + 4
        self.obj_nsections = self.obj_build_id + 32
        self.obj_sections = align(self.obj_nsections + 4, p)
        self.obj_size = align(self.obj_sections + p, self.obj_align)
        self.objects = align(self.header, self.obj_align)
        sec_align = max(p, t.align64)
        self.sec_addr = align(p, t.align64)
        self.sec_size_field = self.sec_addr + 8
        self.sec_size = align(self.sec_addr + 16, sec_align)


# ---------------------------------------------------------------- the descriptor


# Firmware symbols' addresses. Evaluating one costs gdb a search of every
# symbol table (milliseconds, more with each module copy loaded: that was most
# of a re-arm), and they change only when the firmware's objfiles do, or the
# process: the helper calls forget_addresses() then.
_addresses = {}


def firmware_address(name):
    if name not in _addresses:
        _addresses[name] = int(gdb.parse_and_eval("(unsigned long long)&" + name))
    return _addresses[name]


def forget_addresses():
    _addresses.clear()


def descriptor_address():
    return firmware_address(DESCRIPTOR)


def read_header():
    """(version, action, subject) of the descriptor."""
    t = Target()
    data = t.read(descriptor_address(), 16)
    return t.u32(data, 0), t.u32(data, 4), t.i32(data, 12)


def read_object(index):
    """One object of the descriptor as a dict, None when the slot is free."""
    t = Target()
    lay = Layout(t)
    base = descriptor_address() + lay.objects + index * lay.obj_size
    o = t.read(base, lay.obj_size)
    n = t.u32(o, lay.obj_nsections)
    if n == 0:
        return None
    if n > 4096:
        raise gdb.GdbError("descriptor object %d claims %d sections" % (index, n))
    bl = min(t.u32(o, lay.obj_build_id_len), 32)
    secs_at = t.ptrval(o, lay.obj_sections)
    raw = t.read(secs_at, n * lay.sec_size)
    secs = []
    for i in range(n):
        at = i * lay.sec_size
        secs.append((t.string(t.ptrval(raw, at)), t.u64(raw, at + lay.sec_addr),
                     t.u64(raw, at + lay.sec_size_field)))
    return {
        "slot": index,
        "module": t.string(t.ptrval(o, lay.obj_module)),
        "generation": t.u32(o, lay.obj_generation),
        "build_id": o[lay.obj_build_id:lay.obj_build_id + bl],
        "sections": secs,
    }


def read_all():
    version, _, _ = read_header()
    if version != VERSION:
        raise gdb.GdbError("debug descriptor version %d, this helper reads version %d"
                           % (version, VERSION))
    return [o for o in (read_object(i) for i in range(MAX_OBJECTS)) if o]


def text_addr(obj):
    """The address gdb knows a copy by: its .text (else its first file section)."""
    for name, addr, _ in obj["sections"]:
        if name == ".text":
            return addr
    for name, addr, _ in obj["sections"]:
        if not name.startswith(".hr."):
            return addr
    return None


# ---------------------------------------------------------------- stub records


def read_stub_ranges():
    """[start, end) of each module's stubs in the firmware, from the
    hotreload_stubs_NAME records `hotd stubs` writes: a stub carries its module
    function's name, so `break NAME` would also stop there, once more per call.
    Form 1 holds offsets from each field, form 2 32-bit addresses. Raises
    gdb.error or gdb.MemoryError when the records cannot be read."""
    ranges = []
    out = gdb.execute("info variables ^hotreload_stubs_", to_string=True)
    t = Target()
    for m in re.finditer(r"^(0x[0-9a-f]+)\s+hotreload_stubs_\w+$", out, re.M):
        at = int(m.group(1), 16)
        raw = t.read(at, 12)
        form, a, b = t.u32(raw, 0), t.i32(raw, 4), t.i32(raw, 8)
        if form == 1:
            ranges.append((at + 4 + a, at + 8 + b))
        elif form == 2:
            ranges.append((a & 0xFFFFFFFF, b & 0xFFFFFFFF))
    return ranges
