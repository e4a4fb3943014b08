#!/usr/bin/python3
"""Slow clients (slow-loris) against the simulated device's connections
(issue 16 item 2: ten trickling sockets used to lock the update channel).
1. a signed upload that stalls halfway through its body, beside two
   trickling heads: GET /status answers, a second upload is refused as busy
   (409); the trickling heads end with 408 (a head must be complete 2 s
   after the accept), the stalled upload with 408 after 5 s of silence, and
   nothing of it was stored;
2. the limits, with connections that send a head byte by byte: six from one
   address: the two oldest are dropped for the newer ones (4 per address,
   answered 503 "dropped"), the rest end 408 at the head deadline; four
   from each of two addresses hold all 8, and a ninth from a third address
   drops the oldest of all, only it;
3. the attack of the issue: ten trickling sockets reconnecting as soon as
   they are closed, while /status is probed from the same address: the
   application keeps its pace (heartbeats against a quiet period of the same
   length measured in this run) and /status answers 200 to >= 90 % of
   probes.
The running module never changes; an upload afterwards works."""
import socket
import sys
import threading
import time

import fault
from fault import check

GIVE_UP = 25  # seconds a slow client keeps going before the test gives up on it
WINDOW = 8    # seconds of each measured period in part 3


class Slow(threading.Thread):
    """One connection (from `source`) sending `data` a byte every `pace`
    seconds (after `first` bytes at once), reading whatever the device
    answers, until the device closes it."""

    def __init__(self, port, data, pace=0.25, first=0, source="127.0.0.1"):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                             source_address=(source, 0))
        self.data, self.pace, self.first = data, pace, first
        self.answer, self.sent, self.ended = b"", 0, None
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
        s.close()

    def code(self):
        return fault.parse_answer(self.answer)[0]

    def dropped(self):
        return self.code() == 503 and b"dropped before the request head" in self.answer


def loris_head():
    # Too long to complete at 4 bytes/s within GIVE_UP: only the device ends it.
    return b"POST /upload HTTP/1.1\r\nHost: device\r\nX-Pad: " + b"a" * 400 + b"\r\n\r\n"


def status_code(dev):
    try:
        return dev.request(b"GET /status HTTP/1.1\r\n\r\n", timeout=3)[0]
    except OSError:
        return 0


def stalled_upload(dev, v2):
    stall_req = dev.signed("/upload", v2)
    stall_at = stall_req.index(b"\r\n\r\n") + 4 + len(v2) // 2
    stalled = Slow(dev.port, stall_req, pace=0, first=stall_at)
    loris = [Slow(dev.port, loris_head()) for _ in range(2)]
    time.sleep(0.5)
    codes = [status_code(dev) for _ in range(5)]
    check(codes == [200] * 5, f"GET /status answers while a stalled upload and two trickling "
          f"heads are connected: {codes}")
    code, _, doc = dev.request(dev.signed("/upload", v2))
    check(code == 409 and "another upload" in doc.get("error", ""),
          f"an upload while the stalled one holds the storage: 409: {code} {doc}")
    for c in loris + [stalled]:
        c.join(GIVE_UP + 5)
    for i, c in enumerate(loris):
        check(c.code() == 408 and c.sent < len(c.data), f"trickling head {i + 1}: 408 before "
              f"its head was complete ({c.sent} bytes, {c.ended:.1f} s): {c.answer[:60]!r}")
    code, _, doc = fault.parse_answer(stalled.answer)
    check(code == 408 and f"after {len(v2) // 2} of {len(v2)} body bytes; nothing was stored"
          in doc.get("error", ""), f"the stalled upload: 408 after {stalled.ended:.1f} s: "
          f"{code} {doc}")


