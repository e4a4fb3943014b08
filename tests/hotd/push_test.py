#!/usr/bin/python3
"""hotd push and hotd status against real simulated devices (tests/device/fw.c).

Makes a build-directory-like folder (hotreload.key, modules/main.img), runs
one or three device firmwares with the same key, and drives them with hotd:
pushes of new versions (the device must print the new value), a fleet push
with one device down, a wrong key, a module built for another firmware, and
the status table and JSON.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check, make_build  # noqa: E402


class Device(hrtest.Device):
    TAIL = 3

    def __init__(self, fw, storage, keyfile):
        super().__init__(fw, storage, keyfile)
        self.url = self.http

    def value(self):
        """What the running module answers now (a heartbeat after this call)."""
        n = len(self.lines)
        return int(self.wait(r"value=(-?\d+)", after=n).group(1))


def hotd(args, *rest, env=None):
    return hrtest.run(args.hotd, *rest, env=env)


def line_for(out, url):
    for line in out.splitlines():
        if line.startswith(url + ":"):
            return line
    return ""


def not_http(srv):
    """Answers every connection as an SSH server would."""
    while True:
        try:
            c, _ = srv.accept()
        except OSError:
            return
        with c:
            c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            time.sleep(0.2)


class SlowProxy:
    """A TCP proxy in front of a device's HTTP port that passes the client's
    bytes at about 2 KB/s, as a slow network: a push of a few KB then takes
    seconds."""

    def __init__(self, port):
        self.port = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.port))
            threading.Thread(target=self._pump, args=(client, up, 2000), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, client, 0), daemon=True).start()

    @staticmethod
    def _pump(src, dst, rate):
        try:
            while True:
                data = src.recv(512)
                if not data:
                    break
                if rate:
                    time.sleep(len(data) / rate)
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.listener.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--fw", required=True)
    ap.add_argument("--modules", required=True)
    args = ap.parse_args()
    mod = lambda name: os.path.join(args.modules, name)
    tmp = tempfile.mkdtemp(prefix="hotd_push_")
    devices = []
    try:
        key, rawkey = hrtest.raw_key(tmp)
        build = make_build(tmp, "build", key, mod("dev_v1.o"))

        def start_device(i):
            storage = os.path.join(tmp, f"store{i}")
            os.makedirs(storage)
            d = Device(args.fw, storage, rawkey)
            devices.append(d)
            return d

        # Usage.
        rc, out, _ = hotd(args, "push", "--help")
        check(rc == 0 and "--url" in out, "push --help")
        rc, out, _ = hotd(args, "status", "--help")
        check(rc == 0 and "--json" in out, "status --help")
        rc, _, err = hotd(args, "push", "--bogus")
        check(rc == 2, f"unknown option is a usage error (rc {rc}): {err}")
        rc, _, err = hotd(args, "push", "--build", os.path.join(tmp, "nokey"),
                          mod("dev_v1.o"))
        check(rc == 1 and "no key in" in err and "build the project first" in err,
              f"missing key named: {err}")

        # One device: push v1, then v2 through $HOTRELOAD_BUILD and $HOTRELOAD_URL.
        dev = start_device(0)
        rc, out, err = hotd(args, "push", "--build", build, "--url", dev.url)
        line = line_for(out, dev.url)
        check(rc == 0 and re.search(r": ok, module 'main' generation 1 \(upload \d+ ms, "
                                    r"device \d+ ms\)$", line), f"push v1: {out} {err}")
        dev.wait(r"value=1 ")
        check(dev.value() == 1, "device runs v1")
        shutil.copy(mod("dev_v2.o"), os.path.join(build, "modules", "main.img"))
        rc, out, err = hotd(args, "push", env={"HOTRELOAD_BUILD": build,
                                               "HOTRELOAD_URL": dev.url})
        check(rc == 0 and "generation 2" in line_for(out, dev.url), f"push v2: {out} {err}")
        dev.wait(r"value=2 ")
        check(dev.value() == 2, "device runs v2")

        # A slow push draws the progress bar on a terminal (hostd/progress.c,
        # the serial upload's too), and clears it before the result line.
        proxy = SlowProxy(dev.port)
        rc, out, term = hrtest.run_pty(args.hotd, "push", "--build", build, "--url", proxy.url,
                                       "--no-reload")
        proxy.close()
        bars = hrtest.PROGRESS_BAR.findall(term)
        check(rc == 0 and "stored module 'main'" in out, f"a slow push: {rc} {out!r}")
        check(bars and any("1 device" in rest for _, rest in bars)
              and term.endswith("\r\x1b[K"), f"the HTTP progress bar: {term[-300:]!r}")

        # Stored only (--no-reload): status says when it loads, not "waits".
        rc, out, err = hotd(args, "push", "--build", build, "--url", dev.url, "--name", "main",
                            "--no-reload", mod("dev_v1.o"))
        check(rc == 0, f"push --no-reload: {out} {err}")
        rc, out, err = hotd(args, "status", "--url", dev.url)
        check("a newer image is stored (loaded at the next start or reload)" in out
              and "waits" not in out and dev.value() == 2, f"status after --no-reload: {out}")

        # Status: the table names the module and its sections (signed with the
        # build's key: the addresses are shown to no one else); --json parses.
        rc, out, err = hotd(args, "status", "--url", dev.url, "--build", build)
        check(rc == 0 and "module main: loaded, generation 2" in out and ".text" in out
              and re.search(r"\.text\s+0x[0-9a-f]+\s+\d+", out), f"status table: {out} {err}")
        nokey = os.path.join(tmp, "nokey")
        rc, out, err = hotd(args, "status", "--url", dev.url, "--build", nokey)
        check(rc == 0 and "generation 2" in out and not re.search(r"0x[0-9a-f]{6}", out) and
              "addresses shown only to a signed request" in out, f"status without a key: {out}")
        rc, out, err = hotd(args, "status", "--url", dev.url, "--json", "--build", build)
        try:
            doc = json.loads(out)
            m = doc["modules"][0]
            check(rc == 0 and m["name"] == "main" and m["generation"] == 2 and
                  any(s["name"] == ".text" for s in m["sections"]), f"status json: {doc}")
        except (ValueError, KeyError, IndexError) as e:
            check(False, f"status --json parses: {e}: {out}")
        rc, out, err = hotd(args, "push", "--build", build, "--url", dev.url, "--json")
        try:
            res = json.loads(out)
            check(rc == 0 and res[0]["ok"] and res[0]["http_status"] == 200 and
                  "generation 3" in res[0]["message"], f"push --json: {res}")
        except (ValueError, KeyError, IndexError) as e:
            check(False, f"push --json parses: {e}: {out}")

        # Wrong key: 403 and the key advice; the device keeps its module.
        other = make_build(tmp, "otherkey", os.urandom(32), mod("dev_v1.o"))
        rc, out, err = hotd(args, "push", "--build", other, "--url", dev.url, "--json")
        res = json.loads(out or "[{}]")[0]
        check(rc == 1 and res.get("http_status") == 403 and "hotreload.key" in res.get("advice", ""),
              f"wrong key: {out} {err}")
        rc, out, err = hotd(args, "push", "--build", other, "--url", dev.url)
        line = line_for(out, dev.url)
        check(rc == 1 and ": failed: " in line and "built with another key" in line,
              f"wrong key line: {out}")
        check(dev.value() == 2, "device still runs v2 after a wrong key")

        # A module built for another firmware: hotd compares the image's firmware
        # with the one /status names and sends nothing, even with another key.
        for b in (build, other):
            rc, out, err = hotd(args, "push", "--build", b, "--url", dev.url, "--name", "main",
                                mod("dev_other_fw.o"))
            line = line_for(out, dev.url)
            check(rc == 1 and "was built for firmware" in line and "nothing was sent" in line
                  and "wrong mac" not in line, f"other firmware ({b}): {out} {err}")
        check(dev.value() == 2, "device still runs v2 after another firmware's module")

        # A port that does not speak HTTP.
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen(4)
            threading.Thread(target=not_http, args=(srv,), daemon=True).start()
            url = f"http://127.0.0.1:{srv.getsockname()[1]}"
            rc, out, err = hotd(args, "push", "--build", build, "--url", url, "--no-build")
            check(rc == 1 and "not a hotreload HTTP endpoint" in line_for(out, url),
                  f"a port that is not HTTP: {out} {err}")

        # Several modules in the build: name one.
        shutil.copy(mod("dev_v1.o"), os.path.join(build, "modules", "extra.img"))
        rc, out, err = hotd(args, "push", "--build", build, "--url", dev.url)
        check(rc == 2 and "extra" in err and "main" in err, f"several modules listed: {err}")
        os.remove(os.path.join(build, "modules", "extra.img"))

        # Fleet: three devices, one push.
        shutil.copy(mod("dev_v1.o"), os.path.join(build, "modules", "main.img"))
        fleet = [start_device(i) for i in (1, 2, 3)]
        urls = [a for d in fleet for a in ("--url", d.url)]
        rc, out, err = hotd(args, "push", "--build", build, *urls)
        check(rc == 0 and all(": ok, module 'main' generation 1" in line_for(out, d.url)
                              for d in fleet), f"fleet push: {out} {err}")
        for d in fleet:
            d.wait(r"value=1 ")
            check(d.value() == 1, f"fleet device {d.port} runs v1")

        # One of them down: its line says so, the others are updated, exit status 1.
        down = fleet[1]
        down.stop(signal.SIGKILL)
        shutil.copy(mod("dev_v2.o"), os.path.join(build, "modules", "main.img"))
        rc, out, err = hotd(args, "push", "--build", build, *urls)
        line = line_for(out, down.url)
        check(rc == 1, f"exit status with a device down: {rc}")
        check(": failed: connection refused" in line and "is the device running" in line,
              f"down device's line: {line!r}")
        for d in (fleet[0], fleet[2]):
            check("generation 2" in line_for(out, d.url), f"{d.url} updated: {out}")
            d.wait(r"value=2 ")
            check(d.value() == 2, f"fleet device {d.port} runs v2")
    except AssertionError as e:
        check(False, str(e))
    finally:
        for d in devices:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return hrtest.summary("hotd_push")


if __name__ == "__main__":
    raise SystemExit(main())
