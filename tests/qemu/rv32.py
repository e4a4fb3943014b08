"""QEMU runs of the rv32-virt firmware for the tests in this folder.

Qemu starts qemu-system-riscv32 on QEMU's virt machine the way
scripts/qemu-rv32 does: the UART on a TCP socket (hotd connects there) with
everything the firmware writes also logged to a file, which a thread reads
into self.out (an hrtest.Lines), so the test sees the device's output while
hotd holds the socket. flash_image() makes the pflash file that keeps the
stored modules across runs (agent/port/rv32-virt/pflash.c).
"""
import os
import socket
import subprocess
import threading
import time

import hrtest

FLASH_SIZE = 32 << 20
# lui t0, 0x80000; jr t0: QEMU starts at the flash's first word when given
# one; this jumps to the firmware QEMU loaded into RAM.
BOOT_JUMP = bytes.fromhex("b7020080" "67800200")
MACHINE = ["-M", "virt", "-cpu", "rv32,a=off,f=off,d=off", "-m", "64M", "-display", "none",
           "-monitor", "none", "-bios", "none",
           # virtio devices with virtio 1.x registers, the only ones the port drives
           "-global", "virtio-mmio.force-legacy=false"]
# The port's random source (the per-boot nonce): without it nothing signed is accepted.
RNG = ["-device", "virtio-rng-device"]


def net_args(port):
    """virtio-net on user networking, HTTP forwarded."""
    return ["-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:8080",
            "-device", "virtio-net-device,netdev=net0"]


def flash_image(path):
    """A fresh 32 MiB flash file: the boot jump, the rest never written."""
    with open(path, "wb") as f:
        f.write(BOOT_JUMP)
        f.truncate(FLASH_SIZE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Qemu:
    """The firmware `fw` in QEMU: UART on self.spec (tcp:127.0.0.1:PORT),
    logged to `log`; gdb stub on self.gdb_port when gdb=True; with net=True a
    virtio-net device on QEMU user networking, the device's port 8080
    forwarded from 127.0.0.1:self.http_port; with rng=False no virtio-rng device
    (the port then has no random source)."""

    def __init__(self, qemu, fw, log, flash=None, gdb=False, extra=(), net=False, rng=True):
        self.log = log
        open(log, "wb").close()
        for _ in range(5):  # a port taken between free_port() and QEMU: another one
            self.port = free_port()
            self.gdb_port = free_port() if gdb else None
            self.http_port = free_port() if net else None
            cmd = [qemu, *MACHINE, "-kernel", fw,
                   "-chardev", f"socket,id=uart,host=127.0.0.1,port={self.port},server=on,"
                               f"wait=off,nodelay=on,logfile={log}",
                   "-serial", "chardev:uart", *extra]
            if flash:
                cmd += ["-drive", f"if=pflash,unit=0,format=raw,file={flash}"]
            if gdb:
                cmd += ["-gdb", f"tcp:127.0.0.1:{self.gdb_port}"]
            if net:
                cmd += net_args(self.http_port)
            if rng:
                cmd += RNG
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.started = time.time()
            if self._listening():
                break
            self.proc.wait()
        else:
            raise RuntimeError(f"QEMU did not start: {self.proc.stdout.read().decode()}")
        self.spec = f"tcp:127.0.0.1:{self.port}"
        self.out = hrtest.Lines(alive=lambda: self.proc.poll() is None)
        self.lines = self.out.lines
        threading.Thread(target=self._tail, daemon=True).start()

    def _listening(self):
        end = time.time() + 20
        while time.time() < end and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def _tail(self):
        with open(self.log, "rb") as f:
            part = b""
            while True:
                data = f.readline()
                if not data:
                    if self.proc.poll() is not None:
                        return
                    time.sleep(0.02)
                    continue
                part += data
                if part.endswith(b"\n"):
                    self.out.add([part.decode(errors="replace").rstrip("\r\n")])
                    part = b""

    def wait(self, regex, timeout=20, after=0):
        """The match of the first line from `after` on matching regex."""
        return self.out.expect(regex, timeout, after, tail=8)[1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
