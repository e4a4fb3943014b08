#!/usr/bin/env python3
"""Make the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

    tests/fuzz/seeds/make_corpus.py --build BUILD [--out DIR]

BUILD is a normal build directory (scripts/test makes build/ci) with the
simulated device of tests/device: device_fw and its modules. The corpus is
kept in the repository; run this again when a protocol changes. Needs gcc,
riscv64-unknown-elf-gcc, xtensa-lx106-elf-gcc, objcopy and curl.

  loader   module.c and the project's assembler tests, compiled for x86-64,
           rv32, rv64 and Xtensa with the options modules are built with
  http     requests as curl sends them (captured on a socket), with the
           settings byte of fuzz_http.c in front; uploads carry
           device_module.c bound to the fuzzing device (device.h)
  console  command lines, hotd's upload command and frames (CRC-32 as zlib's),
           damaged frames and time-outs, compressed uploads (valid, cut,
           corrupt, a bomb), in the records of fuzz_console.c
The files of corpus/<target>/ are replaced.
  hotd     what a real simulated device answers: GET /status before and
           after reloads, upload and reload answers, refusals
"""
import argparse
import hashlib
import hmac
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

RISCV = "riscv64-unknown-elf-gcc"
XTENSA = "xtensa-lx106-elf-gcc"
ARM = "arm-none-eabi-gcc"
RV32 = ["-misa-spec=2.2", "-march=rv32imc", "-mabi=ilp32"]
RV64 = ["-march=rv64imac", "-mabi=lp64"]
COMMON = ["-c", "-ffreestanding", "-fno-common", "-g0"]

# name, compiler, flags, source (relative to the top)
MODULES = [
    ("x86_64-O2-pic", "gcc", ["-O2", "-fPIC"], "tests/fuzz/seeds/module.c"),
    ("x86_64-O0-nopic", "gcc", ["-O0", "-fno-pic"], "tests/fuzz/seeds/module.c"),
    ("x86_64-Os-large", "gcc", ["-Os", "-fno-pic", "-mcmodel=large"], "tests/fuzz/seeds/module.c"),
    ("rv32-O2-medany", RISCV, ["-O2", "-mcmodel=medany"] + RV32, "tests/fuzz/seeds/module.c"),
    ("rv32-Os-pic-norelax", RISCV, ["-Os", "-fPIC", "-mno-relax"] + RV32,
     "tests/fuzz/seeds/module.c"),
    ("rv32-forms", RISCV, RV32, "tests/oracle/asm/riscv-forms.S"),
    ("rv64-O2-medlow", RISCV, ["-O2", "-mcmodel=medlow"] + RV64, "tests/fuzz/seeds/module.c"),
    ("rv64-O2-pic", RISCV, ["-O2", "-fPIC"] + RV64, "tests/fuzz/seeds/module.c"),
    ("rv64-forms", RISCV, RV64, "tests/oracle/asm/riscv-forms.S"),
    ("xtensa-O2-longcalls", XTENSA, ["-O2", "-mlongcalls"], "tests/fuzz/seeds/module.c"),
    ("xtensa-Os-textlit", XTENSA, ["-Os", "-mlongcalls", "-mtext-section-literals"],
     "tests/fuzz/seeds/module.c"),
    ("xtensa-O2-call0", XTENSA, ["-O2"], "tests/fuzz/seeds/module.c"),
    ("xtensa-branches", XTENSA, [], "tests/loader/xtensa_asm/branches.S"),
    ("xtensa-data", XTENSA, [], "tests/loader/xtensa_asm/data.S"),
    ("xtensa-limits", XTENSA, [], "tests/loader/xtensa_asm/limits.S"),
    ("arm-m3-O2", ARM, ["-O2", "-mthumb", "-mcpu=cortex-m3"], "tests/fuzz/seeds/module.c"),
    ("arm-m0-Os-pic", ARM, ["-Os", "-mthumb", "-mcpu=cortex-m0plus", "-fPIC"],
     "tests/fuzz/seeds/module.c"),
    ("arm-forms", ARM, [], "tests/oracle/asm/arm-forms.S"),
]


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def loader_corpus(out, work):
    for name, cc, flags, src in MODULES:
        obj = os.path.join(work, name + ".o")
        subprocess.run([cc, *COMMON, *flags, os.path.join(TOP, src), "-o", obj], check=True)
        with open(obj, "rb") as f:
            write(out, "loader", name + ".o", f.read())
    # One that names its firmware, as the build integration binds modules.
    fwid = os.path.join(work, "fwid")
    with open(fwid, "wb") as f:
        f.write(bytes(range(20)))
    bound = os.path.join(work, "bound.o")
    subprocess.run(["objcopy", "--add-section", ".hotreload.fwid=" + fwid,
                    os.path.join(work, "x86_64-O2-pic.o"), bound], check=True)
    with open(bound, "rb") as f:
        write(out, "loader", "x86_64-O2-pic-bound.o", f.read())


