#!/usr/bin/python3
"""End-to-end test of the simulated device: a real firmware process, real curl.

Runs the firmware (tests/device/fw.c) with a fresh storage directory and a
key, then drives it over HTTP with curl: uploads, reloads, every error class,
a truncated upload, a SIGKILL in the middle of storing a module, /status
under reloads. After each refusal the module that was running must still be
running (the firmware prints what the module answers every tick). Last, a
device whose one module is not "main": requests and console commands naming
no module go to it, and calls of its unloaded functions are logged once (and
once more after an unload), not per call.
"""
import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import struct
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402


class Device(hrtest.Device):
    def __init__(self, fw, storage, keyfile, env=None, args=()):
        super().__init__(fw, storage, keyfile, env=env, args=args, console=True)

    def value(self):
        """What the running module answers now (a heartbeat after this call)."""
        n = len(self.lines)
        m = self.wait(r"value=(-?\d+) calls=(-?\d+)", after=n)
        return int(m.group(1)), int(m.group(2))

    def console(self, data):
        """Write to the device's serial console (its stdin); returns the line index
        after which its answers come."""
        n = len(self.lines)
        self.proc.stdin.buffer.write(data if isinstance(data, bytes) else data.encode())
        self.proc.stdin.buffer.flush()
        return n

    def url(self, target):
        return self.http + target


def curl(dev, method, target, body=None, headers=(), timeout=20):
    with tempfile.NamedTemporaryFile() as out, tempfile.NamedTemporaryFile() as inp:
        cmd = ["curl", "-sS", "-X", method, "-o", out.name, "-w", "%{http_code}",
               "--max-time", str(timeout), dev.url(target)]
        if body is not None:
            inp.write(body)
            inp.flush()
            cmd += ["--data-binary", "@" + inp.name, "-H", "Content-Type: application/octet-stream"]
        for h in headers:
            cmd += ["-H", h]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        text = open(out.name, "rb").read().decode(errors="replace")
    code = int(r.stdout or 0)
    try:
        doc = json.loads(text) if text else {}
    except ValueError:
        doc = {"raw": text}
    return code, doc


class Signer:
    def __init__(self, key):
        self.key = key
        self.counter = int(time.time() * 1000)

    def header(self, dev, method, target, body=b"", key=None, counter=None):
        nonce = curl(dev, "GET", "/status")[1]["nonce"]
        if counter is None:
            self.counter += 1
            counter = self.counter
        mac = hrtest.hr1_mac(key or self.key, method, target, nonce, counter,
                             hashlib.sha256(body).hexdigest())
        return f"Authorization: HR1 counter={counter}, mac={mac}"


def sha_header(body):
    return "X-Hotreload-Sha256: " + hashlib.sha256(body).hexdigest()


def signed(dev, signer, method, target, body=None, **kw):
    h = signer.header(dev, method, target, body or b"", **kw)
    extra = [sha_header(body)] if body is not None else []
    return curl(dev, method, target, body, [h] + extra)


def frame(seq, chunk):
    head = struct.pack("<HH", seq, len(chunk))
    return b"\x7e" + head + chunk + struct.pack("<I", zlib.crc32(head + chunk))


def console_signed(dev, signer, words):
    """A console command that changes what runs, signed as docs/serial.md
    says (SERIAL, its words, the empty body); returns where its answer comes."""
    m = dev.wait(r"^ok ([0-9a-f]{32}) (\d+)(?: deflate)?$", after=dev.console("nonce\n"))
    signer.counter = max(signer.counter, int(m.group(2))) + 1
    mac = hrtest.hr1_mac(signer.key, "SERIAL", words, m.group(1), signer.counter,
                         hashlib.sha256(b"").hexdigest())
    return dev.console(f"{words} HR1 counter={signer.counter}, mac={mac}\n")


