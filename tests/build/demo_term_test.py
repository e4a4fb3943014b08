#!/usr/bin/python3
"""scripts/demo stopped with SIGTERM leaves nothing running.

The demo runs interactively (its own session, a fresh build folder, a free
port) until it shows the device's output with `tail -f`; then it gets a
SIGTERM, as from `kill` or a terminal closing. It must exit, and every
process of its session -- the device loop, the simulated device, hotd watch,
tail -- must be gone. ctest's timeout fails a demo that never exits.

usage: demo_term_test.py SOURCE_DIR WORK_DIR
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402


def session(sid):
    """{pid: command line} of every process in session `sid`."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid or fields[0] == "Z":
                continue
            with open(f"/proc/{d}/cmdline", "rb") as f:
                out[int(d)] = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError, ValueError):
            continue   # gone meanwhile
    return out


def main():
    root, work = sys.argv[1:3]
    build = tempfile.mkdtemp(dir=work, prefix="demo-term-")
    demo = subprocess.Popen([os.path.join(root, "scripts", "demo"), "--build", build,
                             "--port", "0"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = hrtest.Lines(demo.stdout, alive=lambda: demo.poll() is None)
    try:
        out.expect(r"now edit .*greet\.c", timeout=600)
        out.expect(r"Hello from the module", timeout=60)   # tail -f shows the device
        running = session(demo.pid)
        names = " | ".join(running.values())
        for what in ("basic_firmware", "hotd watch", "tail -n"):
            check(what in names, f"before the SIGTERM the demo runs {what}: {names}")
        os.kill(demo.pid, signal.SIGTERM)
        rc = demo.wait(timeout=60)
        check(rc == 130, f"the demo ran its cleanup and exited 130 after SIGTERM ({rc})")
        end = time.time() + 20   # a process killed needs a moment to be reaped
        left = session(demo.pid)
        while left and time.time() < end:
            time.sleep(0.1)
            left = session(demo.pid)
        check(not left, f"no process of the demo's session is left: {left}")
        check(not any(p in left for p in running), "every process it ran is gone")
    finally:
        for pid in session(demo.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if demo.poll() is None:
            demo.kill()
    if not hrtest.failed:
        shutil.rmtree(build, ignore_errors=True)
    return hrtest.summary("build_demo_term")


if __name__ == "__main__":
    sys.exit(main())
