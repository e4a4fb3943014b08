#!/usr/bin/python3
"""idf.py reload and idf.py watch (components/hotreload/idf_ext.py) through the
real idf.py, on examples/esp-idf for ESP-IDF's linux target.

Shown: the component builds hotd for the host; idf.py loads its extension (reload and watch in --help);
`idf.py reload --url` builds and pushes both reloadable components to the
running app; an edit then `idf.py reload` -> the new text in the same process;
`idf.py watch --url` running, an edit saved -> the new text without any other
command; Ctrl+C (SIGINT to its process group) ends idf.py and hotd.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idfapp  # noqa: E402
from idfapp import hrtest  # noqa: E402
from hrtest import check  # noqa: E402


def edit(path, old, new):
    text = open(path).read()
    assert old in text, f"{old!r} not in {path}"
    open(path, "w").write(text.replace(old, new))


def watch(idf, app, env, dev, src):
    """idf.py watch pushes a saved edit by itself."""
    proc = subprocess.Popen([*idf, "watch", "--url", dev.url], cwd=app, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    out = hrtest.Lines(proc.stdout, alive=lambda: proc.poll() is None)
    try:
        out.expect(r"watching 2 modules", timeout=120, also=lambda: out.text())
        n = dev.lines.mark()
        edit(src, "greet v2", "greet v3")
        dev.lines.expect(r"greet: hello from greet v3", timeout=30, after=n)
        check(out.search(r"greet: built .*generation", timeout=5) is not None,
              "watch did not report the push: " + out.text()[-800:])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C: idf.py and hotd
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            check(False, "idf.py watch did not end on SIGINT")
    left = subprocess.run(["pgrep", "-f", f"hotd watch --build {app}/build"],
                          stdout=subprocess.PIPE, text=True).stdout.strip()
    check(not left, f"hotd watch still running after Ctrl+C: {left}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    _, env = idfapp.find_idf(a.source)
    env["IDF_PY_BUILD_JOBS"] = "2"
    idf = idfapp.idf_py(env)
    with tempfile.TemporaryDirectory() as tmp:
        app = idfapp.copy_example(a.source, tmp)
        t0 = time.time()
        # As a user builds: the component builds hotd for this host itself.
        env.pop("HOTRELOAD_HOTD", None)
        rc, out = idfapp.run([*idf, "-D", "HOTRELOAD_DIR=" + a.source, "--preview",
                              "set-target", "linux", "build"], env, cwd=app)
        if not check(rc == 0, "idf.py set-target linux build:\n" + out[-3000:]):
            return hrtest.summary("esp_idf_idfpy")
        print(f"idf.py build: {time.time() - t0:.1f} s", flush=True)
        rc, out = idfapp.run([*idf, "--help"], env, cwd=app)
        check(" reload " in out and " watch " in out, "idf.py --help lacks reload/watch")
        dev = idfapp.App(app, env)
        try:
            t0 = time.time()
            rc, out = idfapp.run([*idf, "reload", "--url", dev.url], env, cwd=app)
            check(rc == 0 and out.count("ok, module") == 2, "idf.py reload: " + out[-1500:])
            print(f"idf.py reload (2 modules): {time.time() - t0:.1f} s", flush=True)
            dev.lines.expect(r"greet: hello from greet v1 \| count: [1-9]")
            src = os.path.join(app, "components", "greet", "greet.c")
            edit(src, "greet v1", "greet v2")
            n = dev.lines.mark()
            rc, out = idfapp.run([*idf, "reload", "--url", dev.url], env, cwd=app)
            check(rc == 0, "idf.py reload after the edit: " + out[-1500:])
            dev.lines.expect(r"greet: hello from greet v2", after=n)
            watch(idf, app, env, dev, src)
        except AssertionError as e:
            check(False, str(e))
        finally:
            dev.stop()
            if dev.flash.startswith("/tmp/idf-partition-"):
                os.unlink(dev.flash)
    return hrtest.summary("esp_idf_idfpy")


if __name__ == "__main__":
    sys.exit(main())
