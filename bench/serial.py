#!/usr/bin/env python3
"""Serial push throughput: `hotd push --serial` over a pseudo-terminal line.

    serial.py --hotd HOTD --fw SERIAL_FW --image IMG [--quick]

The device (bench/serial_fw.c) has its console on the slave side of one
pseudo-terminal; hotd opens the slave of another; this script copies bytes
between the two masters. A pseudo-terminal ignores the baud rate, so the copy
enforces it: each direction delivers at most baud/10 bytes a second (8N1: ten
bit times a byte), as a UART would. The measurement is the whole push, as a
user waits for it (nonce, upload frames with their acks, the device's checks,
the reload), in module bytes per second; the baseline is the line rate
baud/10. A run with no rate limit shows what the pseudo-terminal and the
protocol do alone.
Prints JSON lines for bench/run.py.
"""
import argparse
import json
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import zlib
import time
import tty


class Line:
    """Two pseudo-terminals joined by a copy limited to `rate` bytes/s each way
    (0: unlimited). self.device_fd is the device's end, self.host_path hotd's."""

    CHUNK = 64  # bytes handed on at a time: the delay follows the bytes closely
    BACK_TO_BACK = 0.0003  # s: a read this soon after a write found its bytes waiting

    def __init__(self, rate):
        self.rate = rate
        self.dev_master, self.device_fd = pty.openpty()
        self.host_master, host_slave = pty.openpty()
        tty.setraw(self.device_fd)
        tty.setraw(host_slave)
        self.host_slave = host_slave  # kept open: the master never sees a hang-up
        self.host_path = os.ttyname(host_slave)
        self.stopped = False
        for src, dst in ((self.dev_master, self.host_master), (self.host_master, self.dev_master)):
            threading.Thread(target=self._copy, args=(src, dst), daemon=True).start()

    def _copy(self, src, dst):
        busy_until = written = time.monotonic()
        while not self.stopped:
            r, _, _ = select.select([src], [], [], 0.2)
            if not r:
                continue
            try:
                data = os.read(src, self.CHUNK)
            except OSError:
                return
            if self.rate:
                # The last byte arrives once every byte before it went over the wire.
                # Bytes that were already waiting when the previous chunk went out
                # keep the line busy: they follow it on the schedule, so that this
                # relay's own lateness (a sleep that overran, a read, a write) costs
                # the line nothing, as a UART's FIFO would have gone on sending.
                now = time.monotonic()
                if now - written > self.BACK_TO_BACK:
                    busy_until = max(busy_until, now)
                busy_until += len(data) / self.rate
                wait = busy_until - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            try:
                os.write(dst, data)
            except OSError:
                return
            written = time.monotonic()

    def close(self):
        self.stopped = True
        time.sleep(0.25)
        for fd in (self.dev_master, self.host_master, self.device_fd, self.host_slave):
            os.close(fd)


def push_times(a, image, baud, limited, pushes, work, compress=False):
    """Seconds per successful push (a fresh device for each rate); the module
    compressed when `compress` (the device offers it), else as it is."""
    store = tempfile.mkdtemp(dir=work, prefix="store-")
    line = Line(baud / 10 if limited else 0)
    env = dict(os.environ, HOTRELOAD_STORAGE_DIR=store, HOTRELOAD_STORAGE_SIZE=str(1 << 20))
    log = open(os.path.join(work, "device-%d-%d.log" % (baud, limited)), "w")
    dev = subprocess.Popen([a.fw, os.path.join(work, "raw.key")], stdin=line.device_fd,
                           stdout=line.device_fd, stderr=log, env=env)
    times = []
    try:
        time.sleep(0.3)
        for _ in range(pushes):
            t0 = time.monotonic()
            r = subprocess.run([a.hotd, "push", image, "--name", "main", "--serial",
                                line.host_path, "--baud", str(baud), "--build", work]
                               + ([] if compress else ["--no-compress"]),
                               capture_output=True, text=True, timeout=300)
            t = time.monotonic() - t0
            if r.returncode != 0 or "generation" not in r.stdout:
                sys.exit("serial: push failed: %s %s" % (r.stdout, r.stderr))
            times.append(t)
    finally:
        dev.terminate()
        dev.wait(timeout=20)
        log.close()
        line.close()
    return times


def stats(values):
    med = statistics.median(values)
    if len(values) < 2:
        return med, 0.0
    q = statistics.quantiles(values, n=4)
    return med, 100.0 * (q[2] - q[0]) / med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--fw", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-serial-")
    key = os.urandom(32)
    with open(os.path.join(work, "raw.key"), "wb") as f:
        f.write(key)
    with open(os.path.join(work, "hotreload.key"), "w") as f:
        f.write(key.hex() + "\n")
    size = os.path.getsize(a.image)
    frames = (size + 1023) // 1024  # the posix console offers frames of 1 KiB
    pushes = 1 if a.quick else 3
    try:
        for baud in (115200, 921600):
            times = push_times(a, a.image, baud, True, pushes, work)
            rates = [size / t for t in times]
            med, spread = stats(rates)
            line_rate = baud / 10
            print(json.dumps({
                "id": "serial_%d" % baud, "value": round(med), "spread": round(spread, 1),
                "baseline": line_rate, "baseline_spread": 0, "unit": "B/s",
                "notes": "module bytes/s of a whole hotd push --serial (%d B, %d frames, "
                         "reload included) over a pty pair held to %d baud 8N1 by the relay "
                         "(a pty enforces no baud); baseline: the line's baud/10; push %.2f s"
                         % (size, frames, baud, statistics.median(times))}), flush=True)
        # Compressed (raw deflate, 4 KiB window: docs/serial.md), at 921600.
        times = push_times(a, a.image, 921600, True, pushes, work, compress=True)
        med, spread = stats([size / t for t in times])
        packed = len(zlib.compress(open(a.image, "rb").read(), 9))
        print(json.dumps({
            "id": "serial_921600_deflate", "value": round(med), "spread": round(spread, 1),
            "baseline": 92160, "baseline_spread": 0, "unit": "B/s",
            "notes": "the same push at 921600 with the module compressed (about %d B on the "
                     "wire: a generated module, %.1fx smaller; the examples' modules compress "
                     "about 3x); push %.2f s" % (packed, size / packed,
                                                  statistics.median(times))}), flush=True)
        times = push_times(a, a.image, 115200, False, pushes, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
