"""Helpers for the tests that run inside gdb's Python (tests/gdb/follow_test.py,
tests/esp-idf/gdb_session.py): source lines, the function at an address, and
a module copy's code as the device's loader makes it on the host (hotd
relocate) compared with the process's memory.

Only `function_at` needs gdb; the rest is plain Python."""
import os
import subprocess
import tempfile

# hotd relocate's option for each kind of section: where the device put it.
REGION = [(".text", "--text"), (".rodata", "--rodata"), (".sdata", "--sdata"),
          (".sbss", "--sdata"), (".data", "--data"), (".hr.got", "--data"), (".bss", "--bss")]


def line_of(path, text):
    """The number of the first line of `path` that holds `text`."""
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if text in line:
                return n
    raise AssertionError("no %r in %s" % (text, path))


def function_at(pc):
    """The function symbol whose code holds pc (None without debug info)."""
    import gdb
    b = gdb.block_for_pc(pc)
    while b is not None and b.function is None:
        b = b.superblock
    return b.function if b else None


def is_code(name):
    """A section placed in the code region: .text*, the loader's veneers."""
    return name.startswith(".text") or name == ".hr.veneers"


def relocated(hotd, image, obj, workdir, extra=()):
    """`image` loaded at the addresses of `obj` (a copy in the debug
    descriptor) by the device's loader on the host: (layout, {code section:
    bytes}, error). layout maps each section to where hotd relocate placed
    it; error is hotd's message, or None."""
    addrs = {n: a for n, a, _ in obj["sections"]}
    args = [hotd, "relocate", image, "-q", *extra]
    given = set()
    for prefix, opt in REGION:
        names = [n for n in addrs if n == prefix or n.startswith(prefix + ".")]
        if names and opt not in given:
            given.add(opt)
            args += [opt, "0x%x" % min(addrs[n] for n in names)]
    out = tempfile.mkdtemp(dir=workdir, prefix="reloc-")
    r = subprocess.run(args + ["--out", out], capture_output=True, text=True)
    if r.returncode != 0:
        return {}, {}, r.stderr.strip()
    with open(os.path.join(out, "layout.txt")) as f:
        layout = {n: int(a, 16) for n, a, _ in (line.split() for line in f)}
    code = {}
    for name in addrs:
        if is_code(name):
            with open(os.path.join(out, name + ".bin"), "rb") as f:
                code[name] = f.read()
    return layout, code, None


def memory_diff(pid, obj, code):
    """None when the code sections of `obj` in the process's memory (read
    past gdb: no breakpoint byte hidden) equal `code`, else where they first
    differ."""
    if not code:
        return "nothing to compare"
    with open("/proc/%d/mem" % pid, "rb") as mem:
        for name, addr, size in obj["sections"]:
            if name not in code:
                continue
            mem.seek(addr)
            raw = mem.read(size)
            if raw != code[name]:
                at = next((i for i in range(size) if raw[i:i + 1] != code[name][i:i + 1]),
                          size)
                return ("%s differs at 0x%x (+0x%x): memory %s, relocated %s"
                        % (name, addr + at, at, raw[at:at + 4].hex(), code[name][at:at + 4].hex()))
    return None
