#!/usr/bin/python3
"""HTTP on a QEMU board (--board: rv32-virt, lwIP over virtio-net; mps2-an385,
lwIP over the LAN9118; QEMU user networking with hostfwd from 127.0.0.1): the
endpoints, the authentication and the error answers of docs/http.md, as on
the simulated device.

The device verifies HR2 (ECDSA P-256, mbedTLS built from Debian's source)
and holds only the public key: no byte of the private key is in the
firmware or in a readable file of its build. Boots the example with an
empty flash; GET /status; hotd push --url of the
module, its output on the UART; requests that must change nothing (no key,
another key, a body changed after signing, a replayed request, a body over
the limit, a module with an import the firmware lacks), each answered with
its status while the module goes on; a signed raw upload of an edited
module; a peer that stops mid-request (408 at the head deadline) and more
connections than the device holds (the oldest still reading its head gives
its slot up, answered 408), the device answering /status afterwards; a
93 KB module pushed three times in a row (each reload finds room beside
the module it replaces; first fit from the bottom failed the third).
"""
import argparse
import hashlib
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402

import qemu_board  # noqa: E402
from example_test import V2, Modules  # noqa: E402


def sha(data):
    return hashlib.sha256(data).hexdigest()


answer = hrtest.parse_answer


class Http:
    def __init__(self, port, key):
        self.port, self.key = port, key
        self.counter = 0

    def connect(self, timeout=20):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def request(self, data, timeout=20):
        s = self.connect(timeout)
        try:
            try:
                s.sendall(data)
            except OSError:
                pass  # answered and closed before reading it all (413): read the answer
            raw = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    raw += chunk
            except (socket.timeout, ConnectionResetError):
                pass
            return answer(raw)
        finally:
            s.close()

    def status(self):
        code, _, doc = self.request(b"GET /status HTTP/1.1\r\nHost: device\r\n\r\n")
        check(code == 200 and "modules" in doc, f"GET /status: {code} {doc}")
        return doc

    def signed(self, target, body, key=None, counter=None, sign_body=None, length=None):
        st = self.status()
        nonce = st["nonce"]
        if counter is None:  # above hotd's, which shares the device's counter
            self.counter = max(self.counter, st["counter"]) + 1
            counter = self.counter
        sig = hrtest.hr2_sig(key or self.key, "POST", target, nonce, counter,
                             sha(body if sign_body is None else sign_body))
        head = (f"POST {target} HTTP/1.1\r\nHost: device\r\n"
                f"Authorization: HR2 counter={counter}, sig={sig}\r\n"
                f"X-Hotreload-Sha256: {sha(body if sign_body is None else sign_body)}\r\n"
                f"Content-Length: {len(body) if length is None else length}\r\n\r\n")
        return head.encode() + body


