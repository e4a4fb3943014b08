#!/usr/bin/python3
"""Requests that must not change the running code, on raw sockets: no key,
malformed or missing signatures, a wrong key, bodies and targets changed
after signing, stale and replayed requests (byte for byte, concurrently,
across a restart), bodies without Content-Length (streamed to close,
chunked, HTTP/1.0) and over the limit. Each must get the status docs/http.md
gives it; afterwards the device runs the same module (/status generation and
image, the firmware's output), its counter did not move when the request was
refused before the MAC, and a refusal before the MAC erased nothing (the
partition file is byte-for-byte the same)."""
import os
import random
import socket
import subprocess
import sys
import threading

import fault
from fault import check


class Base:
    """What the device ran and stored before an attack."""

    def __init__(self, dev, value, scheme="HR1"):
        self.dev, self.value, self.scheme = dev, value, scheme
        self.snap()

    def snap(self):
        dev = self.dev
        st = dev.status()
        self.gen = st["modules"][0]["generation"]
        self.sha = (st["modules"][0].get("image") or {}).get("sha256")
        self.counter = st["counter"]
        with open(dev.partition(), "rb") as f:
            self.part = f.read()

    def attack(self, what, data, code, words="", erased=False, counted=False):
        """Send `data`; check the answer, the log, and that nothing changed."""
        self.snap()
        mark = self.dev.log_mark()
        got, headers, doc = self.dev.request(data)
        self.answered(what, got, headers, doc, code, words, mark)
        self.same(what, erased, counted)

    def answered(self, what, got, headers, doc, code, words, mark):
        err = doc.get("error", "")
        check(got == code and words in err, f"{what}: {code} '{words}': {got} {err}")
        if code == 401:
            check(headers.get("www-authenticate") == self.scheme,
                  f"{what}: WWW-Authenticate: {self.scheme}")
        check(self.dev.http_log(mark)[1] == code, f"{what}: the device logs {code}")

    def same(self, what, erased=False, counted=False):
        """The running module, the counter (unless `counted`: the request got
        past the MAC) and the partition (unless `erased`: the upload began)."""
        dev = self.dev
        st = dev.status()
        main = st["modules"][0]
        image = (main.get("image") or {}).get("sha256")
        check(main["generation"] == self.gen and image == self.sha,
              f"{what}: /status generation {self.gen} and image unchanged")
        check(dev.value() == self.value, f"{what}: the firmware still prints {self.value}")
        if not counted:
            check(st["counter"] == self.counter, f"{what}: the replay counter did not move")
        if not erased:
            with open(dev.partition(), "rb") as f:
                check(f.read() == self.part, f"{what}: nothing erased or written")


