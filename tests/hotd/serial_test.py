#!/usr/bin/python3
"""hotd push --serial against a real simulated device's console (docs/serial.md).

The firmware (tests/device/fw.c) speaks the console protocol on its
stdin/stdout. This test puts a TCP bridge in front of it, the way QEMU exposes
a UART: hotd connects to tcp:127.0.0.1:PORT, the bridge copies the socket to
the firmware's stdin and the firmware's stdout to the socket, and keeps the
stdout lines (the firmware prints "value=N" there, beside the replies). The
bridge can damage one byte of one frame, or drop a whole frame, to drive the
nak and the timeout resend paths end to end. A second device holds only a
public key: the push is signed HR2 with the build's hotreload-sign.pem, and
another build's key is refused. The main device offers frames of 256 bytes
(--console-frame 256), so that its small test modules span many of them; the
second offers the posix console's own 1 KiB frames, and one of those is damaged.
"""
import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check, make_build  # noqa: E402

FRAME = 1 + 4 + 256 + 4  # a full frame on the wire (the main device offers 256)
BIG_FRAME = 1 + 4 + 1024 + 4  # the posix console's own offer


class SerialDevice(hrtest.ConsoleBridge):
    """device_fw with its console on a TCP socket."""

    def __init__(self, fw, storage, keyfile, args=()):
        super().__init__()
        os.makedirs(storage, exist_ok=True)
        self.proc = hrtest.start_fw(fw, storage, keyfile, args, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.damage = None  # ("flip" | "drop", offset into the frames, length)
        self.last_upload = ""  # the last upload command the device was sent
        self.port = self.serial_port
        self.out = hrtest.Lines(self.proc.stdout, self.forward,
                                alive=lambda: self.proc.poll() is None)
        self.lines = self.out.lines
        self.start_bridge()
        self.wait(r"listening on \d+")

    def connected(self):
        self.line, self.frames_at = b"", None

    def to_fw(self, data):
        """After an "upload" line the bytes are frames, where the armed damage
        (if any) applies once."""
        out = bytearray()
        for b in data:
            if self.frames_at is None:
                self.line += bytes([b])
                if b == 0x0A:
                    self.frames_at = 0 if self.line.startswith(b"upload ") else None
                    if self.line.startswith(b"upload "):
                        self.last_upload = self.line.decode(errors="replace")
                    self.line = b""
                out.append(b)
                continue
            kind, start, length = self.damage or ("", -1, 0)
            if start <= self.frames_at < start + length:
                if kind == "flip":
                    out.append(b ^ 0x5A)
                # "drop": nothing reaches the device
                if self.frames_at == start + length - 1:
                    self.damage = None
            else:
                out.append(b)
            self.frames_at += 1
        return bytes(out)

    def wait(self, regex, timeout=10, after=0):
        return self.out.expect(regex, timeout, after, tail=3)[1]

    def value(self):
        n = len(self.lines)
        return int(self.wait(r"^value=(-?\d+)", after=n).group(1))

    def saw(self, regex, after=0):
        return self.out.saw(regex, after)


def hr2(args, tmp, hotd, mod):
    """A device holding only a public key: hotd push --serial signs the
    framed upload and its reload HR2 with the build's hotreload-sign.pem;
    another build's key is refused by the device, hotd saying why."""
    build = make_build(tmp, "hr2", os.urandom(32), mod("dev_v1.o"))
    os.remove(os.path.join(build, "hotreload.key"))
    pem, point = os.path.join(build, "hotreload-sign.pem"), os.path.join(tmp, "hr2.pub")
    rc, out, err = hotd("key", "new", pem)
    rc2, _, err2 = hotd("key", "public", pem, "--raw", "-o", point)
    check(rc == 0 and rc2 == 0, f"hotd key new/public: {err}{err2}")
    dev = SerialDevice(args.fw, os.path.join(tmp, "store-hr2"), None, ["--pubkey", point])
    try:
        # Frames of 1 KiB (the module is 3 of them), the second damaged on the way.
        dev.damage = ("flip", BIG_FRAME + 5 + 700, 1)
        rc, out, err = hotd("push", "--serial", dev.spec, "--no-compress", "--build", build)
        check(rc == 0 and "generation 1" in out, f"HR2 push --serial: {out!r} {err!r}")
        check(dev.saw(r"^ack 0 window 4 frame 1024$"), "the posix console offers 1 KiB frames")
        check(dev.saw(r"^nak 2 crc mismatch"), "the damaged 1 KiB frame was nak'ed")
        dev.wait(r"^value=1 ")
        other = make_build(tmp, "hr2-other", os.urandom(32), mod("dev_v2.o"))
        os.remove(os.path.join(other, "hotreload.key"))
        hotd("key", "new", os.path.join(other, "hotreload-sign.pem"))
        rc, out, err = hotd("push", "--serial", dev.spec, "--build", other)
        check(rc == 1 and "wrong signature" in out and "built with another key" in out,
              f"HR2 push --serial with another key: {out!r} {err!r}")
        check(dev.value() == 1, "the HR2 device still runs v1 after another key")
    finally:
        dev.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--fw", required=True)
    ap.add_argument("--modules", required=True)
    args = ap.parse_args()
    mod = lambda name: os.path.join(args.modules, name)
    tmp = tempfile.mkdtemp(prefix="hotd_serial_")
    dev = None

    def hotd(*rest, env=None):
        return hrtest.run(args.hotd, *rest, env=env)

    try:
        key, rawkey = hrtest.raw_key(tmp)
        build = make_build(tmp, "build", key, mod("dev_v1.o"))
        dev = SerialDevice(args.fw, os.path.join(tmp, "store"), rawkey,
                           ["--console-frame", "256"])
        check(os.path.getsize(mod("dev_v1.o")) > 4 * 256, "modules span several frames")

        # v1 over the serial line: the device runs it.
        rc, out, err = hotd("push", "--serial", dev.spec, "--build", build)
        check(rc == 0 and out.startswith(f"{dev.spec}: ok, module 'main' generation 1"),
              f"v1 push: rc={rc} {out!r} {err!r}")
        dev.wait(r"^value=1 ")
        check(dev.value() == 1, "device runs v1")
        # The device offers deflate (its nonce answer): the module went compressed.
        m = re.search(r"^upload main (\d+) \S+ deflate (\d+) HR1 ", dev.last_upload)
        size = os.path.getsize(os.path.join(build, "modules", "main.img"))
        check(m is not None and int(m.group(1)) == size and int(m.group(2)) < size,
              f"v1 went compressed: {dev.last_upload!r}")

        # v2, with one byte of frame 2's payload damaged on the way: the
        # device naks it, hotd resends, the module arrives intact.
        shutil.copy(mod("dev_v2.o"), os.path.join(build, "modules", "main.img"))
        mark = len(dev.lines)
        dev.damage = ("flip", FRAME + 5 + 40, 1)
        rc, out, err = hotd("push", "--serial", dev.spec, "--no-compress", "--build", build)
        check(rc == 0 and "generation 2" in out, f"v2 push with a damaged frame: {out!r} {err!r}")
        check(dev.saw(r"^nak 2 crc mismatch", mark), "the device nak'ed the damaged frame")
        dev.wait(r"^value=2 ")
        check(dev.value() == 2, "device runs v2")

        # A whole frame lost inside the window: the next one tells the device,
        # which asks for it (go-back-N).
        mark = len(dev.lines)
        dev.damage = ("drop", 2 * FRAME, FRAME)
        rc, out, err = hotd("push", "--serial", dev.spec, "--no-compress", "--build", build,
                            "--no-reload")
        check(rc == 0 and "stored module 'main'" in out, f"lost frame resent: {out!r} {err!r}")
        check(dev.saw(r"^nak 3 expected frame 3, got 4$", mark),
              "the frame after the lost one made the device ask for it")
        check(dev.damage is None, "the bridge dropped the frame")

        # The last frame lost: nothing follows it, so hotd resends it after
        # its frame timeout.
        size = os.path.getsize(os.path.join(build, "modules", "main.img"))
        last = (size - 1) // 256
        mark = len(dev.lines)
        dev.damage = ("drop", last * FRAME, 1 + 4 + (size - last * 256) + 4)
        t0 = time.time()
        rc, out, err = hotd("push", "--serial", dev.spec, "--no-compress", "--build", build,
                            "--no-reload")
        check(rc == 0 and "stored module 'main'" in out, f"last frame resent: {out!r} {err!r}")
        check(time.time() - t0 >= 0.9, "the lost last frame waited for the frame timeout")
        check(dev.damage is None, "the bridge dropped the last frame")

        # Frame 2's length field damaged: "bad frame length", resent.
        mark = len(dev.lines)
        dev.damage = ("flip", FRAME + 4, 1)
        rc, out, err = hotd("push", "--serial", dev.spec, "--no-compress", "--build", build)
        check(rc == 0 and "generation 3" in out, f"damaged header: {out!r} {err!r}")
        check(dev.saw(r"^nak 2 bad frame length", mark), "the device nak'ed the bad length")

        # Another client left an upload half done: the device ignores commands
        # until it ends, so hotd aborts it and goes on.
        with socket.create_connection(("127.0.0.1", dev.port)) as s:
            s.sendall(b"nonce\n")
            reply = b""
            s.settimeout(10)
            end = time.time() + 10
            while not re.search(rb"^ok (\S+) (\d+)(?: deflate)?$", reply, re.M):
                if time.time() > end:
                    raise AssertionError(f"no nonce answer: {reply[-300:]!r}")
                reply += s.recv(4096)
            nonce, last = re.findall(rb"^ok (\S+) (\d+)(?: deflate)?$", reply, re.M)[-1]
            body = open(mod("dev_v1.o"), "rb").read()
            sha = hashlib.sha256(body).hexdigest()
            counter = str(int(last) + 1)
            mac = hrtest.hr1_mac(key, "SERIAL", "upload main", nonce.decode(), counter, sha)
            mark = len(dev.lines)
            s.sendall(f"upload main {len(body)} {sha} HR1 counter={counter}, mac={mac}\n".encode())
            dev.wait(r"^ack 0 window \d+$", after=mark)
        rc, out, err = hotd("push", "--serial", dev.spec, "--build", build, "--no-reload")
        check(rc == 0 and "stored module 'main'" in out, f"after a half upload: {out!r} {err!r}")
        check(dev.saw(r"^error upload aborted", mark), "hotd aborted the stale upload")

        # HOTRELOAD_SERIAL as the default target.
        rc, out, err = hotd("push", "--build", build, env={"HOTRELOAD_SERIAL": dev.spec})
        check(rc == 0 and out.startswith(f"{dev.spec}: ok, module 'main' generation 4"),
              f"HOTRELOAD_SERIAL: {out!r} {err!r}")

        # A wrong key: the device's own words, advice, exit 1, v2 kept.
        other = make_build(tmp, "other", os.urandom(32), mod("dev_v1.o"))
        rc, out, err = hotd("push", "--serial", dev.spec, "--build", other)
        check(rc == 1 and f"{dev.spec}: failed: authentication failed" in out
              and "built with another key" in out, f"wrong key: {out!r} {err!r}")
        check(dev.value() == 2, "device still runs v2 after a wrong key")

        # A module for another firmware: refused after the upload, advice given.
        rc, out, err = hotd("push", "--serial", dev.spec, "--build", build, "--name", "main",
                            mod("dev_other_fw.o"))
        check(rc == 1 and "firmware" in out and "rebuild and reflash" in out,
              f"other firmware: {out!r} {err!r}")
        check(dev.value() == 2, "device still runs v2 after another firmware's module")

        hr2(args, tmp, hotd, mod)

        # --json carries the serial result too.
        rc, out, err = hotd("push", "--serial", dev.spec, "--build", build, "--json")
        check(rc == 0 and '"ok":true' in out and dev.spec in out, f"--json: {out!r}")

        # Usage: --serial and --url together; nothing listening.
        rc, out, err = hotd("push", "--serial", dev.spec, "--url", "http://127.0.0.1:1",
                            "--build", build)
        check(rc == 2 and "exclude" in err, f"--serial with --url: {rc} {err!r}")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        dead = f"tcp:127.0.0.1:{s.getsockname()[1]}"
        s.close()
        rc, out, err = hotd("push", "--serial", dead, "--build", build)
        check(rc == 1 and f"{dead}: failed: " in out and "refused" in out.lower(),
              f"nothing listening: {out!r}")
        check("--serial" in hotd("push", "--help")[1], "push --help names --serial")
    except AssertionError as e:
        check(False, str(e))
    finally:
        if dev:
            dev.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return hrtest.summary("hotd_serial")


if __name__ == "__main__":
    raise SystemExit(main())
