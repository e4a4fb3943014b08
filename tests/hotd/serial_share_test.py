#!/usr/bin/python3
"""One serial line, one owner: hotd console holds it, pushes go through it.

The device is tests/device/fw.c with its console on a local TCP port
(--console-port 0), served as QEMU serves a UART: one client at a time, the
firmware's output on the line too. The test shows

- the device's console is reachable on that port, and a second client is
  refused with the reason (so anything that pushes while hotd console holds
  the line must go through the console);
- with `hotd console` on the line, `hotd push --serial`, the console's own
  `push` command and `hotd watch --serial` all reach the device through it;
  the console's monitor keeps showing the device's output and the pushes'
  outcomes, and none of their protocol lines (ack, nak, ok, error, indented);
- the serial progress bar: drawn on a pseudo-terminal for a push slowed by a
  throttling bridge (bytes, rate, time left), and never on a pipe.

hotd watch builds through ninja: the test's build folder has a build.ninja
whose NAME_image target copies the module from a watched folder, so an
"edit" is a new module copied there.
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
from hrtest import check  # noqa: E402

# The console's answer to `nonce` (docs/serial.md), and the lines of a push
# a monitor must not show.
NONCE_ANSWER = rb"^ok [0-9a-f]+ \d+(?: deflate)?$"
PUSH_LINE = r"^(ack|nak) |^ok [0-9a-f]{16,} \d+(?: deflate)?$"
# What the monitor must never show of a push: the protocol's own lines.
PROTOCOL = re.compile(r"^(ok|error|ack|nak)( |$)|^  \S")


class TcpDevice:
    """device_fw with its console on 127.0.0.1:PORT (its stdout collected too)."""

    def __init__(self, fw, storage, keyfile):
        os.makedirs(storage, exist_ok=True)
        self.proc = hrtest.start_fw(fw, storage, keyfile, ["--console-port", "0"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
        self.out = hrtest.Lines(self.proc.stdout, alive=lambda: self.proc.poll() is None)
        port = self.out.expect(r"^console on tcp:127\.0\.0\.1:(\d+)$", 10)[1].group(1)
        self.spec = f"tcp:127.0.0.1:{port}"
        self.port = int(port)

    def value(self):
        n = self.out.mark()
        return int(self.out.expect(r"^value=(-?\d+)", 10, n)[1].group(1))


class Console:
    """hotd console on a line, run as a script would: commands on its stdin,
    which stays open until close()."""

    def __init__(self, hotd, spec, build, env):
        self.proc = subprocess.Popen([hotd, "console", "--serial", spec, "--build", build],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env)
        self.out = hrtest.Lines(self.proc.stdout, alive=lambda: self.proc.poll() is None)
        self.out.expect(r"^hotd console: on tcp:.*pushes go through this console", 10)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def protocol_lines(self, after=0):
        return [l for l in self.out.lines[after:] if PROTOCOL.search(l)]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


class SlowBridge(hrtest.ConsoleBridge):
    """device_fw's stdin/stdout console behind a TCP bridge that passes the
    host's bytes at about 2 KB/s: a push of a few KB then takes seconds, as
    over a slow UART. The device offers frames of 256 bytes, so that the acks
    (and the bar) move several times during such a push: with 1 KiB frames a
    small module is all in the first window, and its acks come at once."""

    def __init__(self, fw, storage, keyfile):
        super().__init__()
        os.makedirs(storage, exist_ok=True)
        self.proc = hrtest.start_fw(fw, storage, keyfile, ["--console-frame", "256"],
                                    stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.out = hrtest.Lines(self.proc.stdout, self.forward,
                                alive=lambda: self.proc.poll() is None)
        self.start_bridge()
        self.out.expect(r"listening on \d+", 10)

    def to_fw(self, data):
        time.sleep(len(data) / 2000)
        return data


def ninja_build(root, name, key, module):
    """A build folder hotd watch can drive: build.ninja's main_image copies
    src/main.o (the watched folder) to modules/main.img."""
    build = hrtest.make_build(root, name, key)
    src = os.path.join(root, name + "_src")
    os.makedirs(src)
    shutil.copy(module, os.path.join(src, "main.o"))
    with open(os.path.join(build, "modules", "main.watch"), "w") as f:
        f.write(src + "\n")
    with open(os.path.join(build, "build.ninja"), "w") as f:
        f.write("rule cp\n  command = cp $in $out\n"
                f"build modules/main.img: cp {src}/main.o\n"
                "build main_image: phony modules/main.img\n")
    return build, src


def device_console(args, tmp, key, rawkey, env):
    mod = lambda name: os.path.join(args.modules, name)
    dev = TcpDevice(args.fw, os.path.join(tmp, "store"), rawkey)
    con = watch = None
    try:
        # The console answers on its port; a second client is told it is taken.
        with socket.create_connection(("127.0.0.1", dev.port), timeout=10) as first:
            first.sendall(b"nonce\n")
            with socket.create_connection(("127.0.0.1", dev.port), timeout=10) as second:
                second.sendall(b"nonce\n")
                refused = second.makefile("rb").readline().decode()
            seen = b""
            while not (re.search(NONCE_ANSWER, seen, re.M) and b"value=" in seen):
                chunk = first.recv(4096)
                if not chunk:
                    break
                seen += chunk
        check(re.search(NONCE_ANSWER, seen, re.M), f"nonce over TCP: {seen[-200:]!r}")
        check(b"value=" in seen, "the line carries the firmware's output too")
        check(refused.startswith("error the console is in use by another client"),
              f"a second client is refused with the reason: {refused!r}")

        build = hrtest.make_build(tmp, "build", key, mod("dev_v1.o"))
        con = Console(args.hotd, dev.spec, build, env)

        # hotd push --serial while the console holds the line: through it.
        m0 = con.out.mark()
        rc, out, err = hrtest.run(args.hotd, "push", "--serial", dev.spec, "--build", build,
                                  env=env)
        check(rc == 0 and out.startswith(f"{dev.spec}: ok, module 'main' generation 1"),
              f"push --serial beside the console: rc={rc} {out!r} {err!r}")
        check(dev.value() == 1, "the device runs v1")
        con.out.expect(r"^hotd console: push: reloaded module 'main' generation 1", 10, m0)
        con.out.expect(r"^value=1 ", 10, m0)  # the monitor still shows the device

        # The user's own commands still show their answers.
        m1 = con.out.mark()
        con.send("status")
        con.out.expect(r'^ok \{.*"generation":1', 10, m1)
        pushed = [l for l in con.out.lines[m0:m1] if PROTOCOL.search(l)]
        check(not pushed, f"no protocol line of the push: {pushed[:5]}")
        con.send("help")  # the device's commands, and the console's own push
        at = con.out.expect(r"^  push \[module\] \[options\]  \(hotd console\)", 10, m1)[0]
        con.out.expect(r"^ok$", 10, at)  # help's own last line, shown after the one above

        # The console's own push (v2 stored), then its reload.
        shutil.copy(mod("dev_v2.o"), os.path.join(build, "modules", "main.img"))
        m2 = con.out.mark()
        con.send("push --no-reload")
        con.out.expect(rf"^{re.escape(dev.spec)}: ok, stored module 'main'", 30, m2)
        con.send("reload")
        con.out.expect(r"^ok reloaded module 'main' generation 2", 15, m2)
        check(dev.value() == 2, "the console's push: the device runs v2")
        pushed = con.out.lines[m2:]
        check(not [l for l in pushed if re.match(PUSH_LINE, l)],
              f"the console's push shows no protocol line: {pushed[:8]}")

        # hotd watch --serial: each "edit" rebuilt and pushed through the console.
        wbuild, src = ninja_build(tmp, "wbuild", key, mod("dev_v1.o"))
        m3 = con.out.mark()
        watch = subprocess.Popen([args.hotd, "watch", "--serial", dev.spec, "--build", wbuild,
                                  "--push-now"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, env=env)
        wout = hrtest.Lines(watch.stdout, alive=lambda: watch.poll() is None)
        cycle = r"^main: built \d+ ms, upload \d+ ms, device \d+ ms — generation (\d+)"
        first_gen = int(wout.expect(cycle, 30)[1].group(1))
        check(first_gen == 3 and dev.value() == 1, f"watch --serial --push-now: gen {first_gen}")
        w0 = wout.mark()
        shutil.copy(mod("dev_v2.o"), os.path.join(src, "main.o"))
        gen = int(wout.expect(cycle, 30, w0)[1].group(1))
        check(gen == 4 and dev.value() == 2, f"an edit pushed by watch --serial: gen {gen}")
        con.out.expect(r"^hotd console: push: reloaded module 'main' generation 4", 10, m3)
        later = [l for l in con.out.lines[m2:] if PROTOCOL.search(l)]
        expected = ["ok reloaded module 'main' generation 2"]  # the answer to the user's reload
        check(later == expected, f"the monitor shows no protocol line of any push: {later[:8]}")
        watch.send_signal(2)
        check(watch.wait(20) == 0, "watch --serial stops on SIGINT")
        half_upload(con, key, mod("dev_v1.o"), args.hotd, dev, build, env)
        check(con.close() == 0, "the console ends with its input")
    finally:
        for p in (watch, con and con.proc):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        hrtest.stop(dev.proc)


def half_upload(con, key, module, hotd, dev, build, env):
    """A push that goes away after the device took its upload: the console
    aborts the upload, so the next push is not ignored by a device waiting
    for frames. The push is spoken by hand on the console's socket."""
    folder = os.path.join(env["XDG_RUNTIME_DIR"], "hotd")
    socks = [f for f in os.listdir(folder) if f.endswith(".sock")]
    check(len(socks) == 1, f"the console serves one socket: {socks}")
    m0 = con.out.mark()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.path.join(folder, socks[0]))
        s.settimeout(10)
        f = s.makefile("rb")
        s.sendall(b"nonce\n")
        line = b""
        while not re.match(NONCE_ANSWER, line):
            line = f.readline().rstrip(b"\n")
            check(line, "the nonce comes through the console")
            if not line:
                return
        nonce, last = line.split()[1:3]
        body = open(module, "rb").read()
        sha = hashlib.sha256(body).hexdigest()
        counter = str(int(last) + 1)
        mac = hrtest.hr1_mac(key, "SERIAL", "upload main", nonce.decode(), counter, sha)
        s.sendall(f"upload main {len(body)} {sha} HR1 counter={counter}, mac={mac}\n".encode())
        while not line.startswith(b"ack 0"):
            line = f.readline()
            check(line, "the upload's ack 0 comes through the console")
            if not line:
                return
        f.close()  # the socket's file holds it open: the push is gone only once both close
    con.out.expect(r"^hotd console: a push ended in the middle of its upload: aborting it",
                   10, m0, also=lambda: "\n".join(l for l in con.out.lines[m0:]
                                                  if not l.startswith("value=")))
    con.out.expect(r"^error upload aborted", 15, m0)
    rc, out, err = hrtest.run(hotd, "push", "--serial", dev.spec, "--build", build, env=env)
    check(rc == 0 and "ok, module 'main'" in out, f"a push after the half upload: {out!r}")


