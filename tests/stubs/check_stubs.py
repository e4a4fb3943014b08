#!/usr/bin/python3
"""Stub check for the architectures this machine cannot execute.

Builds the torture module for ARCH with the cross compiler, runs
`hotd stubs` on it, assembles the stubs and compiles the symbol table with
the same toolchain, links them at fixed addresses, then decodes every stub
from the linked ELF and runs it symbolically: it must compute exactly
&hotreload_table_NAME, load the table from there, load entry i (offset
i * pointer size) and jump to it, writing no register but the scratch one
and never the stack pointer. A second, synthetic module with thousands of
functions covers the long-offset forms. Also: the symbol table's count and
table pointer, the import list, and hotd's refusals.

Run with /usr/bin/python3 (Debian's python3-pyelftools).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from decode import run_stub

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# cc flags, ld, pointer size, text and data addresses, assemble variants
ARCHES = {
    "rv32": dict(cc=["riscv64-unknown-elf-gcc", "-misa-spec=2.2", "-march=rv32imc",
                     "-mabi=ilp32"], ld=["riscv64-unknown-elf-ld", "-m", "elf32lriscv"],
                 ptr=4, text=0x10000000, data=0x20000000, variants={"": []}),
    "rv64": dict(cc=["riscv64-unknown-elf-gcc", "-march=rv64imac", "-mabi=lp64"],
                 ld=["riscv64-unknown-elf-ld", "-m", "elf64lriscv"],
                 ptr=8, text=0x10000000, data=0x20000000, variants={"": []}),
    "xtensa": dict(cc=["xtensa-lx106-elf-gcc", "-mlongcalls"], ld=["xtensa-lx106-elf-ld"],
                   ptr=4, text=0x40100000, data=0x3ffe8000,
                   variants={"": [], "textlit": ["-mtext-section-literals"]}),
    # Cortex-M3 (Thumb-2); a firmware built with -mpure-code links them the same.
    "arm": dict(cc=["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m3"], ld=["arm-none-eabi-ld"],
                ptr=4, text=0x20000000, data=0x20100000,
                variants={"": [], "m4": ["-mcpu=cortex-m4"]}),
    # Cortex-M0+ (ARMv6-M): hotd reads the module's build attributes and writes
    # the other form, which this assembler would refuse if it held Thumb-2.
    "armv6m": dict(cc=["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m0plus"],
                   ld=["arm-none-eabi-ld"], ptr=4, text=0x20000000, data=0x20100000,
                   variants={"": []}, hotd="arm"),
}

LDSCRIPT = """SECTIONS {
  . = %#x;
  .text : { *(.literal .text .literal.* .text.*) }
  . = %#x;
  .rodata : { *(.rodata .rodata.* .srodata .srodata.*) }
  .data : { *(.data .data.* .sdata .sdata.*) }
  .bss : { *(.bss .bss.* .sbss .sbss.* COMMON) }
}
"""

failures = []
passes = 0


def check(cond, what):
    global passes
    if cond:
        passes += 1
    else:
        failures.append(what)
        print("FAIL:", what)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("command failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r


def build_module(a, src, out, work, extra=()):
    raw = out + ".raw.o"
    run(a["cc"] + ["-c", "-O2", "-ffreestanding", "-fno-common", "-I", HERE] + list(extra)
        + [src, "-o", raw])
    run(a["ld"] + ["-r", raw, "-o", out])
    return out


def hotd_stubs(hotd, module, name, arch, outdir, expect_ok=True):
    os.makedirs(outdir, exist_ok=True)
    r = subprocess.run([hotd, "stubs", module, "--name", name, "--arch", arch,
                        "--out-dir", outdir], capture_output=True, text=True)
    if expect_ok and r.returncode != 0:
        sys.exit("hotd stubs failed: %s" % r.stderr)
    return r


compiled = {}


def link_stubs(a, gen, name, work, variant_flags, tag):
    """Assemble the stubs, compile the symbol table, link at fixed addresses."""
    objs = []
    for src in ("%s_stubs.S" % name, "%s_symtab.c" % name):
        obj = os.path.join(work, "%s-%s.o" % (src, tag))
        if src.endswith(".c"):
            # The table is plain C, the same for every flavour and variant:
            # compile each distinct one once (thousands of handlers are slow).
            with open(os.path.join(gen, src)) as f:
                key = f.read()
            if key in compiled:
                objs.append(compiled[key])
                continue
            compiled[key] = obj
            variant_flags = []
        # -ffreestanding: no C library here, only the compiler's stdint.h.
        run(a["cc"] + ["-c", "-O2", "-ffreestanding", "-std=c11", "-Wall", "-Wextra", "-Werror",
                       "-Wstrict-prototypes", "-Wmissing-prototypes",
                       "-I", os.path.join(ROOT, "agent/include")]
            + variant_flags + [os.path.join(gen, src), "-o", obj])
        objs.append(obj)
    script = os.path.join(work, "link.ld")
    with open(script, "w") as f:
        f.write(LDSCRIPT % (a["text"], a["data"]))
    elf = os.path.join(work, "%s-%s.elf" % (name, tag))
    # The import list goes into the link as ld would get it in a firmware.
    run(a["ld"] + ["-T", script, "-e", "0", "--defsym=hotreload_unloaded_call=%#x" % a["text"]]
        + objs + [os.path.join(gen, "%s_imports.ld" % name), "-o", elf])
    return elf


def symbols(elf):
    out = {}
    for sec in elf.iter_sections():
        if isinstance(sec, SymbolTableSection):
            for s in sec.iter_symbols():
                if s.name:
                    out[s.name] = s
    return out


def loaded(elf):
    """(address, bytes) of every SHF_ALLOC section with contents."""
    return [(s["sh_addr"], s.data()) for s in elf.iter_sections()
            if s["sh_flags"] & 2 and s["sh_type"] != "SHT_NOBITS"]


def read_bytes(mem, addr, size):
    for a, data in mem:
        if a <= addr and addr + size <= a + len(data):
            return data[addr - a: addr - a + size]
    return None


def check_elf(arch, path, name, exports, scratch, tag):
    a = ARCHES["xtensa" if arch.startswith("xtensa") else arch]
    ptr = a["ptr"]
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        syms = symbols(elf)
        mem = loaded(elf)
        table = syms.get("hotreload_table_" + name)
        check(table is not None and table["st_info"]["bind"] == "STB_GLOBAL",
              "%s: hotreload_table_%s is a global symbol" % (tag, name))
        st = syms.get("hotreload_symtab_" + name)
        check(st is not None, "%s: hotreload_symtab_%s exists" % (tag, name))
        if table is None or st is None:
            return
        raw = read_bytes(mem, st["st_value"], 4 * ptr)
        count = int.from_bytes(raw[0:4], "little")
        tptr = int.from_bytes(raw[3 * ptr:4 * ptr], "little")
        check(count == len(exports), "%s: symtab count %d, want %d" % (tag, count, len(exports)))
        check(tptr == table["st_value"], "%s: symtab table_ptr is &hotreload_table_%s" % (tag, name))
        bad = 0
        for i, fn in enumerate(exports):
            s = syms.get(fn)
            if (s is None or s["st_info"]["type"] != "STT_FUNC" or
                    s["st_info"]["bind"] != "STB_GLOBAL" or s["st_size"] == 0):
                check(False, "%s: stub %s: a global function symbol with a size" % (tag, fn))
                bad += 1
                continue
            thumb = arch.startswith("arm")
            at = s["st_value"] & ~1 if thumb else s["st_value"]  # Thumb: bit 0 set
            code = read_bytes(mem, at, s["st_size"])
            err = run_stub(arch, code, at, lambda ad, n: read_bytes(mem, ad, n),
                           table["st_value"], i * ptr, ptr, scratch(i * ptr))
            if err:
                bad += 1
                if bad <= 10:
                    check(False, "%s: stub %s (slot %d): %s" % (tag, fn, i, err))
        check(bad == 0, "%s: %d stubs decoded, %d wrong" % (tag, len(exports), bad))


def read_lines(path):
    with open(path) as f:
        return [l for l in f.read().split("\n") if l]


def windowed_text(gen, name, exports):
    """What the windowed stubs say, instruction by instruction."""
    with open(os.path.join(gen, "%s_stubs.S" % name)) as f:
        text = f.read()
    check("CALL8" in text and "a9" in text, "windowed: the header explains the use of a9")
    check(not re.search(r"\b(entry|retw|call[48x]|a8)\b", text.split("*/", 1)[1]),
          "windowed: no entry/retw/call and no a8 in the stubs")
    for i, fn in enumerate(exports[:40]):
        m = re.search(r"^%s:[^\n]*\n(.*?)\t\.size" % re.escape(fn), text, re.S | re.M)
        body = [l.split() for l in (m.group(1).strip().split("\n") if m else [])]
        want = [["l32r", "a9,", ".Lhr_table"], ["l32i", "a9,", "a9,", "0"],
                ["l32i", "a9,", "a9,", str(4 * i)], ["jx", "a9"]]
        check(body == want, "windowed text of %s: %s" % (fn, body))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--arch", required=True, choices=sorted(ARCHES))
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    a = ARCHES[args.arch]
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    work = args.work

    # The torture module and a synthetic one with many functions: slots past
    # RISC-V's 12-bit offset, past what Xtensa's l32i and one addmi reach, and
    # past ARM's 4095-byte ldr.w.
    big_n = 8500 if args.arch == "xtensa" else 1100
    big_src = os.path.join(work, "big.c")
    with open(big_src, "w") as f:
        for i in range(big_n):
            f.write("int f%05d(int x);\nint f%05d(int x) { return x + %d; }\n" % (i, i, i))
    mods = [("torture", build_module(a, os.path.join(HERE, "torture.c"),
                                     os.path.join(work, "torture.o"), work)),
            ("big", build_module(a, big_src, os.path.join(work, "big.o"), work, ["-O0"]))]

    flavours = [a.get("hotd", args.arch)] + (["xtensa-windowed"] if args.arch == "xtensa" else [])
    for flavour in flavours:
        for name, obj in mods:
            if flavour == "xtensa-windowed":
                # This toolchain only builds call0 modules (ABI=1 in .xtensa.info):
                # hotd must refuse them, and take one whose ABI it cannot tell.
                r = hotd_stubs(args.hotd, obj, name, flavour, os.path.join(work, "refused"),
                               expect_ok=False)
                check(r.returncode == 1 and "call0" in r.stderr,
                      "windowed stubs for a call0 module refused: %s" % r.stderr.strip())
                stripped = obj + ".noabi.o"
                run(["xtensa-lx106-elf-objcopy", "--remove-section", ".xtensa.info", obj,
                     stripped])
                obj = stripped
            gen = os.path.join(work, "gen-%s-%s" % (flavour, name))
            hotd_stubs(args.hotd, obj, name, flavour, gen)
            exports = read_lines(os.path.join(gen, "%s_exports.txt" % name))
            if flavour == "xtensa-windowed":
                windowed_text(gen, name, exports)
            ptr = a["ptr"]
            if flavour == "xtensa":
                scratch = lambda off: {8}
            elif flavour == "xtensa-windowed":
                scratch = lambda off: {9}
            elif args.arch == "armv6m":
                scratch = lambda off: set()  # r0-r2 borrowed and given back
            elif flavour == "arm":
                scratch = lambda off: {12}  # ip
            else:  # t1, and t2 past the 12-bit offset
                scratch = lambda off: {6} if off <= 2047 else {6, 7}
            for vtag, vflags in a["variants"].items():
                tag = "-".join(x for x in (flavour, name, vtag) if x)
                # Windowed stubs use no windowed instruction: same encodings, so
                # this call0 assembler can assemble and we can decode them.
                elf = link_stubs(a, gen, name, work, vflags, tag)
                check_elf(args.arch if args.arch == "armv6m" else flavour, elf, name, exports,
                          scratch, tag)
            if name == "torture":
                want = {"t_sum10", "t_mixed", "t_sum_fmt", "t_big_make", "t_small_make",
                        "t_u64", "t_callback", "t_get_op", "t_where"}
                check(set(exports) == want and exports == sorted(exports),
                      "%s: exports sorted, all there: %s" % (flavour, exports))
                with open(os.path.join(gen, "torture_imports.ld")) as f:
                    imp = f.read()
                check(re.search(r"EXTERN\(\s*(\S+\s+)*fw_callback\s", imp) and
                      "fw_check_return" in imp, "%s: imports list the firmware calls" % flavour)
    # Machine and class mismatches name what differs.
    other = "rv64" if args.arch == "rv32" else "rv32" if args.arch == "rv64" else "x86_64"
    r = hotd_stubs(args.hotd, mods[0][1], "torture", other, os.path.join(work, "bad"),
                   expect_ok=False)
    check(r.returncode == 1 and ("ELF" in r.stderr or "e_machine" in r.stderr),
          "--arch %s refused for a %s module: %s" % (other, args.arch, r.stderr.strip()))
    print("stubs_%s: %d passed, %d failed" % (args.arch, passes, len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