def serial_upload(dev, key, counter, body):
    """The framed upload of docs/serial.md, with one frame damaged on the way."""
    m = dev.wait(r"^ok ([0-9a-f]{32}) (\d+)(?: deflate)?$", after=dev.console("nonce\n"))
    sha = hashlib.sha256(body).hexdigest()
    mac = hrtest.hr1_mac(key, "SERIAL", "upload main", m.group(1), counter, sha)
    at = dev.console(f"upload main {len(body)} {sha} HR1 counter={counter}, mac={mac}\n")
    # The posix console offers frames of 1 KiB; a host may send shorter ones.
    dev.wait(r"^ack 0 window 4 frame 1024$", after=at)
    naks = 0
    for seq, off in enumerate(range(0, len(body), 256), start=1):
        data = frame(seq, body[off:off + 256])
        if seq == 2:
            bad = bytearray(data)
            bad[10] ^= 0xFF
            dev.wait(rf"^nak {seq} crc", after=dev.console(bytes(bad)))
            naks += 1
        dev.wait(rf"^ack {seq}$", after=dev.console(data))
    dev.wait(r"^ok stored module 'main'")
    return naks


def raw_request(dev, data, read=True):
    s = socket.create_connection(("127.0.0.1", dev.port), timeout=10)
    s.sendall(data)
    reply = b""
    if read:
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except socket.timeout:
            pass
    s.close()
    return reply


def wait_confirmed(dev, timeout=10):
    """Until the running module's stored image is marked confirmed."""
    end = time.time() + timeout
    while time.time() < end:
        st = curl(dev, "GET", "/status")[1]["modules"][0]
        if st.get("stored", {}).get("state") == "confirmed" and \
                st.get("image", {}).get("seq") == st["stored"].get("seq"):
            return True
        time.sleep(0.05)
    return False


def unloaded_lines(dev):
    return [l for l in dev.errs if "called unloaded function" in l]


def wait_unloaded_calls(dev, more, timeout=20):
    """Until /status counts `more` calls of unloaded functions beyond now's."""
    start = curl(dev, "GET", "/status")[1]["unloaded_calls"]
    end = time.time() + timeout
    while time.time() < end:
        if curl(dev, "GET", "/status")[1]["unloaded_calls"] >= start + more:
            return True
        time.sleep(0.05)
    return False


