#!/usr/bin/python3
"""Hostile module files against hotd relocate (the device's loader on the
host), as issue 16 ran them:
  - a section named ../../escaped_by_hotd: --out writes inside its folder only;
  - a 400-byte module declaring a 4 GiB .bss: refused at once by the size cap
    (under a 1 GiB address-space limit, so an allocation attempt would show
    as another error), before any allocation;
  - a RISC-V module whose .rela.text was reversed (unsorted) with thousands
    of PCREL pairs: refused with a message naming the cause, at once.
usage: hostile_files_test.py --hotd HOTD --work DIR"""
import argparse
import os
import resource
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402


def run(cmd, limit_as=None):
    def pre():
        if limit_as:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       preexec_fn=pre, timeout=120)
    return p.returncode, p.stdout + p.stderr, time.time() - t0


def escaped_section(hotd, work):
    src = os.path.join(work, "esc.c")
    open(src, "w").write("int f(int x) { return x + 1; }\n")
    raw, obj = os.path.join(work, "esc_raw.o"), os.path.join(work, "esc.o")
    subprocess.run(["gcc", "-c", "-fPIC", "-O2", src, "-o", raw], check=True)
    subprocess.run(["objcopy", "--rename-section", ".text=../../escaped_by_hotd", raw, obj],
                   check=True)
    out = os.path.join(work, "a", "b", "out")
    os.makedirs(os.path.dirname(out))
    rc, text, _ = run([hotd, "relocate", obj, "--out", out, "-q"])
    check(rc == 0, f"relocate of the renamed module: {rc} {text}")
    outside = [os.path.join(work, "a", "escaped_by_hotd.bin"),
               os.path.join(work, "escaped_by_hotd.bin")]
    check(not any(os.path.exists(p) for p in outside), "a file was written outside --out")
    inside = [f for f in os.listdir(out) if "escaped_by_hotd" in f]
    check(len(inside) == 1 and "/" not in inside[0], f"the section's file in --out: {inside}")


def huge_bss(hotd, work):
    src = os.path.join(work, "bss.c")
    open(src, "w").write("char huge[0xF0000000u];\n"
                         "int touch(int i) { return huge[i]++; }\n")
    obj = os.path.join(work, "bss.o")
    subprocess.run(["gcc", "-c", "-fPIC", "-O2", src, "-o", obj], check=True)
    check(os.path.getsize(obj) < 4096, "the module file is small")
    # AddressSanitizer reserves terabytes of shadow at start: no address-space
    # limit for it (the cap must still refuse at once), and no 4 GiB allocation.
    asan = b"__asan_init" in open(hotd, "rb").read()
    limit = None if asan else 1 << 30
    rc, text, secs = run([hotd, "relocate", obj, "-q"], limit_as=limit)
    check(rc == 1 and "over the 16777216 this device gives modules" in text,
          f"a 4 GiB .bss refused by the size cap: {rc} {text}")
    print(f"4 GiB .bss refused in {secs:.2f} s")
    if asan:
        return
    rc, text, _ = run([hotd, "relocate", obj, "-q", "--ram", str(8 << 30)], limit_as=1 << 30)
    check(rc == 1 and "out of memory" in text and "gives modules" not in text,
          f"with --ram raised, the allocation itself fails (the cap was what held): {text}")


def reverse_rela(path, name=b".rela.text"):
    """Reverse the entries of section `name` in an ELF32 little-endian file."""
    data = bytearray(open(path, "rb").read())
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    def sh(i):
        return struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize)
    strtab = sh(shstrndx)
    for i in range(shnum):
        h = sh(i)
        at = strtab[4] + h[0]
        if bytes(data[at:at + len(name) + 1]) == name + b"\0":
            off, size, ent = h[4], h[5], h[9]
            rows = [bytes(data[off + k:off + k + ent]) for k in range(0, size, ent)]
            data[off:off + size] = b"".join(reversed(rows))
            open(path, "wb").write(data)
            return len(rows)
    raise AssertionError(f"no {name} in {path}")


def unsorted_rela(hotd, work):
    gcc = shutil.which("riscv64-unknown-elf-gcc")
    if not gcc:
        print("SKIP unsorted relocations: no riscv64-unknown-elf-gcc")
        return
    src = os.path.join(work, "pairs.c")
    body = "".join(f"int g{i};\n" for i in range(2000))
    body += "int sum(void) { return " + " + ".join(f"g{i}" for i in range(2000)) + "; }\n"
    open(src, "w").write(body)
    obj = os.path.join(work, "pairs.o")
    subprocess.run([gcc, "-march=rv32imac", "-mabi=ilp32", "-mcmodel=medany", "-mno-relax",
                    "-O1", "-c", src, "-o", obj], check=True)
    rc, text, _ = run([hotd, "relocate", obj, "-q", "--arch", "rv32"])
    check(rc == 0, f"the sorted module loads: {text}")
    n = reverse_rela(obj)
    rc, text, secs = run([hotd, "relocate", obj, "-q", "--arch", "rv32"])
    check(rc == 1 and "not sorted by offset" in text,
          f"{n} relocations in reverse order refused, naming the cause: {rc} {text}")
    print(f"{n} unsorted relocations refused in {secs:.2f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    escaped_section(a.hotd, a.work)
    huge_bss(a.hotd, a.work)
    unsorted_rela(a.hotd, a.work)
    return hrtest.summary("hostile_files_test")


if __name__ == "__main__":
    sys.exit(main())
