#!/usr/bin/python3
"""Slow clients (slow-loris) against the device's 8 connections:
1. five connections sending a request head one byte every 0.25 s, and one
   signed upload that stalls halfway through its body: while they are all
   connected GET /status answers, a second upload is refused as busy (409);
   then the device drops every one of them (408: a request must average
   1000 bytes/s after its first 5 s; the stalled one after 5 s of silence)
   and nothing of the stalled upload was stored;
2. twelve trickling connections: the four over the limit get 503 at once,
   and so does GET /status while eight are held, until the device drops
   them (408) and answers /status again.
The running module never changes; an upload afterwards works."""
import socket
import sys
import threading
import time

import fault
from fault import check

GIVE_UP = 25  # seconds a slow client keeps going before the test gives up on it


class Slow(threading.Thread):
    """One connection sending `data` a byte every `pace` seconds (after
    `first` bytes at once), reading whatever the device answers."""

    open_now = 0
    lock = threading.Lock()

    def __init__(self, port, data, pace=0.25, first=0):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.data, self.pace, self.first = data, pace, first
        self.answer, self.sent, self.ended = b"", 0, None
        with Slow.lock:
            Slow.open_now += 1
        self.start()

    def run(self):
        s, start = self.sock, time.time()
        s.setblocking(False)
        try:
            if self.first:
                s.sendall(self.data[:self.first])
                self.sent = self.first
            while time.time() - start < GIVE_UP:
                try:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    self.answer += chunk
                    continue
                except BlockingIOError:
                    pass
                if self.pace and self.sent < len(self.data):
                    s.send(self.data[self.sent:self.sent + 1])
                    self.sent += 1
                time.sleep(self.pace or 0.05)
        except OSError:
            pass
        self.ended = time.time() - start
        with Slow.lock:
            Slow.open_now -= 1
        s.close()

    def code(self):
        return fault.parse_answer(self.answer)[0]


def loris_head():
    # Too long to complete at 4 bytes/s within GIVE_UP: only the device ends it.
    return b"POST /upload HTTP/1.1\r\nHost: device\r\nX-Pad: " + b"a" * 400 + b"\r\n\r\n"


def timed_status(dev):
    t = time.time()
    try:
        code, _, doc = dev.request(b"GET /status HTTP/1.1\r\n\r\n", timeout=3)
    except OSError as e:
        code, doc = 0, {"error": str(e)}
    return code, doc, time.time() - t


def main():
    a = fault.args()
    v1, v2 = fault.module(a, "small_1"), fault.module(a, "small_2")
    work = fault.workdir("slow")
    key, keyfile = fault.hrtest.raw_key(work, "key")
    dev = fault.start(a, work, key, keyfile)
    code, _, doc = dev.request(dev.signed("/upload-and-reload", v1))
    st = fault.wait_confirmed(dev)
    if not check(code == 200 and st is not None, f"the good module (value 11) runs: {code} {doc}"):
        return fault.hrtest.summary("fault_slow")
    gen, stored = st["generation"], st["stored"]
    first = len(dev.lines)

    # 1. Five trickling heads and a stalled upload: 6 of the 8 connections,
    # leaving room for /status and a second upload while closed ones are reaped.
    stall_req = dev.signed("/upload", v2)
    stall_at = stall_req.index(b"\r\n\r\n") + 4 + len(v2) // 2
    loris = [Slow(dev.port, loris_head()) for _ in range(5)]
    stalled = Slow(dev.port, stall_req, pace=0, first=stall_at)
    time.sleep(1)
    for i in range(5):
        held = Slow.open_now
        code, doc, took = timed_status(dev)
        check(code == 200 and held == 6, f"GET /status {i + 1} answers 200 in {took:.2f} s while "
              f"{held} slow clients are connected: {code}")
        time.sleep(0.3)
    for _ in range(10):
        # The /status connections just closed may not be reaped yet: 503 then.
        code, _, doc = dev.request(dev.signed("/upload", v2))
        if code != 503:
            break
        time.sleep(0.2)
    check(code == 409 and "another upload" in doc.get("error", ""),
          f"an upload while the stalled one holds the storage: 409: {code} {doc}")
    for c in loris + [stalled]:
        c.join(GIVE_UP + 5)
    for i, c in enumerate(loris):
        check(c.code() == 408, f"trickling head {i + 1}: dropped with 408 after {c.sent} bytes "
              f"and {c.ended:.1f} s: {c.answer[:40]!r}")
    code, _, doc = fault.parse_answer(stalled.answer)
    check(code == 408 and f"after {len(v2) // 2} of {len(v2)} body bytes; nothing was stored"
          in doc.get("error", ""), f"the stalled upload: 408 after {stalled.ended:.1f} s: "
          f"{code} {doc}")
    st = dev.main()
    check(st["generation"] == gen and st.get("stored") == stored, "/status: the same module "
          "runs, the same image stored")
    images = fault.check_storage(dev, {fault.sha(v1), fault.sha(v2)}, "after the stall")
    check([m["sha256"] for m in images] == [fault.sha(v1)], "nothing of the stalled upload stored")

    # 2. Twelve trickling connections: over the limit of 8. The device closes
    # its side of phase 1's connections just after they did.
    time.sleep(0.5)
    end = time.time() + 10
    while timed_status(dev)[0] != 200 and time.time() < end:
        time.sleep(0.1)
    loris = []
    for _ in range(12):
        loris.append(Slow(dev.port, loris_head()))
        time.sleep(0.05)
    time.sleep(1)
    busy = [c for c in loris if c.code() == 503]
    check(len(busy) == 4 and all(b"too many connections" in c.answer for c in busy),
          f"the 4 connections over the limit of 8 got 503 at once: {len(busy)}")
    code, doc, took = timed_status(dev)
    check(code == 503, f"GET /status while 8 slow clients hold every connection: 503 in "
          f"{took:.2f} s (the documented limit): {code} {doc}")
    end, code = time.time() + 20, 0
    while time.time() < end:
        code, doc, took = timed_status(dev)
        if code == 200:
            break
        time.sleep(0.25)
    check(code == 200, f"GET /status answers 200 again once the device has dropped the slow "
          f"clients: {code}")
    for c in loris:
        c.join(GIVE_UP + 5)
    held = [c for c in loris if c not in busy]
    check(all(c.code() == 408 for c in held), f"the 8 held connections were dropped with 408: "
          f"{[c.code() for c in held]}")

    st = dev.main()
    check(st["generation"] == gen and st.get("stored") == stored, "/status: still the same module")
    check(dev.values_since(first) == {11}, "the firmware printed only value 11 throughout")
    code, _, doc = dev.request(dev.signed("/upload-and-reload", v2))
    check(code == 200 and dev.value() == 12, f"an upload afterwards works: {code} {doc}")
    check(dev.stop() == 0, "clean stop")
    return fault.hrtest.summary("fault_slow")


if __name__ == "__main__":
    sys.exit(main())