def progress(args, tmp, key, rawkey, env):
    build = hrtest.make_build(tmp, "pbuild", key, os.path.join(args.modules, "dev_v1.o"))
    size = os.path.getsize(os.path.join(build, "modules", "main.img"))
    check(size > 2000, f"the module takes over a second at 2 KB/s ({size} bytes)")
    dev = SlowBridge(args.fw, os.path.join(tmp, "pstore"), rawkey)
    try:
        # Uncompressed: the module's whole size goes at 2 KB/s.
        rc, out, term = hrtest.run_pty(args.hotd, "push", "--serial", dev.spec, "--build",
                                       build, "--no-compress", env=env)
        check(rc == 0 and "generation 1" in out, f"a slow push: {rc} {out!r}")
        bars = hrtest.PROGRESS_BAR.findall(term)
        check(bars, f"a progress bar on the terminal: {term[-300:]!r}")
        check(any("ETA" in rest for _, rest in bars), f"a time left while bytes go: {bars}")
        check(any(pct == "100" and "the device checks and stores it" in rest
                  for pct, rest in bars), f"the bar says when every byte is out: {bars[-2:]}")
        check(term.endswith("\r\x1b[K"), f"the bar is cleared at the end: {term[-40:]!r}")
        # Not a terminal: no bar, whatever the push takes.
        rc, out, err = hrtest.run(args.hotd, "push", "--serial", dev.spec, "--build", build,
                                  env=env)
        check(rc == 0 and "generation 2" in out and "KiB/s" not in err and "\r" not in err,
              f"no bar on a pipe: {rc} {out!r} {err!r}")
    finally:
        dev.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--fw", required=True)
    ap.add_argument("--modules", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hotd_share_")
    # The console's socket in a folder of this test's own.
    runtime = os.path.join(tmp, "run")
    os.mkdir(runtime, 0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, NO_COLOR="1")
    try:
        key, rawkey = hrtest.raw_key(tmp)
        device_console(args, tmp, key, rawkey, env)
        progress(args, tmp, key, rawkey, env)
    except AssertionError as e:
        check(False, str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return hrtest.summary("hotd_serial_share")


if __name__ == "__main__":
    raise SystemExit(main())
