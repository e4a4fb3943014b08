#!/usr/bin/python3
"""The stub torture module executed on a board in QEMU (tests/qemu/fw/fw_torture.c):
rv32-virt or mps2-an385 (--board).

QEMU's generic loader writes the module image into the firmware's
hr_test_inbox before the CPU starts; the firmware calls every function
through its stubs, checks the I/D split and 30 reloads, and ends the QEMU run
through the test device (Arm: semihosting): the exit status is the verdict, the UART says why.
Two controls show that the verdict is real: no image gives the "no module
image" exit, and a damaged image fails the load checks. Two more make the
firmware crash outside any guard (a store through NULL, a stack overflow):
the port names the trap on the UART and ends the run with status 3.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402
from elftools.elf.elffile import ELFFile  # noqa: E402

import qemu_board  # noqa: E402

INBOX_MAGIC = 0x584F4E49
INBOX_FAULT = 0x544C4146  # the firmware stores through NULL, unguarded
INBOX_DEEP = 0x50454544  # the firmware recurses past its stack


def inbox_address(fw):
    with open(fw, "rb") as f:
        sym = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name("hr_test_inbox")
        return sym[0]["st_value"] if sym else None


def stub_start(fw, name):
    """The first halfword of function `name` in the firmware (Thumb: bit 0 cleared)."""
    with open(fw, "rb") as f:
        elf = ELFFile(f)
        sym = elf.get_section_by_name(".symtab").get_symbol_by_name(name)
        if not sym:
            return None
        at = sym[0]["st_value"] & ~1
        for sec in elf.iter_sections():
            inside = sec["sh_addr"] <= at < sec["sh_addr"] + sec["sh_size"]
            if inside and sec["sh_type"] != "SHT_NOBITS":
                off = at - sec["sh_addr"]
                return int.from_bytes(sec.data()[off:off + 2], "little")
    return None


def run(board, qemu, fw, image=None, magic=INBOX_MAGIC):
    """(exit status, UART text) of one run, the image (if any) in the inbox."""
    extra = []
    at = inbox_address(fw)
    if image:
        size = os.path.getsize(image)
        extra = ["-device", f"loader,file={image},addr={at + 8:#x},force-raw=on",
                 "-device", f"loader,addr={at:#x},data={magic:#x},data-len=4",
                 "-device", f"loader,addr={at + 4:#x},data={size},data-len=4"]
    elif magic != INBOX_MAGIC:
        extra = ["-device", f"loader,addr={at:#x},data={magic:#x},data-len=4",
                 "-device", f"loader,addr={at + 4:#x},data=0,data-len=4"]
    # -icount: hr_board_icount() counts instructions exactly.
    shift = board.icount_shift
    with tempfile.TemporaryDirectory() as work:
        cmd = [qemu, *board.machine(work), "-display", "none", "-monitor", "none",
               "-serial", "stdio", "-icount", f"shift={shift}", "-kernel", fw,
               *board.random(work), *extra]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return r.returncode, r.stdout.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--fw", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--board", default="rv32-virt", choices=sorted(qemu_board.BOARDS))
    ap.add_argument("--stubs", choices=["v6m"], help="the stubs are ARMv6-M's: check it")
    args = ap.parse_args()
    board = qemu_board.BOARDS[args.board]
    if args.stubs == "v6m":
        first = stub_start(args.fw, "t_sum10")
        check(first == 0xB407, f"t_sum10's stub starts with push {{r0, r1, r2}} (ARMv6-M "
                               f"form): {first:#06x}" if first is not None else "no t_sum10")
    check(inbox_address(args.fw) is not None, "fw_torture has hr_test_inbox")

    rc, out = run(board, args.qemu, args.fw, args.image)
    m = re.search(rf"^stubs_{board.name}: (\d+) passed, (\d+) failed", out, re.M)
    check(rc == 0 and m and int(m.group(1)) >= 90 and m.group(2) == "0",
          f"torture run: exit {rc}, output:\n{out}")
    for line in out.splitlines():
        if line.startswith(("load of", "heap:", "stubs_")):
            print(line)

    # Controls: the same firmware must fail without the image, and with a
    # damaged one.
    rc, out = run(board, args.qemu, args.fw)
    check(rc == 2 and "no module image in hr_test_inbox" in out,
          f"no image: exit {rc}, output:\n{out}")
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "torture-damaged.img")
        data = bytearray(open(args.image, "rb").read())
        data[0x20:0x24] = (len(data) + 64).to_bytes(4, "little")  # e_shoff past the end
        open(bad, "wb").write(bytes(data))
        rc, out = run(board, args.qemu, args.fw, bad)
        check(rc == 1 and re.search(r"^FAIL line \d+: load: .*section headers", out, re.M),
              f"damaged image: exit {rc}, output:\n{out}")

    # A fatal trap outside any guard: a last word on the UART, exit status 3.
    rc, out = run(board, args.qemu, args.fw, magic=INBOX_FAULT)
    check(rc == 3 and re.search(board.crash, out), f"a store where nothing is: exit {rc}, "
                                                   f"output:\n{out}")
    rc, out = run(board, args.qemu, args.fw, magic=INBOX_DEEP)
    check(rc == 3 and re.search(board.overflow, out),
          f"stack overflow: exit {rc}, output:\n{out}")
    return hrtest.summary(f"qemu_stubs {board.name}")


if __name__ == "__main__":
    sys.exit(main())