def without(data, header):
    """data without its `header:` line."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(header.lower() + b":")]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def unsigned(target, body=None, version="1.1", headers=""):
    head = f"POST {target} HTTP/{version}\r\nHost: device\r\n{headers}"
    if body is not None and "Content-Length" not in headers and "Transfer" not in headers:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body or b"")


def stream_without_length(dev, head, total):
    """Send the head and then `total` bytes of body until the device stops
    reading; the answer is read as it comes (before the body would end)."""
    s = socket.create_connection(("127.0.0.1", dev.port), timeout=10)
    s.sendall(head)
    answer = []
    reader = threading.Thread(target=lambda: answer.append(fault.read_all(s)), daemon=True)
    reader.start()
    sent = 0
    try:
        while sent < total:
            s.sendall(b"\0" * 65536)
            sent += 65536
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the device closed after answering: what it should do
    reader.join(15)
    s.close()
    return fault.parse_answer(answer[0] if answer else b"")


def no_key(a, work):
    r = subprocess.run([a.fw, "--port", "0"], env=dict(os.environ, HOTRELOAD_STORAGE_DIR=work),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=20)
    check(r.returncode != 0 and "no authentication key" in r.stderr,
          f"a device without a key refuses to serve: {r.returncode} "
          f"{r.stderr.strip().splitlines()[-1:]}")


def main():
    a = fault.args()
    print(f"auth_test: seed {a.seed} (replay: --seed {a.seed})", flush=True)
    rng = random.Random(a.seed)
    v1, v2 = fault.module(a, "small_1"), fault.module(a, "small_2")
    work = fault.workdir("auth")
    no_key(a, work)
    key, keyfile = fault.hrtest.raw_key(work, "key")
    dev = fault.start(a, work, key, keyfile)
    code, _, doc = dev.request(dev.signed("/upload-and-reload", v1))
    check(code == 200 and dev.value() == 11 and fault.wait_confirmed(dev),
          f"the good module (value 11) runs, confirmed: {code} {doc}")
    b = Base(dev, 11)

    # Missing or malformed signatures: 401, before the body is read.
    for target in ("/upload", "/upload-and-reload", "/reload", "/unload"):
        body = v2 if "upload" in target else None
        b.attack(f"unsigned POST {target}", unsigned(target, body), 401,
                 "authentication required")
    good = dev.signed("/upload-and-reload", v2)
    b.attack("signed upload without X-Hotreload-Sha256", without(good, b"X-Hotreload-Sha256"),
             401, "X-Hotreload-Sha256")
    mac = good.split(b"mac=")[1][:64].decode()
    for auth in (f"HR1 counter=1, mac={mac.upper()}", f"Bearer {mac}",
                 f"HR1 counter=-1, mac={mac}", f"HR1 counter=1, mac={mac[:-1]}"):
        b.attack(f"Authorization: {auth[:24]}...", without(good, b"Authorization").replace(
            b"\r\n", f"\r\nAuthorization: {auth}\r\n".encode(), 1), 401, "")

    # A wrong key, or anything changed after signing: 403.
    for target in ("/upload-and-reload", "/unload"):
        body = v2 if "upload" in target else None
        b.attack(f"{target} signed with another key",
                 dev.signed(target, body, key=os.urandom(32)), 403, "wrong mac")
    at = rng.randrange(len(v2))
    forged = v2[:at] + bytes([v2[at] ^ 0xFF]) + v2[at + 1:]
    b.attack(f"byte {at} changed, old signature and declared SHA-256",
             dev.signed("/upload-and-reload", forged, sign_body=v2), 403,
             "does not match the SHA-256", erased=True, counted=True)
    b.attack(f"byte {at} changed, old signature, the new body's SHA-256 declared",
             dev.signed("/upload-and-reload", forged, sign_body=v2,
                        declared=fault.sha(forged)), 403, "wrong mac")
    b.attack("bytes appended, old signature", dev.signed("/upload-and-reload", v2 + b"\0" * 64,
             sign_body=v2), 403, "does not match the SHA-256", erased=True, counted=True)
    b.attack("signed for /upload, sent to /upload-and-reload",
             dev.signed("/upload-and-reload", v2, sign_target="/upload"), 403, "wrong mac")
    b.attack("signed for /upload, sent to /upload?module=main",
             dev.signed("/upload?module=main", v2, sign_target="/upload"), 403, "wrong mac")
    images = fault.check_storage(dev, {fault.sha(v1), fault.sha(v2)}, "after the forgeries")
    check([m["sha256"] for m in images] == [fault.sha(v1)], "no forged body was committed")

    # Stale and replayed requests.
    b = Base(dev, 11)
    b.attack("a correctly signed request with the last accepted counter",
             dev.signed("/upload-and-reload", v2, counter=b.counter), 403, "replayed or stale")
    captured = dev.signed("/upload-and-reload", v2)
    code, _, doc = dev.request(captured)
    check(code == 200 and dev.value() == 12, f"the captured request runs value 12: {code} {doc}")
    back = dev.signed("/upload-and-reload", v1)
    code, _, doc = dev.request(back)
    check(code == 200 and dev.value() == 11 and fault.wait_confirmed(dev),
          f"back to value 11 (this request captured too): {code} {doc}")
    b = Base(dev, 11)
    b.attack("the captured request replayed byte for byte (a switch to 12)", captured, 403,
             "replayed or stale")
    twin = dev.signed("/upload-and-reload", v2)
    gate, codes = threading.Barrier(2), []

    def send_twin():
        gate.wait()
        codes.append(dev.request(twin)[0])
    threads = [threading.Thread(target=send_twin) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(sorted(codes) == [200, 403], f"one request sent twice at once: one 200, one 403: {codes}")
    check(dev.value() == 12 and fault.wait_confirmed(dev), "value 12 runs once, confirmed")
    check(dev.stop() == 0, "clean stop")
    dev = fault.start(a, work, key, keyfile)
    check(dev.status()["counter"] == 0, "after a restart the counter starts again at 0")
    b = Base(dev, 12)
    b.attack("the previous boot's request (value 11) replayed: new nonce", back, 403, "wrong mac")

    # Bodies without Content-Length, or over the limit: refused before the body.
    signed_head = without(dev.signed("/upload", v2), b"Content-Length").split(b"\r\n\r\n")[0]
    for what, head, code, words in (
            ("no Content-Length, 1 MiB streamed to close", signed_head + b"\r\n\r\n",
             411, "Content-Length required"),
            ("Transfer-Encoding: chunked, 1 MiB of chunks",
             signed_head + b"\r\nTransfer-Encoding: chunked\r\n\r\n", 411, "chunked"),
            ("HTTP/1.0 without Content-Length", signed_head.replace(b"HTTP/1.1", b"HTTP/1.0", 1)
             + b"\r\n\r\n", 411, "Content-Length required")):
        b.snap()
        mark = dev.log_mark()
        got, headers, doc = stream_without_length(dev, head, 1 << 20)
        b.answered(what, got, headers, doc, code, words, mark)
        b.same(what)
    b.attack("Transfer-Encoding and Content-Length", dev.signed(
        "/upload", v2, extra=b"Transfer-Encoding: chunked\r\n"), 400, "both")
    over = dev.signed("/upload", b"\0" * (200 * 1024))
    b.attack("Content-Length 200 KiB, no body sent", over[:over.index(b"\r\n\r\n") + 4], 413,
             "over module 'main''s limit of 131072 bytes")
    b.attack("Content-Length of 30 digits, no body sent", dev.signed("/upload", b"",
             length="9" * 30), 413, "over the limit")
    check(dev.stop() == 0, "clean stop")
    return fault.hrtest.summary("fault_auth")


if __name__ == "__main__":
    sys.exit(main())
