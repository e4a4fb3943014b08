#!/usr/bin/python3
"""hotd's arguments, the same in every command: options and defaults from
the environment.

Every command answers --help on stdout with status 0, and refuses an unknown
option, a missing value or a value given to a flag with status 2, naming the
argument and pointing to 'hotd COMMAND --help'. An empty $HOTRELOAD_URL,
$HOTRELOAD_BUILD or $HOTRELOAD_SERIAL counts as unset (the built-in default
applies) and an option given wins over the variable, in push, status and
watch alike. No device is needed: the tests
read which URL or directory a command went for from what it says, and a
listener on 127.0.0.1:8080 (the default device) takes the connections meant
for it, so that nothing else on this machine gets them.

usage: options_test.py --hotd HOTD
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402

DEFAULT_URL = "http://127.0.0.1:8080"
REFUSED = "http://127.0.0.1:1"  # nothing listens on port 1: refused at once
OTHER = "http://127.0.0.1:2"


class DefaultDevice:
    """127.0.0.1:8080 held by the test: each connection is closed unanswered.
    None of it when the port is taken (the checks needing it are skipped)."""

    def __init__(self):
        self.sock = socket.socket()
        try:
            self.sock.bind(("127.0.0.1", 8080))
        except OSError:
            self.sock.close()
            self.sock = None
            print("options_test: 127.0.0.1:8080 is in use: default-URL pushes not tried")
            return
        self.sock.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()

    def close(self):
        if self.sock:
            self.sock.close()


class Runner:
    def __init__(self, hotd, cwd):
        self.hotd, self.cwd = hotd, cwd
        # The caller's own settings must not decide what is tested.
        self.base = {k: v for k, v in os.environ.items()
                     if not k.startswith("HOTRELOAD_") and k != "NO_COLOR"}

    def run(self, *argv, env=None):
        """(returncode, stdout + stderr) of hotd argv with env added."""
        r = subprocess.run([self.hotd, *argv], cwd=self.cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                           timeout=60, env=dict(self.base, **(env or {})))
        return r.returncode, r.stdout

    def watch_banner(self, *argv, env=None):
        """The line `hotd watch` starts with ("watching ... pushing to URL"); then
        it is stopped."""
        p = subprocess.Popen([self.hotd, "watch", *argv], cwd=self.cwd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                             env=dict(self.base, **(env or {})))
        lines = hrtest.Lines(p.stdout, alive=lambda: p.poll() is None)
        found = lines.search(r"pushing to ", 10)
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        return found[1].string if found else lines.text()


def fake_build(root):
    """A build directory with one watchable module (modules/m.watch) and a key."""
    build = os.path.join(root, "fake-build")
    src = os.path.join(root, "src")
    os.makedirs(os.path.join(build, "modules"))
    os.makedirs(src)
    with open(os.path.join(build, "modules", "m.watch"), "w") as f:
        f.write(src + "\n")
    with open(os.path.join(build, "hotreload.key"), "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    with open(os.path.join(build, "modules", "m.img"), "wb") as f:
        f.write(b"\x7fELF not really a module")
    return build


# Each command, an option of it that takes a value and a flag (None: it has none).
COMMANDS = [
    ("relocate", "--text", "--quiet"),
    ("build-id", "-o", None),
    ("abi", "--dir", None),
    ("bind", "--firmware", "--absolute"),
    ("stubs", "--arch", None),
    ("push", "--url", "--json"),
    ("status", "--url", "--json"),
    ("watch", "--debounce", "--push-now"),
    ("console", "--serial", None),
]


def usage_errors(r):
    for cmd, valued, flag in COMMANDS:
        hint = f"try 'hotd {cmd} --help'"
        rc, out = r.run(cmd, "--help")
        check(rc == 0 and out.startswith(f"usage: hotd {cmd}") and "-h, --help" in out,
              f"{cmd} --help: status {rc}: {out}")
        rc, out = r.run(cmd, "-h")
        check(rc == 0 and out.startswith(f"usage: hotd {cmd}"), f"{cmd} -h: status {rc}: {out}")
        rc, out = r.run(cmd, "--bogus")
        check(rc == 2 and "unknown option '--bogus'" in out and hint in out,
              f"{cmd} --bogus: status {rc}: {out}")
        rc, out = r.run(cmd, valued)
        check(rc == 2 and f"option '{valued}' needs a value" in out and hint in out,
              f"{cmd} {valued} without its value: status {rc}: {out}")
        if flag:
            rc, out = r.run(cmd, flag + "=1")
            check(rc == 2 and f"option '{flag}' takes no value" in out and hint in out,
                  f"{cmd} {flag}=1: status {rc}: {out}")
    rc, out = r.run("status", "one", "two")
    check(rc == 2 and "unexpected argument 'one'" in out, f"status takes no operand: {out}")
    rc, out = r.run("watch", "--debounce", "soon")
    check(rc == 2 and "'--debounce'" in out and "'soon'" in out, f"watch --debounce soon: {out}")
    rc, out = r.run("--watch", "--help")
    check(rc == 0 and out.startswith("usage: hotd watch"), f"hotd --watch --help: {out}")
    rc, out = r.run("frobnicate")
    check(rc == 2 and "unknown command 'frobnicate'" in out, f"an unknown command: {out}")


def env_rule(r, build, device):
    # status: the device from $HOTRELOAD_URL; empty means the default; --url wins.
    rc, out = r.run("status", env={"HOTRELOAD_URL": REFUSED})
    check(rc == 1 and REFUSED in out, f"status takes $HOTRELOAD_URL: {out}")
    rc, out = r.run("status", env={"HOTRELOAD_URL": ""})
    check(DEFAULT_URL in out and REFUSED not in out,
          f"status: an empty $HOTRELOAD_URL is unset: {out}")
    rc, out = r.run("status", "--url", OTHER, env={"HOTRELOAD_URL": REFUSED})
    check(rc == 1 and OTHER in out and REFUSED not in out, f"status: --url wins: {out}")

    # watch: the build and the device, each from its variable, empty = unset.
    rc, out = r.run("watch", env={"HOTRELOAD_BUILD": ""})
    check(rc == 1 and "build directory build:" in out,
          f"watch: an empty $HOTRELOAD_BUILD is unset (./build): {out}")
    rc, out = r.run("watch", "--build", "/nonexistent/b", env={"HOTRELOAD_BUILD": "/nonexistent/a"})
    check(rc == 1 and "/nonexistent/b" in out and "/nonexistent/a" not in out,
          f"watch: --build wins: {out}")
    line = r.watch_banner(env={"HOTRELOAD_BUILD": build, "HOTRELOAD_URL": REFUSED})
    check(line.endswith("pushing to " + REFUSED), f"watch takes both variables: {line}")
    line = r.watch_banner(env={"HOTRELOAD_BUILD": build, "HOTRELOAD_URL": ""})
    check(line.endswith("pushing to " + DEFAULT_URL),
          f"watch: an empty $HOTRELOAD_URL is unset: {line}")
    line = r.watch_banner("--build", build, "--url", OTHER, env={"HOTRELOAD_URL": REFUSED})
    check(line.endswith("pushing to " + OTHER), f"watch: --url wins: {line}")
    # watch --serial: as push, a line instead of a URL, from $HOTRELOAD_SERIAL when no --url.
    line = r.watch_banner("--build", build, "--serial", "tcp:127.0.0.1:1")
    check(line.endswith("pushing to tcp:127.0.0.1:1"), f"watch --serial: {line}")
    line = r.watch_banner("--build", build, env={"HOTRELOAD_SERIAL": "tcp:127.0.0.1:2"})
    check(line.endswith("pushing to tcp:127.0.0.1:2"), f"watch: $HOTRELOAD_SERIAL: {line}")
    rc, out = r.run("watch", "--build", build, "--serial", "tcp:127.0.0.1:1", "--url", OTHER)
    check(rc == 2 and "exclude" in out, f"watch: --serial with --url: {rc} {out}")

    # push: the same for the build; an empty $HOTRELOAD_SERIAL is no serial line.
    rc, out = r.run("push", env={"HOTRELOAD_BUILD": ""})
    check(rc == 1 and "build/modules" in out,
          f"push: an empty $HOTRELOAD_BUILD is unset (./build): {out}")
    rc, out = r.run("push", "--build", "/nonexistent/b", env={"HOTRELOAD_BUILD": "/nonexistent/a"})
    check(rc == 1 and "/nonexistent/b/modules" in out and "/nonexistent/a" not in out,
          f"push: --build wins: {out}")
    rc, out = r.run("push", env={"HOTRELOAD_BUILD": build, "HOTRELOAD_URL": REFUSED,
                                 "HOTRELOAD_SERIAL": ""})
    check(rc == 1 and out.startswith(REFUSED + ": failed"),
          f"push: an empty $HOTRELOAD_SERIAL is unset (HTTP to $HOTRELOAD_URL): {out}")
    rc, out = r.run("push", "--url", OTHER, env={"HOTRELOAD_BUILD": build,
                                                 "HOTRELOAD_URL": REFUSED})
    check(rc == 1 and out.startswith(OTHER + ": failed") and REFUSED not in out,
          f"push: --url wins: {out}")
    if device.sock:
        rc, out = r.run("push", env={"HOTRELOAD_BUILD": build, "HOTRELOAD_URL": ""})
        check(rc == 1 and out.startswith(DEFAULT_URL + ": failed"),
              f"push: an empty $HOTRELOAD_URL is unset: {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hotd_options_")
    device = DefaultDevice()
    try:
        cwd = os.path.join(tmp, "cwd")  # no ./build here
        os.makedirs(cwd)
        r = Runner(os.path.abspath(args.hotd), cwd)
        usage_errors(r)
        env_rule(r, fake_build(tmp), device)
    except AssertionError as e:
        check(False, str(e))
    finally:
        device.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return hrtest.summary("hotd_options")


if __name__ == "__main__":
    raise SystemExit(main())
