"""What the fault tests share (on top of tests/lib/hrtest.py): the device
with what its module answers and what it logs, HTTP requests written and
read byte by byte on raw sockets (signed with HR1 when asked), and a reader
of the storage partition file that checks every image in it.

Raw sockets, not curl: the tests cut, stall, replay and trickle requests at
exact bytes, which a client library would not do.
"""
import argparse
import atexit
import hashlib
import os
import random
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402

parse_answer = hrtest.parse_answer  # the tests here call it fault.parse_answer


def check(cond, what):
    """hrtest.check, and a line for the log when it holds too: every check
    says what it checked."""
    if cond:
        print(f"ok: {what}", flush=True)
    return hrtest.check(cond, what)


def args(extra=None):
    """--fw, --modules, --seed (random when not given, printed for replays)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--fw", required=True)
    ap.add_argument("--modules", required=True)
    ap.add_argument("--seed", type=int, default=None)
    if extra:
        extra(ap)
    a = ap.parse_args()
    if a.seed is None:
        a.seed = int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(1 << 31))
    return a


def workdir(name):
    """A fresh folder for a device's key and storage; removed at exit when
    every check passed (kept for a look otherwise)."""
    path = tempfile.mkdtemp(prefix=f"hr-fault-{name}-")
    atexit.register(lambda: hrtest.failed or shutil.rmtree(path, ignore_errors=True))
    return path


def module(a, name):
    with open(os.path.join(a.modules, name + ".o"), "rb") as f:
        return f.read()


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Device(hrtest.Device):
    """device_fw (or hook_fw) on a storage folder; self.key signs requests."""

    def __init__(self, fw, storage, key, keyfile, env=None, args=()):
        super().__init__(fw, storage, keyfile, env=env, args=args, console=True)
        # A test that fails half-way leaves no firmware running behind it.
        atexit.register(lambda: self.proc.poll() is None and self.proc.kill())
        self.key, self.storage = key, storage
        self.counter = int(time.time() * 1000)

    def value(self):
        """What the running module answers now: a heartbeat line after this call."""
        return int(self.wait(r"value=(-?\d+) calls=", after=len(self.lines)).group(1))

    def values_since(self, mark):
        """Every value the firmware printed from line `mark` on."""
        return {int(l.split()[0][6:]) for l in self.lines[mark:] if l.startswith("value=")}

    def request(self, data, timeout=10):
        """Send `data`, read the answer to the end: (status, headers, doc)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # answered and closed before reading it all (503, 413): read the answer
            return parse_answer(read_all(s))
        finally:
            s.close()

    def status(self):
        code, _, doc = self.request(b"GET /status HTTP/1.1\r\nHost: device\r\n\r\n")
        return doc if code == 200 else {"http": code, **doc}

    def main(self):
        """The status of module "main"."""
        return self.status()["modules"][0]

    def next_counter(self):
        self.counter += 1
        return self.counter

    def signed(self, target, body=None, key=None, counter=None, nonce=None, sign_target=None,
               sign_body=None, declared=None, length=None, extra=b""):
        """The bytes of a signed POST: HR1 when the key is bytes (HMAC), HR2
        when it is a P-256 private key. The sign_*, declared
        (X-Hotreload-Sha256) and length (Content-Length) arguments forge one
        part at a time."""
        nonce = nonce or self.status()["nonce"]
        counter = self.next_counter() if counter is None else counter
        signed_body = body if sign_body is None else sign_body
        key = key or self.key
        what = ("POST", sign_target or target, nonce, counter, sha(signed_body or b""))
        if isinstance(key, bytes):
            auth = f"HR1 counter={counter}, mac={hrtest.hr1_mac(key, *what)}"
        else:
            auth = f"HR2 counter={counter}, sig={hrtest.hr2_sig(key, *what)}"
        head = f"POST {target} HTTP/1.1\r\nHost: device\r\n"
        head += f"Authorization: {auth}\r\n"
        if body is not None:
            head += f"X-Hotreload-Sha256: {declared or sha(signed_body)}\r\n"
            head += f"Content-Length: {len(body) if length is None else length}\r\n"
        return head.encode() + extra + b"\r\n" + (body or b"")

    def log_mark(self):
        return len(self.errs)

    def http_log(self, after, timeout=15):
        """The next 'hotreload: http ... -> CODE' log line from `after`: (index, code, line)."""
        i, m = self.err.expect(r"hotreload: http (.*) -> (\d+)", timeout, after, self.TAIL)
        return i, int(m.group(2)), self.errs[i]

    def partition(self):
        return os.path.join(self.storage, "hotreload.partition")


def read_all(s):
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def slots(path):
    """The images in a partition file as storage.c lays them out (two slots,
    header in the first 4 KiB erase block): for each slot whose header is
    genuine, {slot, seq, length, sha256, intact (the body hashes to it), state}."""
    with open(path, "rb") as f:
        data = f.read()
    size = len(data) // 4096 * 4096
    slot_size = (size // 2) & ~4095
    out = []
    for s in (0, 1):
        off = s * slot_size
        hdr = data[off:off + 164]
        if hdr[:4] != b"HRIM" or struct.unpack_from("<HH", hdr, 4) != (1, 116):
            continue
        if hashlib.sha256(hdr[:84]).digest() != hdr[84:116]:
            continue
        seq, length = struct.unpack_from("<II", hdr, 8)
        want = hdr[16:48].hex()
        body = data[off + 4096:off + 4096 + length]
        bad, confirmed, tried = (struct.unpack_from("<I", hdr, at)[0] for at in (160, 144, 128))
        state = ("bad" if bad != 0xFFFFFFFF else "confirmed" if confirmed == 0
                 else "tried" if tried != 0xFFFFFFFF else "trial")
        out.append({"slot": s, "seq": seq, "length": length, "sha256": want,
                    "intact": sha(body) == want, "state": state})
    return out


def check_storage(dev, known, what):
    """Every image with a genuine header is intact and one of `known` (sha256s)."""
    images = slots(dev.partition())
    for img in images:
        check(img["intact"], f"{what}: slot {img['slot']} (seq {img['seq']}) body matches its "
              f"header's SHA-256: {img}")
        check(img["sha256"] in known, f"{what}: slot {img['slot']} holds a known module, "
              f"not a torn one: {img['sha256'][:16]}")
    return images


def wait_confirmed(dev, timeout=15):
    """Until the running image is the newest stored one and confirmed."""
    end = time.time() + timeout
    while time.time() < end:
        st = dev.main()
        img, stored = st.get("image") or {}, st.get("stored") or {}
        if stored.get("state") == "confirmed" and img.get("seq") == stored.get("seq"):
            return st
        time.sleep(0.05)
    return None


def boot_line(dev, timeout=10):
    """What the firmware printed at start: "module loaded" or why none did
    (None if it printed nothing)."""
    found = dev.out.search(r"^boot: (.*)", timeout)
    return found[1].group(1) if found else None


def running(dev):
    """(seq, sha256) of the image the device runs now, (None, None) if none."""
    img = dev.main().get("image") or {}
    return img.get("seq"), img.get("sha256")


def start(a, work, key, keyfile, **kw):
    """A device on `work`; the caller stops it."""
    return Device(a.fw, work, key, keyfile, **kw)