def only_module(a, v1):
    """A device whose one module is not called "main": requests and console
    commands naming no module go to it; calls to its unloaded functions (the
    firmware makes two per tick) are logged once, and once after an unload."""
    work = tempfile.mkdtemp(prefix="hr-device-only-")
    key, keyfile = hrtest.raw_key(work, "key")
    signer = Signer(key)
    dev = Device(a.fw, work, keyfile, args=("--module", "greet"))
    check(wait_unloaded_calls(dev, 40), "the firmware calls its unloaded functions")
    said = unloaded_lines(dev)
    check(len(said) == 1 and "called unloaded function 'mod_" in said[0],
          f"40 and more calls of unloaded functions, one log line: {said}")
    code, doc = signed(dev, signer, "POST", "/upload", v1)
    check(code == 200 and doc.get("module") == "greet",
          f"an upload naming no module goes to the only one, greet: {code} {doc}")
    at = dev.console("reload\n")
    err = dev.wait(r"^error .*", after=at).group(0)
    check("authentication failed" in err, f"an unsigned console reload is refused: {err}")
    dev.wait(r"^ok reloaded module 'greet' generation 1", after=console_signed(dev, signer,
                                                                              "reload"))
    check(dev.value()[0] == 1, "the console's reload with no module reloaded greet")
    at = dev.console("symbols\n")
    n = int(dev.wait(r"^ok (\d+) symbols$", after=at).group(1))
    names = [l.split()[0] for l in dev.lines[at:] if l.startswith("  ")]
    check(n > 0 and "mod_value" in names, f"symbols with no module lists greet's: {names}")
    at = console_signed(dev, signer, "reload main")
    err = dev.wait(r"^error .*", after=at).group(0)
    check("'main'" in err and "greet" in err, f"a module the device lacks is named with "
          f"the ones it has: {err}")
    dev.wait(r"^ok unloaded module 'greet'", after=console_signed(dev, signer, "unload"))
    check(wait_unloaded_calls(dev, 40), "unloaded calls again after the unload")
    said = unloaded_lines(dev)
    check(len(said) == 2, f"one more log line after the unload, not one per call: {said}")
    check(dev.stop() == 0, "clean stop")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fw", required=True)
    ap.add_argument("--modules", required=True, help="directory of the test modules")
    a = ap.parse_args()
    mod = lambda name: open(os.path.join(a.modules, name + ".o"), "rb").read()
    v1, v2 = mod("dev_v1"), mod("dev_v2")
    work = tempfile.mkdtemp(prefix="hr-device-")
    key, keyfile = hrtest.raw_key(work, "key")
    signer = Signer(key)

    dev = Device(a.fw, work, keyfile)
    st = curl(dev, "GET", "/status")[1]
    check(st.get("ok") and st["modules"][0]["loaded"] is False, f"fresh device: {st}")
    check(dev.value()[0] == 0, "nothing loaded: the stub reaches the unloaded handler")

    code, doc = signed(dev, signer, "POST", "/upload", v1)
    check(code == 200, f"upload v1: {code} {doc}")
    check(curl(dev, "GET", "/status")[1]["modules"][0]["pending"] is True, "upload is pending")
    time.sleep(0.2)
    check(dev.value()[0] == 0, "an upload alone does not reload behind the application")
    code, doc = signed(dev, signer, "POST", "/reload")
    check(code == 200, f"reload: {code} {doc}")
    check(dev.value()[0] == 1, "v1 runs after /reload")
    before = dev.value()[1]

    code, doc = signed(dev, signer, "POST", "/upload-and-reload", v2)
    check(code == 200, f"upload-and-reload v2: {code} {doc}")
    val, calls = dev.value()
    check(val == 2, f"v2 runs after /upload-and-reload ({val})")
    check(calls // 1000 > before // 1000 and calls % 1000 < before % 1000 + 50,
          f"persistent counter carried, the other reset ({before} -> {calls})")
    st = curl(dev, "GET", "/status")[1]["modules"][0]
    check(st["persist"]["carried"] == ["kept"], f"status says what was carried: {st}")
    # Issue 16 item 11: the memory layout only for a signed request.
    public = curl(dev, "GET", "/status")[1]
    check(public["addresses"] is False and "sections" not in public["modules"][0] and
          '"addr"' not in json.dumps(public), f"unsigned GET /status: no addresses: {public}")
    code, full = signed(dev, signer, "GET", "/status")
    secs = full["modules"][0].get("sections", []) if code == 200 else []
    check(full.get("addresses") is True and any(s["name"] == ".text" and
          int(s["addr"], 16) > 0 for s in secs), f"signed GET /status lists sections: {full}")
    code, doc = signed(dev, signer, "GET", "/status", key=b"another key")
    check(code == 403 and "sections" not in str(doc), f"GET /status signed with another key: "
          f"403: {code} {doc}")
    # Let v2 be confirmed (confirm_after_ms = 300): an upload may reuse the storage slot of a
    # module that is not confirmed yet, keeping the last good one (docs/ARCHITECTURE.md).
    check(wait_confirmed(dev), "v2 was confirmed after running confirm_after_ms")

    def still_v2(what):
        check(dev.value()[0] == 2, f"v2 still running after {what}")

    code, doc = curl(dev, "POST", "/upload", v1)
    check(code == 401, f"unsigned upload: {code} {doc}")
    still_v2("an unsigned upload")
    code, doc = signed(dev, signer, "POST", "/upload", v1, key=os.urandom(32))
    check(code == 403, f"wrong key: {code} {doc}")
    hdr = signer.header(dev, "POST", "/reload")
    check(curl(dev, "POST", "/reload", None, [hdr])[0] == 200, "a signed reload")
    code, doc = curl(dev, "POST", "/reload", None, [hdr])
    check(code == 403, f"replayed request: {code} {doc}")
    hdr = signer.header(dev, "POST", "/upload", v1)
    code, doc = curl(dev, "POST", "/upload", v1[:-1] + bytes([v1[-1] ^ 1]), [hdr, sha_header(v1)])
    check(code == 403, f"modified body with the old signature: {code} {doc}")
    still_v2("refused requests")
    code, doc = signed(dev, signer, "POST", "/upload", b"\0" * (200 * 1024))
    check(code == 413, f"oversized upload: {code} {doc}")
    code, doc = signed(dev, signer, "POST", "/upload", mod("dev_bad_import"))
    check(code == 422 and "no_such_firmware_function" in doc.get("error", ""),
          f"module with an unresolved import: {code} {doc}")
    code, doc = signed(dev, signer, "POST", "/upload", mod("dev_other_fw"))
    check(code == 409 and "rebuild" in doc.get("error", ""), f"other firmware: {code} {doc}")
    code, doc = signed(dev, signer, "POST", "/upload", b"not an ELF file at all")
    check(code == 422, f"garbage module: {code} {doc}")
    reply = raw_request(dev, b"BLAH\r\n\r\n")
    check(reply.startswith(b"HTTP/1.1 400"), f"malformed request: {reply[:60]!r}")
    still_v2("refused uploads")
    code, doc = signed(dev, signer, "POST", "/upload-and-reload", mod("dev_bad_ctor"))
    check(code == 422 and "constructor" in doc.get("error", ""), f"trapping constructor: {code} {doc}")
    still_v2("a module whose constructor trapped")

    # A truncated upload: the announced length never arrives.
    stored_before = curl(dev, "GET", "/status")[1]["modules"][0]["stored"]
    hdr = signer.header(dev, "POST", "/upload", v1)
    raw_request(dev, (f"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {len(v1)}\r\n"
                      f"{hdr}\r\n{sha_header(v1)}\r\n\r\n").encode() + v1[: len(v1) // 2],
                read=False)
    time.sleep(0.3)
    st = curl(dev, "GET", "/status")[1]["modules"][0]
    check(st["stored"] == stored_before and st["image"]["seq"] == stored_before["seq"],
          f"a truncated upload leaves the stored module untouched: {stored_before} -> {st}")

    # /status keeps answering while reloads happen.
    codes = []
    stop = threading.Event()

    def reloader():
        while not stop.is_set():
            codes.append(signed(dev, signer, "POST", "/reload")[0])

    t = threading.Thread(target=reloader)
    t.start()
    statuses = [curl(dev, "GET", "/status")[0] for _ in range(40)]
    stop.set()
    t.join()
    check(all(c == 200 for c in statuses), f"/status during reloads: {set(statuses)}")
    check(codes and all(c == 200 for c in codes), f"reloads meanwhile: {set(codes)}")
    still_v2("reloads under load")

    # The serial console: a framed upload (with a damaged frame resent), then a reload.
    signer.counter += 1
    naks = serial_upload(dev, key, signer.counter, v1)
    check(naks == 1, "the damaged frame was refused and resent")
    check(dev.value()[0] == 2, "a serial upload alone does not reload")
    dev.wait(r"^ok reloaded module 'main'", after=console_signed(dev, signer, "reload"))
    check(dev.value()[0] == 1, "v1 runs after the console's reload")
    check(wait_confirmed(dev), "v1 was confirmed after running confirm_after_ms")
    check(dev.stop() == 0, "clean stop")

    # SIGKILL in the middle of storing a module: the previous good one loads.
    dev = Device(a.fw, work, keyfile, env={"HOTRELOAD_TEST_PAUSE_STORE": "3"})
    check(dev.value()[0] == 1, "the confirmed module (v1) loads at start")
    t = threading.Thread(target=lambda: signed(dev, signer, "POST", "/upload", v2), daemon=True)
    t.start()
    dev.wait(r"paused in storage write", stream="err")
    dev.stop(signal.SIGKILL)
    dev = Device(a.fw, work, keyfile)
    check(dev.value()[0] == 1, "after SIGKILL mid-store the previous module runs")
    check(dev.stop() == 0, "clean stop")

    # A module that takes the device down before it is confirmed is not loaded again.
    dev = Device(a.fw, work, keyfile, args=("--confirm-ms", "60000"))
    code, doc = signed(dev, signer, "POST", "/upload-and-reload", v2)
    check(code == 200 and dev.value()[0] == 2, f"v2 runs, unconfirmed: {code} {doc}")
    dev.stop(signal.SIGKILL)
    dev = Device(a.fw, work, keyfile)
    check(dev.value()[0] == 1, "the module that died unconfirmed is not loaded again")
    st = curl(dev, "GET", "/status")[1]["modules"][0]
    check(st["image"]["confirmed"] and st["pending"] is False,
          f"the previous good module runs and nothing is pending: {st}")
    check(dev.stop() == 0, "clean stop")
    only_module(a, v1)
    return hrtest.summary("device_test")


if __name__ == "__main__":
    sys.exit(main())
