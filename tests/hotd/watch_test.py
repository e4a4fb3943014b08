#!/usr/bin/python3
"""hotd watch end to end, with real processes.

A copy of examples/basic is built as an outside project; its simulated device
runs; `hotd watch --push-now` runs in the background. The test then edits the
module source the way a developer does and reads what the device prints:
an edit shows up; a syntax error gives an inline error naming the file and the
device keeps the previous module; fixing it pushes again; a save by rename
(as vim does) is picked up; SIGINT stops hotd with status 0.

usage: watch_test.py HOTRELOAD_SOURCE_DIR [HOTD]
(HOTD defaults to the hotd built inside the example's build.)
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402


class Proc(hrtest.Lines):
    """A background process whose output lines are collected as they come."""

    def __init__(self, argv, **kw):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, **kw)
        super().__init__(self.proc.stdout)

    def wait(self, regex, timeout=30, after=0):
        """The first match of regex in a line from index `after` on, or None."""
        found = self.search(regex, timeout, after)
        return found[1] if found else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def main():
    top = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="hotreload-watch-")
    src, build = os.path.join(work, "src"), os.path.join(work, "build")
    dev = watch = None
    try:
        shutil.copytree(os.path.join(top, "examples", "basic"), src)
        subprocess.run(["cmake", "-S", src, "-B", build, f"-DHOTRELOAD_DIR={top}"], check=True,
                       stdout=subprocess.DEVNULL)
        r = subprocess.run(["cmake", "--build", build, f"-j{os.cpu_count() or 2}"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            print(r.stdout)
            raise SystemExit("watch_test: the example does not build")
        hotd = sys.argv[2] if len(sys.argv) > 2 else os.path.join(build, "hotreload/hostd/hotd")

        # What to watch comes from the build: the module's source and include dirs.
        with open(os.path.join(build, "modules", "greet.watch")) as f:
            dirs = f.read().split()
        check(sorted(dirs) == sorted([os.path.join(src, "module"), os.path.join(src, "include")]),
              f"greet.watch lists the module's directories: {dirs}")

        storage = os.path.join(work, "storage")
        os.mkdir(storage)
        dev = Proc([os.path.join(build, "basic_firmware"), "0"],
                   env=dict(os.environ, HOTRELOAD_STORAGE_DIR=storage))
        m = dev.wait(r"simulated device up: (http://127\.0\.0\.1:\d+)", 10)
        if not m:
            raise SystemExit("watch_test: the device did not start:\n" + dev.text())
        url = m.group(1)

        watch = Proc([hotd, "watch", "--build", build, "--url", url, "--push-now"], cwd=work,
                     env=dict(os.environ, NO_COLOR="1"))
        check(dev.wait(r"^Hello from the module", 30), "--push-now pushes the module at start")
        cycle = r"^greet: built \d+ ms, upload \d+ ms, device \d+ ms — generation (\d+)$"
        check(watch.wait(cycle, 10), "one line per cycle with build, upload and device times")

        greet = os.path.join(src, "module", "greet.c")
        with open(greet) as f:
            original = f.read()

        def save(text, by_rename=False):
            if by_rename:  # vim's way: write a new file, rename it over the old one
                tmp = greet + ".new"
                with open(tmp, "w") as f:
                    f.write(text)
                os.rename(tmp, greet)
            else:
                with open(greet, "w") as f:
                    f.write(text)

        def version(greeting, body="return a + b;"):
            return original.replace("Hello from the module", greeting) \
                           .replace("return a + b;", body)

        # An edit shows up on the running device.
        w0, d0 = watch.mark(), dev.mark()
        save(version("Hello, edit one"))
        check(dev.wait(r"^Hello, edit one \|", 30, d0), "an edit is pushed: the device prints it")
        check(watch.wait(cycle, 10, w0), "the edit's cycle line")

        # A syntax error: inline error naming the file; the device keeps edit one.
        w0 = watch.mark()
        save(version("Hello, broken", "return a + ;"))
        err = watch.wait(r"greet\.c:\d+:\d+: error:", 30, w0)
        check(err, "a syntax error is shown inline, naming greet.c")
        check(watch.wait(r"build failed: the device keeps running its current module", 10, w0),
              "the failure says the device keeps its module")
        d0 = dev.mark()
        check(dev.wait(r"count", 5, d0) and dev.wait(r"count", 5, dev.mark()),
              "the device keeps running after the failed build")
        after = dev.text(d0)
        check("Hello, edit one" in after and "broken" not in after,
              "the device keeps the previous module after a failed build")

        # Fixing it pushes again.
        d0 = dev.mark()
        save(version("Hello, edit two"))
        check(dev.wait(r"^Hello, edit two \|", 30, d0), "the fix is pushed")

        # A save by rename is picked up too.
        d0 = dev.mark()
        save(version("Hello, saved by rename"), by_rename=True)
        check(dev.wait(r"^Hello, saved by rename \|", 30, d0), "a save by rename is pushed")

        # Ctrl-C: a clean exit, status 0.
        watch.proc.send_signal(signal.SIGINT)
        try:
            rc = watch.proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, f"SIGINT stops hotd watch with status 0 (got {rc})")
    finally:
        if hrtest.failed and watch:
            print("--- hotd watch output:\n" + watch.text())
        if hrtest.failed and dev:
            print("--- device output (tail):\n" + "\n".join(dev.text().splitlines()[-20:]))
        for p in (watch, dev):
            if p:
                p.stop()
        shutil.rmtree(work, ignore_errors=True)
    return hrtest.summary("hotd_watch")


if __name__ == "__main__":
    sys.exit(main())
