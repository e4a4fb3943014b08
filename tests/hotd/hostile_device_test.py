#!/usr/bin/python3
"""hotd against a hostile device (issue 16, items 8 and 9): a small HTTP
server that answers as a device would, but with
  - strings carrying terminal controls (ESC sequences, BEL, C1 CSI): hotd
    status prints none of them;
  - a 3 MiB /status: refused, naming the cap;
  - a nonce that is not the device's form, and a counter next to 2^64: hotd
    push signs nothing (no POST reaches the device) and says why.
usage: hostile_device_test.py --hotd HOTD"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402

NONCE = "0123456789abcdef0123456789abcdef"
CONTROLS = "\x1b]0;owned\x07\x1b[2J\x9b31m\x07"


class Device(BaseHTTPRequestHandler):
    status = {}      # what GET /status answers (a dict, or raw bytes)
    posts = []       # the targets of every POST received

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = self.status if isinstance(self.status, bytes) else \
            json.dumps(self.status).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        Device.posts.append(self.path)
        n = int(self.headers.get("Content-Length", 0))
        self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok":true}')


def status(nonce=NONCE, counter=5, text=""):
    return {"version": "0.1.0" + text, "firmware": "ab" * 20, "nonce": nonce,
            "counter": counter, "last_error": "boom" + text,
            "modules": [{"name": "main" + text, "loaded": True, "generation": 1,
                         "build_id": "cd" + text, "sections": [
                             {"name": ".text" + text, "addr": 4096, "size": 16}]}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Device)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    with tempfile.TemporaryDirectory() as build:
        os.makedirs(os.path.join(build, "modules"))
        open(os.path.join(build, "hotreload.key"), "w").write("11" * 32 + "\n")
        open(os.path.join(build, "modules", "main.img"), "wb").write(b"\x7fELF" + bytes(60))

        Device.status = status(text=CONTROLS)
        p = subprocess.run([a.hotd, "status", "--url", url], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        shown = p.stdout
        check(p.returncode == 0 and b"boom" in shown, f"hotd status: {p.returncode} {shown!r}")
        bad = [b for b in (b"\x1b", b"\x07", b"\xc2\x9b") if b in shown]
        check(not bad, f"terminal controls printed: {bad} in {shown[:300]!r}")

        Device.status = b'{"nonce":"' + b"a" * (3 << 20) + b'"}'
        rc, out, err = hrtest.run(a.hotd, "status", "--url", url)
        check(rc != 0 and "more than 1048576 bytes" in err, f"a 3 MiB status: {rc} {err}")

        push = ("push", "main", "--build", build, "--url", url, "--no-build")
        for what, st, words in (
                ("a nonce not of the device's form", status(nonce="zz"), "not 32 hex digits"),
                ("a counter next to 2^64", status(counter=2 ** 64 - 2048), "more than a day ahead"),
                ("a counter ten days ahead", status(counter=int(time.time() * 1000) + 864000000),
                 "more than a day ahead")):
            Device.posts = []
            Device.status = st
            rc, out, err = hrtest.run(a.hotd, *push)
            check(rc != 0 and words in out + err, f"{what}: {rc} {out} {err}")
            check(not Device.posts, f"{what}: hotd still sent {Device.posts}")
        Device.posts = []
        Device.status = status()
        rc, out, err = hrtest.run(a.hotd, *push)
        check(rc == 0 and Device.posts, f"a well-formed device is pushed to: {rc} {out} {err}")
    srv.shutdown()
    return hrtest.summary("hostile_device_test")


if __name__ == "__main__":
    sys.exit(main())