class Capture:
    """A socket that keeps each request curl sends and answers it briefly."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head = data.split(b"\r\n\r\n")[0].decode()
            m = re.search(r"(?i)\r\ncontent-length: *(\d+)", head)
            if re.search(r"(?i)\r\nexpect: *100-continue", head):
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            want = len(head) + 4 + (int(m.group(1)) if m else 0)
            while len(data) < want:
                data += conn.recv(65536)
            self.got.append(data)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            conn.close()

    def request(self, *args):
        n = len(self.got)
        subprocess.run(["curl", "-s", "-o", "/dev/null", *args], check=True)
        while len(self.got) == n:
            time.sleep(0.01)
        return self.got[-1]


def hr1(key, method, target, nonce, counter, body):
    msg = "\n".join(["HR1", method, target, nonce, str(counter), hashlib.sha256(body).hexdigest()])
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


FWID_MARK = b"HOTRELOAD-FUZZ-FWID!"  # device.h: the target puts its build-id there


def device_module(work):
    """device_module.c, bound to the fuzzing device (see device.h)."""
    raw, obj, mark = (os.path.join(work, n) for n in ("dm.raw.o", "dm.o", "fwid-mark"))
    subprocess.run(["gcc", *COMMON, "-O2", "-fPIC", os.path.join(HERE, "device_module.c"),
                    "-o", raw], check=True)
    with open(mark, "wb") as f:
        f.write(FWID_MARK)
    subprocess.run(["objcopy", "--add-section", ".hotreload.fwid=" + mark, raw, obj], check=True)
    return obj


def http_corpus(out, module, other):
    cap = Capture()
    url = f"http://127.0.0.1:{cap.port}"
    octet = ["-H", "Content-Type: application/octet-stream"]
    status = cap.request(url + "/status")
    upload = cap.request(url + "/upload?module=main", "--data-binary", "@" + module, *octet)
    both = cap.request(url + "/upload-and-reload", "--data-binary", "@" + module,
                       "-H", "Expect: 100-continue", *octet)
    reload = cap.request("-X", "POST", url + "/reload")
    unload = cap.request("-X", "POST", url + "/unload?module=aux")
    too_big = cap.request(url + "/upload?module=aux", "--data-binary", "@" + module, *octet)
    foreign = cap.request(url + "/upload", "--data-binary", "@" + other, *octet)
    with open(module, "rb") as f:
        body = f.read()
    mac = hr1(b"k" * 32, "POST", "/upload", "0" * 32, 1700000000000, body)
    signed = cap.request(url + "/upload", "--data-binary", "@" + module, *octet,
                         "-H", f"Authorization: HR1 counter=1700000000000, mac={mac}",
                         "-H", "X-Hotreload-Sha256: " + hashlib.sha256(body).hexdigest())
    # The settings byte (fuzz_http.c): 1 no auth, 2 signed by the target,
    # 4/8/12 reads of 1/7/100 bytes, 16 read time-out at the end, 32 broken.
    seeds = {
        "get-status": (0, status),
        "get-status-1byte-reads": (4, status),
        "upload-noauth": (1, upload),
        "upload-signed": (2, upload),
        "upload-signed-7byte-reads": (10, upload),
        "upload-and-reload-expect-signed": (2, both),
        "upload-and-reload-expect-broken": (33, both),
        "upload-hotd-headers-stale-nonce": (0, signed),
        "upload-cut-short-timeout": (17, upload[:len(upload) - 500]),
        "upload-aux-too-large": (1, too_big),
        "upload-other-firmware": (1, foreign),
        "reload-signed": (2, reload),
        "reload-unsigned": (0, reload),
        "unload-aux-noauth": (1, unload),
    }
    for name, (flags, data) in seeds.items():
        write(out, "http", name, bytes([flags]) + data)


def rec_raw(data):
    out = b""
    for i in range(0, len(data), 256):
        chunk = data[i:i + 256]
        out += bytes([0, len(chunk) - 1]) + chunk
    return out


def rec_tick(ms):
    return bytes([2, min(ms // 16, 255)])


def rec_frame(seq, payload):
    return bytes([1]) + struct.pack("<HB", seq, len(payload) - 1) + payload


def rec_upload(module, body, frame):
    assert 0 < len(body) <= 2048 and 0 < frame <= 256
    return bytes([3, module]) + struct.pack("<HB", len(body) - 1, frame - 1) + body


def rec_stream(announced, stream, frame):
    """Record 6: `stream` sent as a compressed upload announcing `announced` bytes."""
    assert 0 < len(stream) <= 256 and 0 < frame <= 256
    return bytes([6]) + struct.pack("<HBB", announced - 1, frame - 1, len(stream) - 1) + stream


def squeeze(body):
    """Raw deflate with the device's 4 KiB window, as hotd sends it."""
    z = zlib.compressobj(9, zlib.DEFLATED, -12)
    return z.compress(body) + z.flush()