def main():
    ap = argparse.ArgumentParser()
    for opt in ("qemu", "hotd", "example", "cc", "cflags", "src", "work"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--board", default="rv32-virt", choices=sorted(qemu_board.BOARDS))
    args = ap.parse_args()
    args.board = board = qemu_board.BOARDS[args.board]
    v1_line = qemu_board.v1_line(board)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    fw = os.path.join(args.example, "qemu_firmware")
    flash = os.path.join(args.work, "flash.bin")
    board.new_storage(flash)
    # The device holds only the public key; the build's private key signs (HR2).
    with open(os.path.join(args.example, "hotreload-sign.pem"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    scan = subprocess.run([sys.executable, os.path.join(args.src, "tests/build/secret_scan.py"),
                           args.example, fw], stdout=subprocess.PIPE, text=True)
    check(scan.returncode == 0, "no byte of the private key in the firmware or a readable "
          "file of its build: " + scan.stdout[-800:])
    mods = Modules(args, args.work)
    with open(mods.bind(mods.build("greet_v2"), fw), "rb") as f:
        v2 = f.read()
    bad_import = mods.bind(mods.build("bad_import"), fw, absolute=False)
    with open(os.path.join(args.example, "modules", "greet.img"), "rb") as f:
        v1 = f.read()

    dev = qemu_board.Qemu(args.qemu, fw, os.path.join(args.work, "uart.log"), flash, net=True,
                          board=board)
    http = Http(dev.http_port, key)
    url = f"http://127.0.0.1:{dev.http_port}"

    def refused(what, data, code, words):
        mark = len(dev.lines)
        got, headers, doc = http.request(data)
        err = doc.get("error", "")
        check(got == code and words in err, f"{what}: {code} '{words}': {got} {err}")
        if code == 401:
            check(headers.get("www-authenticate") == "HR2", f"{what}: WWW-Authenticate: HR2")
        dev.wait(rf"^hotreload: http POST \S+ -> {code}", after=mark)

    try:
        dev.wait(r"^device up")
        check(dev.out.saw(r"^hotreload: HTTP server listening on 0\.0\.0\.0:8080"),
              "the device's HTTP server listens")
        t0 = time.time()
        st = http.status()
        print(f"GET /status through hostfwd and lwIP: {(time.time() - t0) * 1000:.0f} ms")
        check(re.fullmatch(r"[0-9a-f]{40}", st["firmware"]) and not st["modules"][0]["loaded"],
              f"/status: the firmware's build-id, no module loaded: {st}")

        rc, out, err = hrtest.run(args.hotd, "push", "greet", "--build", args.example,
                                  "--url", url)
        check(rc == 0 and "module 'greet' generation 1" in out, f"hotd push --url: {out}{err}")
        print(out.strip())
        count = int(dev.wait(v1_line, after=len(dev.lines)).group(1))

        body, target = v2, "/upload-and-reload?module=greet"
        unsigned = (f"POST {target} HTTP/1.1\r\nHost: d\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        refused("no key", unsigned, 401, "authentication required")
        other = ec.generate_private_key(ec.SECP256R1())  # not the firmware's public key
        refused("another key", http.signed(target, body, key=other), 403, "wrong signature")
        refused("a body changed after signing",
                http.signed(target, body, sign_body=v1), 403, "")
        refused("over the size limit", http.signed(target, body, length=1 << 20),
                413, "")
        rc, out, err = hrtest.run(args.hotd, "push", bad_import, "--name", "greet", "--build",
                                  args.example, "--url", url)
        check(rc == 1 and "unresolved import 'fw_missing_function'" in out + err,
              f"a module with an import the firmware lacks is refused: {out}{err}")
        later = int(dev.wait(v1_line, after=len(dev.lines)).group(1))
        check(later > count and http.status()["modules"][0]["generation"] == 1,
              f"the first module still runs (count {count} then {later}, generation 1)")

        good = http.signed(target, body)
        code, _, doc = http.request(good)
        check(code == 200 and "generation 2" in doc.get("message", ""),
              f"a signed raw upload: {code} {doc}")
        dev.wait(V2, after=len(dev.lines))
        refused("the same request replayed", good, 403, "replayed or stale")
        check(http.status()["modules"][0]["generation"] == 2, "the replay changed nothing")


        # A peer that stops mid-request is answered 408 when the head deadline
        # (2 s) runs out; meanwhile the device's loop goes on (hotreload_board.h).
        s = http.connect()
        s.sendall(b"GET /sta")
        t0 = time.time()
        code = answer(s.recv(4096))[0]
        s.close()
        check(code == 408, f"a stalled request: 408 ({code})")
        print(f"stalled request answered 408 after {time.time() - t0:.1f} s")
        # More connections than the device holds (8), none sending: the ninth
        # takes the slot of the oldest still reading its head, which is
        # answered 408 at once, before its head deadline (2 s).
        conns = []
        for _ in range(9):
            conns.append(http.connect())
            time.sleep(0.05)  # accepted in this order
        ready, _, _ = select.select(conns, [], [], 1.5)
        got = [(conns.index(s), answer(s.recv(4096))) for s in ready]
        check([(i, a[0]) for i, a in got] == [(0, 408)] and
              "newer connection" in got[0][1][2].get("error", ""),
              f"the ninth connection takes the first one's slot (408): {got}")
        mark = len(dev.lines)
        for s in conns[1:]:
            s.close()
        conns[0].close()
        # Each served in turn: closed before a request came. Seen as the end of
        # the stream (400) or, on a loaded host where lwIP gets the reset
        # first, as a failed read (408): either way answered and logged.
        start = mark
        seen = lambda: " http lines: %s" % [l for l in dev.lines[start:] if "http" in l]
        for _ in range(8):
            mark = dev.out.expect(r"^hotreload: http \? \? -> 40[08]", 20, mark,
                                  also=seen)[0] + 1
        check(http.status()["modules"][0]["generation"] == 2, "/status answers afterwards")
        dev.wait(V2, after=len(dev.lines))
        # A 93 KB module three times in a row: each reload finds room in the
        # 256 KiB heap beside the module it replaces (large blocks from the top).
        big = mods.bind(mods.build("big"), fw)
        for gen in (3, 4, 5):
            t0 = time.time()
            rc, out, err = hrtest.run(args.hotd, "push", big, "--name", "greet", "--build",
                                      args.example, "--url", url)
            check(rc == 0 and f"generation {gen}" in out, f"93 KB module, push {gen - 2} of 3: "
                  f"{out}{err}")
            print(f"93 KB module pushed over HTTP in {time.time() - t0:.2f} s")
        dev.wait(r"^Big \| ", after=len(dev.lines))
        check(not dev.out.saw(r"fatal trap|lwIP assertion"), "no trap, no lwIP assertion")
    finally:
        dev.stop()
    return hrtest.summary("qemu_http")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
