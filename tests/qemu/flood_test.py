#!/usr/bin/python3
"""Issue 16, attack 1, on the rv32 device in real QEMU: six sockets that each
send one byte and reconnect as soon as the device closes them must not take
the application's main loop (the server's poll does bounded work) nor its
update channel.

Boots the example (a heartbeat line a second, hotreload_server_poll in the
same loop), pushes its module over HTTP, then counts heartbeats and /status
probes (two a second, each its own connection) for WINDOW seconds without
the attack and WINDOW seconds with it, in this run: with the attack the
device must print at least 90 % of the heartbeats it printed without, and
answer at least 90 % of the probes 200. An authenticated push during the
attack must still switch the module. Then three clients send well-formed HR2
requests with random signatures, two a second each, for SIG_WINDOW seconds: the device
verifies at most 8 (it pauses its checks after two wrong ones, 429), and
heartbeats and probes hold the same 90 %.
"""
import argparse
import os
import re
import shutil
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402

import qemu_board  # noqa: E402
from example_test import V2, Modules  # noqa: E402

WINDOW = 15.0  # seconds measured without, then with, the attack
ATTACKERS = 6
SIG_ATTACKERS = 3
SIG_RATE = 2  # requests a second per signature attacker: a verify each, without the pause
SIG_WINDOW = 30.0  # the pauses double: the attack's share of the CPU falls with time
HEARTBEAT = r"\| count (\d+)$"


class Threads:
    """Attacker threads: `threads` running until end()."""

    def start(self):
        for t in self.threads:
            t.start()

    def end(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)


class Attack(Threads):
    """ATTACKERS threads: connect, send one byte, wait until the device
    closes (or resets), reconnect at once."""

    def __init__(self, port):
        self.port, self.stop = port, threading.Event()
        self.connections = self.closed_by_device = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._one, daemon=True)
                        for _ in range(ATTACKERS)]

    def _one(self):
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            except OSError:
                time.sleep(0.01)
                continue
            with self.lock:
                self.connections += 1
            try:
                s.sendall(b"G")
                s.settimeout(0.5)
                while not self.stop.is_set():
                    try:
                        if not s.recv(4096):
                            break
                    except socket.timeout:
                        continue
                else:
                    continue
                with self.lock:
                    self.closed_by_device += 1
            except OSError:
                with self.lock:
                    self.closed_by_device += 1
            finally:
                s.close()


class SigAttack(Threads):
    """SIG_ATTACKERS threads sending well-formed HR2 requests with random
    signatures back to back: each would cost the device a full ECDSA verify
    (36 M instructions) but for the pause after wrong signatures."""

    def __init__(self, port, nonce):
        self.port, self.nonce, self.stop = port, nonce, threading.Event()
        self.codes = {}
        self.lock = threading.Lock()
        self.counter = int(time.time() * 1000) + 10**9
        self.threads = [threading.Thread(target=self._one, daemon=True)
                        for _ in range(SIG_ATTACKERS)]

    def _one(self):
        while not self.stop.is_set():
            t = time.time()
            with self.lock:
                self.counter += 1
                n = self.counter
            req = (f"POST /unload?module=greet HTTP/1.1\r\nHost: device\r\n"
                   f"Authorization: HR2 counter={n}, sig={os.urandom(64).hex()}\r\n"
                   f"Content-Length: 0\r\n\r\n").encode()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    s.sendall(req)
                    raw = b""
                    while chunk := s.recv(4096):
                        raw += chunk
                code = hrtest.parse_answer(raw)[0]
            except OSError:
                code = 0
            with self.lock:
                self.codes[code] = self.codes.get(code, 0) + 1
            self.stop.wait(max(0.0, 1 / SIG_RATE - (time.time() - t)))


