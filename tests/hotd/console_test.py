#!/usr/bin/python3
"""hotd console against a real simulated device (tests/device/fw.c).

The device's console is its stdin/stdout (its log goes to stderr); the test
bridges both to a TCP socket, as QEMU exposes a UART, and runs `hotd console
--serial tcp:...` non-interactively on it. The device's `symbols` answer
prints each exported function's address: the console must follow it with
<function at v1.c:LINE>, LINE the one addr2line gives for the function's
entry, inside the function. Then
a version in which every function moved is stored over HTTP (hotd push
--no-reload), reloaded with the console's `reload`, and `symbols` again must
decode the new addresses to the same functions; and again after a reload
over HTTP, which the console only sees in the device's log.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402


class Lines(hrtest.Lines):
    def wait(self, regex, after=0, timeout=15):
        return self.expect(regex, timeout, after)


class Device(hrtest.ConsoleBridge):
    """device_fw with its console (stdin, stdout + stderr) on a TCP port."""

    def __init__(self, fw, storage, keyfile):
        super().__init__()
        self.proc = hrtest.start_fw(fw, storage, keyfile, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = Lines(self.proc.stdout, self.forward)
        self.err = Lines(self.proc.stderr, self.forward)
        self.start_bridge()
        port = self.out.wait(r"listening on (\d+)")[1].group(1)
        self.url = f"http://127.0.0.1:{port}"


def function_spans(source):
    """name -> (first, last) line of each `long name(void)` function in the source."""
    spans, name = {}, None
    with open(source) as f:
        for n, text in enumerate(f, 1):
            m = re.match(r"long (\w+)\(void\)", text)
            if m:
                name, first = m.group(1), n
            elif name and text.startswith("}"):
                spans[name], name = (first, n), None
    return spans


def addr2line(obj, name):
    """The line binutils gives for the entry of function `name` of obj's .text."""
    nm = subprocess.run(["nm", obj], capture_output=True, text=True).stdout
    off = re.search(r"^([0-9a-f]+) T " + name + "$", nm, re.M).group(1)
    out = subprocess.run(["addr2line", "-e", obj, "-j", ".text", "0x" + off],
                         capture_output=True, text=True).stdout
    return int(out.strip().rsplit(":", 1)[1])


SYMBOL = re.compile(r"^  (\w+) (0x[0-9a-f]+)(?: <([^>]*)>)? (func|data)$")


def symbols_block(con, after):
    """The decoded `symbols` answer following line `after`: name -> (addr, decoded)."""
    end, _ = con.wait(r"^ok \d+ symbols$", after)
    found = {}
    for line in con.lines[after:end]:
        m = SYMBOL.match(line)
        if m and m.group(4) == "func":
            found[m.group(1)] = (int(m.group(2), 16), m.group(3) or "")
    return end, found


def check_decoded(found, spans, obj, what):
    check(set(found) >= set(spans), f"{what}: functions listed: {sorted(found)}")
    for name, (first, last) in spans.items():
        decoded = found.get(name, (0, ""))[1]
        m = re.match(r"(\w+) at v1\.c:(\d+)$", decoded)
        line = addr2line(obj, name)
        check(m and m.group(1) == name and int(m.group(2)) == line and first <= line <= last,
              f"{what}: {name} decoded as <{decoded}>, expected {name} at v1.c:{line} "
              f"(the function spans lines {first}-{last})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--fw", required=True)
    ap.add_argument("--modules", required=True)
    ap.add_argument("--source", required=True, help="tests/device/mod/v1.c")
    args = ap.parse_args()
    expect = function_spans(args.source)
    tmp = tempfile.mkdtemp(prefix="hotd_console_")
    dev = con_proc = None
    try:
        r = subprocess.run([args.hotd, "console", "--help"], capture_output=True, text=True)
        check(r.returncode == 0 and "--serial" in r.stdout, "console --help")
        r = subprocess.run([args.hotd, "console"], capture_output=True, text=True)
        check(r.returncode == 2 and "--serial" in r.stderr, "console without --serial")

        key, rawkey = hrtest.raw_key(tmp)
        build = hrtest.make_build(tmp, "build", key)

        def install(name):
            for dest in ("main.img", "main.debug.o"):
                shutil.copy(os.path.join(args.modules, name),
                            os.path.join(build, "modules", dest))

        storage = os.path.join(tmp, "store")
        os.makedirs(storage)
        dev = Device(args.fw, storage, rawkey)
        install("dbg_v1.debug.o")
        r = subprocess.run([args.hotd, "push", "--build", build, "--url", dev.url],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "generation 1" in r.stdout, f"push v1: {r.stdout} {r.stderr}")

        con_proc = subprocess.Popen([args.hotd, "console", "--serial",
                                     f"tcp:127.0.0.1:{dev.serial_port}", "--build", build,
                                     "--firmware", args.fw],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        con = Lines(con_proc.stdout)

        def send(cmd):
            con_proc.stdin.write(cmd.encode() + b"\n")
            con_proc.stdin.flush()

        send("symbols")
        end, first = symbols_block(con, 0)
        check_decoded(first, expect, os.path.join(args.modules, "dbg_v1.debug.o"), "v1")

        # A version where every function sits elsewhere, stored over HTTP,
        # run by the console's reload: the console must follow it.
        install("dbg_moved.debug.o")
        r = subprocess.run([args.hotd, "push", "--no-reload", "--build", build, "--url", dev.url],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"push --no-reload moved: {r.stdout} {r.stderr}")
        send("reload")
        after, _ = con.wait(r"^ok reloaded module 'main' generation 2", end)
        send("symbols")
        _, second = symbols_block(con, after)
        check_decoded(second, expect, os.path.join(args.modules, "dbg_moved.debug.o"),
                      "after the reload")
        for name in expect:
            a, b = first.get(name, (0, ""))[0], second.get(name, (0, ""))[0]
            check(a and b and a != b, f"{name} moved: {a:#x} -> {b:#x}")

        # A reload the console did not ask for (HTTP) shows in the device's
        # log only: the console must follow that one too.
        install("dbg_v1.debug.o")
        r = subprocess.run([args.hotd, "push", "--build", build, "--url", dev.url],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "generation 3" in r.stdout, f"push v1 again: {r.stdout}")
        after, _ = con.wait(r"module 'main' generation 3 running", after)
        send("symbols")
        _, third = symbols_block(con, after)
        check_decoded(third, expect, os.path.join(args.modules, "dbg_v1.debug.o"),
                      "after a reload over HTTP")

        con_proc.stdin.close()
        rc = con_proc.wait(timeout=20)
        check(rc == 0, f"console exits 0 at the end of its input (rc {rc})")
        check(not any("no answer" in line for line in con.lines), f"no time-out: {con.lines[-5:]}")
    except AssertionError as e:
        check(False, str(e))
    finally:
        if con_proc and con_proc.poll() is None:
            con_proc.kill()
            con_proc.wait()
        if dev:
            dev.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return hrtest.summary("hotd_console")


if __name__ == "__main__":
    raise SystemExit(main())