def frame(seq, payload, crc=None):
    """A frame as hotd sends it: 0x7e, seq, length, payload, CRC-32."""
    head = struct.pack("<HH", seq, len(payload))
    if crc is None:
        crc = zlib.crc32(head + payload)
    return b"\x7e" + head + payload + struct.pack("<I", crc)


def deflate_seeds(body, small):
    """Compressed uploads: through the records, and as hotd sends them."""
    packed = squeeze(body)
    sha = hashlib.sha256(body).hexdigest()
    bomb = squeeze(b"\0" * 60000)
    return {
        "deflate-signed-by-target": b"\x00" + bytes([5, 0]) + struct.pack("<HB", len(body) - 1, 63)
            + body + rec_raw(b"status\n"),
        "deflate-1k-frames": b"\x03" + bytes([5, 0]) + struct.pack("<HB", len(body) - 1, 255)
            + body,
        "deflate-hotd-noauth": b"\x03" + rec_raw(
            f"nonce\nupload main {len(body)} {sha} deflate {len(packed)}\n".encode()
            + b"".join(frame(i // 1024 + 1, packed[i:i + 1024])
                       for i in range(0, len(packed), 1024))),
        "deflate-cut": b"\x01" + rec_stream(len(body), packed[:200], 64),
        "deflate-bomb": b"\x01" + rec_stream(100, bomb[:256], 128),
        "deflate-garbage": b"\x01" + rec_stream(len(small), small[:256], 256),
        "deflate-trailing": b"\x01" + rec_stream(5, squeeze(b"hello") + b"tail", 256),
    }


def console_corpus(out, module):
    with open(module, "rb") as f:
        body = f.read()
    assert len(body) <= 2048, "the upload record takes up to 2048 bytes"
    sha = hashlib.sha256(body).hexdigest()
    frames = b"".join(frame(i // 256 + 1, body[i:i + 256]) for i in range(0, len(body), 256))
    cmd = f"upload main {len(body)} {sha}\n".encode()
    small = body[:600]
    ssha = hashlib.sha256(small).hexdigest()
    seeds = {
        "commands": b"\x01" + rec_raw(b"\nhelp\nstatus\nnonce\nsymbols\nsymbols aux\nreload\n"
                                       b"unload aux\nconfirm\nabort\nfrobnicate now\r\n\n"
                                       + b"x" * 300 + b"\nstatus\n"),
        "upload-hotd-noauth": b"\x01" + rec_raw(b"\nnonce\n" + cmd + frames),
        "upload-signed-by-target": b"\x00" + rec_upload(0, body, 256) + rec_raw(b"status\n"),
        "upload-aux-small-frames": b"\x00" + rec_upload(1, small, 37),
        "upload-hotd-stale-nonce": b"\x00" + rec_raw(
            f"upload main {len(small)} {ssha} HR1 counter=1700000000000, mac={'0' * 64}\n"
            .encode()),
        "upload-damaged-frames": b"\x01" + rec_raw(
            f"upload main {len(small)} {ssha}\n".encode()
            + frame(1, small[:256], crc=0) + frame(1, small[:256]) + frame(1, small[:256])
            + frame(3, small[256:512]) + b"\x7e\x02\x00\x00\x02" + b"noise\n"
            + frame(2, small[256:512]) + frame(3, small[512:] + b"overlong")
            + b"abort\n"),
        "upload-frame-records-bad-sha": b"\x01" + rec_raw(
            f"upload main 300 {'ab' * 32}\n".encode()) + rec_frame(1, body[:256])
            + rec_frame(2, body[256:300]) + rec_raw(b"status\n"),
        "upload-timeouts": b"\x01" + rec_raw(f"upload main {len(small)} {ssha}\n".encode()
                                             + frame(1, small[:256])[:100])
            + rec_tick(600) + rec_tick(4000) + rec_tick(4000) + rec_tick(4000)
            + rec_raw(b"nonce\n"),
        "upload-line-closed": b"\x01" + rec_raw(cmd + frames[:300]) + bytes([4])
            + rec_raw(b"status\n"),
    }
    seeds.update(deflate_seeds(body, small))
    for name, data in seeds.items():
        write(out, "console", name, data)


def hotd_corpus(out, build, work):
    fw = os.path.join(build, "tests", "device", "device_fw")
    mods = os.path.join(build, "tests", "device", "modules")
    storage = os.path.join(work, "storage")
    os.makedirs(storage)
    keyfile = os.path.join(work, "key")
    with open(keyfile, "wb") as f:
        f.write(b"k" * 32)

    def start(*args):
        env = dict(os.environ, HOTRELOAD_STORAGE_DIR=storage)
        p = subprocess.Popen([fw, "--port", "0", *args], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, stdin=subprocess.PIPE, text=True)
        for line in p.stdout:
            m = re.match(r"listening on (\d+)", line)
            if m:
                # Keep reading what it prints, or it blocks on a full pipe.
                threading.Thread(target=p.stdout.read, daemon=True).start()
                return p, f"http://127.0.0.1:{m.group(1)}"
        raise SystemExit("device_fw did not start")

    def ask(base, path, body=None):
        req = urllib.request.Request(base + path, data=body, method="POST" if body is not None
                                     else "GET")
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            return e.read()

    def mod(name):
        with open(os.path.join(mods, name + ".o"), "rb") as f:
            return f.read()

    dev, base = start("--no-auth")
    try:
        write(out, "hotd", "status-nothing-loaded.json", ask(base, "/status"))
        write(out, "hotd", "upload-and-reload-ok.json",
              ask(base, "/upload-and-reload", mod("dev_v1")))
        write(out, "hotd", "status-loaded.json", ask(base, "/status"))
        ask(base, "/upload-and-reload", mod("dev_v2"))
        write(out, "hotd", "status-reloaded-persist.json", ask(base, "/status"))
        write(out, "hotd", "upload-other-firmware.json", ask(base, "/upload", mod("dev_other_fw")))
        write(out, "hotd", "upload-bad-import.json", ask(base, "/upload", mod("dev_bad_import")))
        write(out, "hotd", "upload-and-reload-bad-ctor.json",
              ask(base, "/upload-and-reload", mod("dev_bad_ctor")))
        write(out, "hotd", "status-after-refusals.json", ask(base, "/status"))
        write(out, "hotd", "no-such-endpoint.json", ask(base, "/nope"))
        write(out, "hotd", "reload-ok.json", ask(base, "/reload", b""))
    finally:
        dev.terminate()
        dev.wait()
    dev, base = start("--key", keyfile)
    try:
        write(out, "hotd", "unsigned-refused.json", ask(base, "/reload", b""))
    finally:
        dev.terminate()
        dev.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="a normal build directory (build/ci)")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "corpus"))
    a = ap.parse_args()
    other = os.path.join(a.build, "tests", "device", "modules", "dev_v1.o")
    if not os.path.exists(other):
        sys.exit(f"{other}: not found (build the tests first)")
    for t in ("loader", "http", "console", "hotd"):
        d = os.path.join(a.out, t)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            os.remove(os.path.join(d, f))
    with tempfile.TemporaryDirectory() as work:
        loader_corpus(a.out, work)
        module = device_module(work)
        http_corpus(a.out, module, other)
        console_corpus(a.out, module)
        hotd_corpus(a.out, a.build, work)
    for t in sorted(os.listdir(a.out)):
        files = os.listdir(os.path.join(a.out, t))
        size = sum(os.path.getsize(os.path.join(a.out, t, f)) for f in files)
        print(f"{t}: {len(files)} files, {size} bytes")


if __name__ == "__main__":
    main()