def limits(dev):
    six = []
    for _ in range(6):
        six.append(Slow(dev.port, loris_head()))
        time.sleep(0.02)
    for c in six:
        c.join(GIVE_UP + 5)
    got = ["dropped" if c.dropped() else c.code() for c in six]
    check(got == ["dropped"] * 2 + [408] * 4, f"six trickling heads from one address: the two "
          f"oldest dropped for newer ones (4 per address), the rest 408 at the deadline: {got}")
    eight = []
    for source in ("127.0.0.1", "127.0.0.2"):
        for _ in range(4):
            eight.append(Slow(dev.port, loris_head(), source=source))
            time.sleep(0.02)
    ninth = Slow(dev.port, loris_head(), source="127.0.0.3")
    for c in eight + [ninth]:
        c.join(GIVE_UP + 5)
    got = ["dropped" if c.dropped() else c.code() for c in eight + [ninth]]
    check(got == ["dropped"] + [408] * 8, f"4 + 4 trickling heads from two addresses, then one "
          f"from a third: only the oldest of all dropped: {got}")


class Trickler(threading.Thread):
    """A client sending a head a byte every 0.25 s and reconnecting as soon
    as the device closes its connection, until stopped."""

    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.port, self.stop, self.connections = port, stop, 0
        self.start()

    def run(self):
        head = loris_head()
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
                    self.connections += 1
                    for i in range(len(head)):
                        if self.stop.is_set():
                            break
                        s.sendall(head[i:i + 1])
                        time.sleep(0.25)
            except OSError:
                time.sleep(0.01)  # closed by the device: again at once


def measured(dev, seconds):
    """Probe /status every 0.2 s for `seconds`: (heartbeats, [codes])."""
    mark, codes, end = len(dev.lines), [], time.time() + seconds
    while time.time() < end:
        codes.append(status_code(dev))
        time.sleep(0.2)
    return sum(1 for l in dev.lines[mark:] if l.startswith("value=")), codes


def attack(dev):
    quiet, quiet_codes = measured(dev, WINDOW)
    stop = threading.Event()
    mark = dev.log_mark()
    attackers = [Trickler(dev.port, stop) for _ in range(10)]
    time.sleep(1)  # they hold their places before the measure starts
    beats, codes = measured(dev, WINDOW)
    stop.set()
    for t in attackers:
        t.join(5)
    ok = codes.count(200)
    conns = sum(t.connections for t in attackers)
    print(f"quiet {WINDOW} s: {quiet} heartbeats, /status {quiet_codes.count(200)}/"
          f"{len(quiet_codes)}; ten trickling sockets ({conns} connections): {beats} "
          f"heartbeats, /status {ok}/{len(codes)}")
    check(quiet > 0 and beats >= 0.9 * quiet, f"the application keeps its pace under attack: "
          f"{beats} heartbeats against {quiet} in a quiet period as long")
    check(ok >= 0.9 * len(codes), f"/status answers 200 to >= 90 % of probes under attack: "
          f"{ok} of {len(codes)}: {[c for c in codes if c != 200]}")
    check(conns > 10, f"the attackers were dropped and reconnected: {conns} connections")
    check(dev.err.search(r"hotreload: http: \d+ connections? still sending", 5, mark),
          "the log counts the dropped connections")


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

    stalled_upload(dev, v2)
    st = dev.main()
    check(st["generation"] == gen and st.get("stored") == stored, "/status: the same module "
          "runs, the same image stored")
    images = fault.check_storage(dev, {fault.sha(v1), fault.sha(v2)}, "after the stall")
    check([m["sha256"] for m in images] == [fault.sha(v1)], "nothing of the stalled upload stored")
    limits(dev)
    attack(dev)

    st = dev.main()
    check(st["generation"] == gen and st.get("stored") == stored, "/status: still the same module")
    check(dev.values_since(first) == {11}, "the firmware printed only value 11 throughout")
    code, _, doc = dev.request(dev.signed("/upload-and-reload", v2))
    check(code == 200 and dev.value() == 12, f"an upload afterwards works: {code} {doc}")
    check(dev.stop() == 0, "clean stop")
    return fault.hrtest.summary("fault_slow")


if __name__ == "__main__":
    sys.exit(main())
