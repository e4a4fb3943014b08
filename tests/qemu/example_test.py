#!/usr/bin/python3
"""A QEMU example (examples/qemu-riscv32 on rv32-virt, examples/qemu-cortex-m
on mps2-an385: --board) in real QEMU, driven by hotd.

Boots the example firmware with an empty flash, pushes its module over the
UART (hotd push --serial tcp:...), sees it run, follows it into module code
with gdb through the command file hotd wrote, pushes an edited module and
sees the new behaviour with the persistent count carried on. Then modules the
device must refuse: an import the firmware lacks, a truncated image, a module
bound to another firmware, a constructor that traps; each is refused with its
reason and the running module goes on. Last, a restart from the same flash
file: the confirmed module is loaded at boot.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402

import qemu_board  # noqa: E402

V2 = r"^Edited while running \| 6 \(op\) 7 = 42 \| count (\d+)$"


class Modules:
    """Test modules compiled and bound the way the build does it."""

    def __init__(self, args, work):
        self.args, self.work = args, work
        self.cflags = shlex.split(args.cflags) + [
            *args.board.module_cflags, "-O2", "-g", "-fno-common",
            "-I", os.path.join(args.src, "examples", "qemu-riscv32", "include"),
            "-I", os.path.join(args.src, "agent", "include")]

    def build(self, name):
        """tests/qemu/mod/NAME.c as a relocatable NAME.o, as hotreload_add_module links it."""
        src = os.path.join(self.args.src, "tests", "qemu", "mod", name + ".c")
        obj = os.path.join(self.work, name + ".c.o")
        out = os.path.join(self.work, name + ".o")
        subprocess.run([self.args.cc, *self.cflags, "-c", src, "-o", obj], check=True)
        subprocess.run([self.args.cc, *self.cflags, "-nostdlib", "-r", "-Wl,--build-id=sha1",
                        obj, "-o", out], check=True)
        return out

    def bind(self, obj, fw, absolute=True, suffix=""):
        out = obj[:-2] + suffix + ".img"
        rc, o, e = hrtest.run(self.args.hotd, "bind", obj, "--firmware", fw, "-o", out,
                              *(["--absolute"] if absolute else []))
        check(rc == 0, f"hotd bind {os.path.basename(obj)}: {o} {e}")
        return out


def in_code(args, addr):
    """Whether `addr` is where the board runs module code."""
    low, high = args.board.code
    return low <= addr < high


def push(args, dev, image=None, name=None):
    rest = [image] if image else ["greet"]
    if name:
        rest += ["--name", name]
    t0 = time.time()
    rc, out, err = hrtest.run(args.hotd, "push", *rest, "--build", args.example,
                              "--serial", dev.spec)
    return rc, out + err, time.time() - t0


def gdb_follow(args, dev):
    """Stop in module code at the address it runs at (on rv32 its
    instruction-bus alias), with the symbols hotd's command file gives gdb."""
    gdb = shutil.which("gdb-multiarch")
    if not gdb:
        print("gdb check skipped: gdb-multiarch not found")
        return
    cmdfile = os.path.join(args.example, "modules", "greet.gdb")
    r = subprocess.run([gdb, "-nx", "-batch", "-ex", f"target remote 127.0.0.1:{dev.gdb_port}",
                        "-x", cmdfile, "-ex", "break greet.c:arithmetic", "-ex", "continue",
                        "-ex", "x/i $pc", "-ex", "next", "-ex", "detach",
                        os.path.join(args.example, "qemu_firmware")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    at = re.search(r"=> (0x[0-9a-f]+) <arithmetic", r.stdout)
    check(re.search(r"Breakpoint 1, arithmetic \(a=6, b=7\) at .*greet\.c", r.stdout) and
          at and in_code(args, int(at.group(1), 16)),
          f"gdb stops in module code where it runs:\n{r.stdout}")


def gdb_reload(args, dev, image):
    """Push `image` while gdb-multiarch, with gdb/hotreload.gdb, runs the device:
    the breakpoint on arithmetic hits in the new copy (tests/qemu/gdb_reload.py)."""
    gdb = shutil.which("gdb-multiarch")
    if not gdb:
        print("gdb reload check skipped: gdb-multiarch not found")
        rc, out, _ = push(args, dev, image, "greet")
        return rc, out
    # gdb finds symbol files by build-id among NAME.debug.o: the bound image
    # keeps its debug information.
    debug_dir = os.path.join(args.work, "gdb-symbols")
    os.makedirs(debug_dir, exist_ok=True)
    shutil.copy(image, os.path.join(debug_dir, "greet_v2.debug.o"))
    result = os.path.join(args.work, "gdb_reload.json")
    pushcmd = [args.hotd, "push", image, "--name", "greet", "--build", args.example,
               "--serial", dev.spec]
    r = subprocess.run([gdb, "-nx", "-batch", "-ex",
                        "python import sys; sys.argv = %r" % (
                            ["gdb_reload", args.src, str(dev.gdb_port), result,
                             os.path.join(args.example, "modules"), debug_dir, "--", *pushcmd]),
                        "-x", os.path.join(args.src, "tests", "qemu", "gdb_reload.py"),
                        os.path.join(args.example, "qemu_firmware")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=int(os.environ.get("GDB_RELOAD_TIMEOUT", "200")))
    with open(result) as f:
        seen = json.load(f)
    check(seen["error"] is None, f"gdb session: {seen['error']}\n{r.stdout[-3000:]}")
    stops = seen["stops"]
    check(stops and stops[0]["function"] == "arithmetic" and stops[0]["generation"] == 1,
          f"gdb-multiarch stops in arithmetic of generation 1: {stops[:1]}")
    last = stops[-1] if stops else {}
    check(last.get("function") == "arithmetic" and last.get("generation") == 2
          and last.get("caller") == "main" and in_code(args, last.get("pc", 0)),
          f"after the reload the breakpoint hits in generation 2's code, called from main: "
          f"{last}")
    check(all(s["function"] == "arithmetic" for s in stops),
          f"no stop but the user's breakpoint ({len(stops)} stops)")
    check("generation 2" in seen.get("status_after", "") and "greet_v2" in
          seen.get("status_after", ""), f"hotreload status after: {seen.get('status_after')}")
    print(f"gdb-multiarch: {len(stops)} stops, the reload seen at stop {len(stops)}")
    return seen["push"]["rc"], seen["push"]["out"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--example", required=True, help="the example's build directory")
    ap.add_argument("--other-fw", required=True, help="another firmware for the board")
    ap.add_argument("--board", default="rv32-virt", choices=sorted(qemu_board.BOARDS))
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cflags", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    args.board = board = qemu_board.BOARDS[args.board]
    v1_line = qemu_board.v1_line(board)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    fw = os.path.join(args.example, "qemu_firmware")
    flash = os.path.join(args.work, "flash.bin")
    board.new_storage(flash)

    mods = Modules(args, args.work)
    v2 = mods.bind(mods.build("greet_v2"), fw)
    bad_import = mods.bind(mods.build("bad_import"), fw, absolute=False)
    bad_ctor = mods.bind(mods.build("bad_ctor"), fw)
    other_fw = mods.bind(mods.build("greet_v2"), args.other_fw, suffix="-other")
    truncated = os.path.join(args.work, "truncated.img")
    with open(v2, "rb") as f, open(truncated, "wb") as t:
        t.write(f.read()[: os.path.getsize(v2) * 3 // 4])

    dev = qemu_board.Qemu(args.qemu, fw, os.path.join(args.work, "uart1.log"), flash, gdb=True,
                          board=board)
    try:
        dev.wait(r"^device up")
        print(f"boot to 'device up': {time.time() - dev.started:.2f} s (QEMU start included)")
        check(dev.out.saw(r"^no module loaded yet"), "an empty flash: no module at boot")

        rc, out, took = push(args, dev)
        check(rc == 0 and "module 'greet' generation 1" in out, f"push v1: {out}")
        v1 = os.path.join(args.example, "modules", "greet.img")
        # The port inflates with zlib built from Debian's source: hotd compressed it.
        packed = re.search(r"compressed to (\d+) bytes", out)
        check(packed and int(packed.group(1)) < os.path.getsize(v1),
              f"v1 went compressed: {out}")
        print(f"push + reload of greet.img ({os.path.getsize(v1)} bytes): {took:.2f} s")
        mark = len(dev.lines)
        v1_count = int(dev.wait(v1_line, after=mark).group(1))
        gdb_follow(args, dev)

        rc, out = gdb_reload(args, dev, v2)
        check(rc == 0 and "generation 2" in out, f"push v2: {out}")
        count = int(dev.wait(V2, after=len(dev.lines)).group(1))
        check(count > v1_count, f"the persistent count went on: {v1_count} then {count}")
        # Confirmed now (not when confirm_after_ms runs out): an upload then
        # goes to the other slot and the edited module stays stored.
        r = subprocess.run([args.hotd, "console", "--serial", dev.spec, "--build", args.example],
                           input="confirm\nsymbols greet\n", stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        sym = re.search(r"^  arithmetic (0x[0-9a-f]+) .*func$", r.stdout, re.M)
        check("ok confirmed" in r.stdout and sym and in_code(args, int(sym.group(1), 16) & ~1),
              f"hotd console confirm, symbols:\n{r.stdout}")

        refusals = [
            (bad_import, r"unresolved import 'fw_missing_function'"),
            (truncated, r"module would not load: .*section headers"),
            (other_fw, r"wrong firmware: .*module built for firmware [0-9a-f]+, this device "
                       r"runs [0-9a-f]+"),
            (bad_ctor, r"constructor failed: .*the previous module keeps running: .*"
                       + board.bad_ctor),
        ]
        for image, why in refusals:
            rc, out, _ = push(args, dev, image, "greet")
            check(rc == 1 and re.search(why, out), f"{os.path.basename(image)} refused: {out}")
            dev.wait(V2, after=len(dev.lines))  # the edited module still answers
        check(not dev.out.saw(r"^\S+: fatal "), "no fatal trap or fault on the device")

    finally:
        dev.stop()

    dev = qemu_board.Qemu(args.qemu, fw, os.path.join(args.work, "uart2.log"), flash,
                          board=board)
    try:
        dev.wait(r"^device up")
        check(not dev.out.saw(r"^no module loaded yet"), "the stored module loads at boot")
        dev.wait(V2)
    finally:
        dev.stop()
    return hrtest.summary("qemu_example")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
