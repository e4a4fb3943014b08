#!/usr/bin/python3
"""Issue 16, item 12: the rv32 device's per-boot nonce comes from a virtio-rng
device, not from its clocks.

Two boots of the example made alike in everything a clock-based nonce could
draw on (-icount shift=0,sleep=off: time counted in instructions, never in
host time; the RTC starting at the same date and following that clock) must
still answer /status with different nonces of 32 hex digits. (The port's
former nonce, a SHA-256 of RTC, mtime and counters, came out the same in
both.) A third boot without the virtio-rng device
must say so, refuse to start its HTTP server, and refuse a signed upload over
the UART console, the module never loaded.
"""
import argparse
import os
import re
import shutil
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402

import qemu_board  # noqa: E402

# The same start for every clock the port could read: deterministic time.
ALIKE = ["-icount", "shift=0,sleep=off", "-rtc", "base=2026-01-01T00:00:00,clock=vm"]


def status(port):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"GET /status HTTP/1.1\r\nHost: device\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    code, _, doc = hrtest.parse_answer(raw)
    check(code == 200, f"GET /status: {code} {doc}")
    return doc


def boot_nonce(args, work, name):
    flash = os.path.join(work, name + ".bin")
    args.board.new_storage(flash)
    dev = qemu_board.Qemu(args.qemu, os.path.join(args.example, "qemu_firmware"),
                          os.path.join(work, name + ".log"), flash, net=True, extra=ALIKE,
                          board=args.board)
    try:
        dev.wait(r"^device up")
        check(not dev.out.saw(r"no random source"), f"{name}: a random source")
        return status(dev.http_port).get("nonce", "")
    finally:
        dev.stop()


def main():
    ap = argparse.ArgumentParser()
    for opt in ("qemu", "hotd", "example", "work"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--board", default="rv32-virt", choices=sorted(qemu_board.BOARDS))
    args = ap.parse_args()
    args.board = board = qemu_board.BOARDS[args.board]
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)

    first, second = boot_nonce(args, args.work, "boot1"), boot_nonce(args, args.work, "boot2")
    print(f"nonces of two alike boots: {first} {second}")
    check(re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second),
          f"a nonce is 32 hex digits: {first!r} {second!r}")
    check(first != second, f"two boots alike in every clock give different nonces: {first}")

    flash = os.path.join(args.work, "none.bin")
    board.new_storage(flash)
    dev = qemu_board.Qemu(args.qemu, os.path.join(args.example, "qemu_firmware"),
                          os.path.join(args.work, "none.log"), flash, net=True, rng=False,
                          board=board)
    try:
        dev.wait(r"^device up")
        check(dev.out.saw(board.no_random),
              "without its random source the port names what is missing and the QEMU option")
        check(dev.out.saw(r"^no HTTP: HTTP server: not started: the platform has no random "
                          r"source"), "the HTTP server refuses to start")
        mark = len(dev.lines)
        rc, out, err = hrtest.run(args.hotd, "push", "greet", "--build", args.example,
                                  "--serial", dev.spec)
        print(f"hotd push --serial without a random source: rc {rc}: {(out + err).strip()}")
        check(rc != 0 and "no random source" in out + err,
              f"a signed upload over the console is refused, saying why: {out}{err}")
        check(not any(re.search(qemu_board.v1_line(board), line) for line in dev.lines[mark:]),
              "the module was not loaded")
    finally:
        dev.stop()
    return hrtest.summary(f"qemu_rng {board.name}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