def probe(port):
    """One GET /status on its own connection: its status code (0: none)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(b"GET /status HTTP/1.1\r\nHost: device\r\n\r\n")
            raw = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                raw += chunk
        return hrtest.parse_answer(raw)[0]
    except OSError:
        return 0


def measure(dev, port, seconds):
    """(heartbeats per second, probes sent, probes answered 200) over about
    `seconds` (a probe that hangs may lengthen it: the rate counts the time
    it really took)."""
    mark = len(dev.lines)
    start = time.time()
    sent = ok = 0
    while time.time() < start + seconds:
        t = time.time()
        sent += 1
        ok += probe(port) == 200
        time.sleep(max(0.0, 0.5 - (time.time() - t)))
    beats = sum(1 for line in dev.lines[mark:] if re.search(HEARTBEAT, line))
    return beats / (time.time() - start), sent, ok


def signatures(dev, beats0):
    """Wrong HR2 signatures back to back: the device verifies a few, then
    pauses its checks (429), and the application keeps its pace."""
    nonce = None
    with socket.create_connection(("127.0.0.1", dev.http_port), timeout=5) as s:
        s.sendall(b"GET /status HTTP/1.1\r\nHost: device\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
        nonce = hrtest.parse_answer(raw)[2].get("nonce")
    attack = SigAttack(dev.http_port, nonce)
    attack.start()
    beats, sent, ok = measure(dev, dev.http_port, SIG_WINDOW)
    attack.end()
    verified, paused = attack.codes.get(403, 0), attack.codes.get(429, 0)
    print(f"with {SIG_ATTACKERS} clients sending wrong HR2 signatures: {beats:.2f} heartbeats/s "
          f"({beats / beats0:.0%}), /status {ok}/{sent} answered 200; answers {attack.codes}")
    check(paused >= 100 and verified <= 8,
          f"after 2 wrong signatures the device pauses its checks: {verified} verified (403), "
          f"{paused} paused (429) in {SIG_WINDOW:.0f} s")
    # The verifies the pause lets through (at most 8, 30 M instructions each)
    # are the application's only loss: at least 90 % (without the pause, 6
    # verifies a second left well under half). It was 80 % while module code
    # shared pages with the heap, which made QEMU run each verify 6-10 times
    # slower (agent/port/rv32-virt/platform.c).
    check(beats >= 0.9 * beats0,
          f"the application keeps its pace: {beats:.2f} heartbeats/s against {beats0:.2f}")
    check(ok >= 0.9 * sent, f"/status answers during the signature attack: {ok}/{sent}")


def main():
    ap = argparse.ArgumentParser()
    for opt in ("qemu", "hotd", "example", "cc", "cflags", "src", "work"):
        ap.add_argument("--" + opt, required=True)
    args = ap.parse_args()
    args.board = qemu_board.RV32
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    fw = os.path.join(args.example, "qemu_firmware")
    flash = os.path.join(args.work, "flash.bin")
    qemu_board.RV32.new_storage(flash)
    mods = Modules(args, args.work)
    v2 = mods.bind(mods.build("greet_v2"), fw)

    dev = qemu_board.Qemu(args.qemu, fw, os.path.join(args.work, "uart.log"), flash, net=True)
    url = f"http://127.0.0.1:{dev.http_port}"
    try:
        dev.wait(r"^device up")
        rc, out, err = hrtest.run(args.hotd, "push", "greet", "--build", args.example,
                                  "--url", url)
        check(rc == 0, f"hotd push --url before the attack: {out}{err}")
        dev.wait(qemu_board.v1_line(qemu_board.RV32), after=len(dev.lines))

        beats0, sent0, ok0 = measure(dev, dev.http_port, WINDOW)
        print(f"without attack: {beats0:.2f} heartbeats/s over {WINDOW:.0f} s, "
              f"/status {ok0}/{sent0} answered 200")
        check(beats0 >= 0.8 and ok0 == sent0,
              f"the baseline is sane: {beats0:.2f} heartbeats/s, {ok0}/{sent0} probes")

        attack = Attack(dev.http_port)
        attack.start()
        time.sleep(1)  # every attacker connected and waiting
        beats1, sent1, ok1 = measure(dev, dev.http_port, WINDOW)
        print(f"with {ATTACKERS} one-byte sockets: {beats1:.2f} heartbeats/s over "
              f"{WINDOW:.0f} s ({beats1 / beats0:.0%}), "
              f"/status {ok1}/{sent1} answered 200; {attack.connections} attacking "
              f"connections, {attack.closed_by_device} closed by the device")
        check(beats1 >= 0.9 * beats0,
              f"the application keeps its pace: {beats1:.2f} heartbeats/s against {beats0:.2f}")
        check(ok1 >= 0.9 * sent1, f"/status answers during the attack: {ok1}/{sent1}")
        check(attack.closed_by_device >= ATTACKERS,
              f"the device lets go of the attackers: {attack.closed_by_device} closed")

        mark = len(dev.lines)
        rc, out, err = hrtest.run(args.hotd, "push", v2, "--name", "greet", "--build",
                                  args.example, "--url", url)
        check(rc == 0 and "generation 2" in out, f"a push during the attack: {out}{err}")
        dev.wait(V2, after=mark)
        attack.end()
        check(dev.out.saw(r"^hotreload: http \? \? -> 408: request head not complete"),
              "the attackers' connections are answered 408 and logged")
        signatures(dev, beats0)
        check(not dev.out.saw(r"fatal trap|lwIP assertion"), "no trap, no lwIP assertion")
    finally:
        dev.stop()
    return hrtest.summary("qemu_http_flood")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
