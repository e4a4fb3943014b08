#!/usr/bin/env python3
"""Edit -> new code running on the simulated device, with `hotd watch`,
against rebuilding and restarting the whole firmware.

    edit_cycle.py --root SOURCE_ROOT --work DIR [--edits N] [--restarts N]
                  [--debounce MS] [--generator G] [--id ID] [--quick]

A copy of examples/basic (in DIR/src, built in DIR/build as scripts/demo
builds it, against a snapshot of hotreload's sources in DIR/hotreload) gets the firmware bench/edit/fw_main.c, which prints the module's
greeting at boot and right after each reload, and a second firmware,
static_firmware: the same main with module/greet.c linked in, no reloads.

Hot path: the firmware and `hotd watch --debounce MS` run; each edit rewrites
module/greet.c with a new greeting; the time is from just before the write
to the device's line with the new greeting.
Restart path: each edit rewrites greet.c, `cmake --build DIR/build --target
static_firmware`, stops the running firmware and starts the new one; the
time is from the write to the new firmware's line with the new greeting.
Prints one JSON line for bench/run.py.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

STATIC_CMAKE = """
# bench/edit_cycle.py: the restart path's firmware, the module's source linked in.
add_executable(static_firmware firmware/main.c module/greet.c
               ${CMAKE_BINARY_DIR}/hotreload/key/hotreload_key.c)
target_compile_definitions(static_firmware PRIVATE BENCH_STATIC)
target_include_directories(static_firmware PRIVATE include)
target_link_libraries(static_firmware PRIVATE hotreload_posix)
"""


class Device:
    """A firmware process; its stdout lines with their arrival times."""

    def __init__(self, exe, env):
        self.proc = subprocess.Popen([exe, "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        self.lines, self.cond = [], threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            now = time.monotonic()
            with self.cond:
                self.lines.append((now, raw.decode(errors="replace")))
                self.cond.notify_all()

    def wait(self, regex, timeout=60):
        """Arrival time of the first line matching regex."""
        end = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for t, line in self.lines[seen:]:
                    if re.search(regex, line):
                        return t
                seen = len(self.lines)
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise SystemExit("edit_cycle: no line matching %r; last: %r"
                                     % (regex, [l for _, l in self.lines[-3:]]))
                self.cond.wait(min(left, 0.2))

    def url(self):
        self.wait(r"simulated device up")
        for _, line in self.lines:
            m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if m:
                return "http://127.0.0.1:%s" % m.group(1)
        raise SystemExit("edit_cycle: no URL")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def sync_tree(src, dst):
    """Copy src into dst, rewriting only files whose bytes differ (make then
    rebuilds only what an edit changed)."""
    for dirpath, _, files in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            write_if_changed(os.path.join(dst, rel, name), data)


def write_if_changed(path, data):
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    with open(path, "wb") as f:
        f.write(data)


class Module:
    """module/greet.c, rewritten whole at each edit, as an editor saves; the
    edit replaces the string `greeting`."""

    def __init__(self, path, original, greeting="Hello from the module"):
        self.path, self.greeting = path, '"%s"' % greeting
        with open(original) as f:
            self.text = f.read()
        if self.greeting not in self.text:
            raise SystemExit("edit_cycle: %s has no greeting to edit" % path)

    def edit(self, greeting):
        with open(self.path, "w") as f:
            f.write(self.text.replace(self.greeting, '"%s"' % greeting))


def stats(values):
    med = statistics.median(values)
    if len(values) < 2:
        return med, 0.0
    q = statistics.quantiles(values, n=4)
    return med, 100.0 * (q[2] - q[0]) / med


def prepare(a):
    """The example's copy and a snapshot of hotreload's sources (other work
    on the tree during a run would otherwise relink the firmware under the
    running device), built."""
    src, build = os.path.join(a.work, "src"), os.path.join(a.work, "build")
    snap = os.path.join(a.work, "hotreload")
    for part in ("agent", "hostd"):
        sync_tree(os.path.join(a.root, part), os.path.join(snap, part))
    with open(os.path.join(a.root, "CMakeLists.txt"), "rb") as f:
        write_if_changed(os.path.join(snap, "CMakeLists.txt"), f.read())
    sync_tree(os.path.join(a.root, "examples", "basic"), src)
    with open(os.path.join(a.root, "bench", "edit", "fw_main.c"), "rb") as f:
        write_if_changed(os.path.join(src, "firmware", "main.c"), f.read())
    with open(os.path.join(a.root, "examples", "basic", "CMakeLists.txt"), "rb") as f:
        write_if_changed(os.path.join(src, "CMakeLists.txt"), f.read() + STATIC_CMAKE.encode())
    log = os.path.join(a.work, "build.log")
    with open(log, "w") as out:
        gen = ["-G", a.generator] if a.generator else []
        for cmd in (["cmake", "-S", src, "-B", build, "-DHOTRELOAD_DIR=" + snap,
                     "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"] + gen,
                    ["cmake", "--build", build, "-j%d" % (os.cpu_count() or 2)]):
            if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                with open(log) as f:
                    sys.exit("edit_cycle: build failed:\n" + f.read()[-3000:])
    return src, build


def hot_path(a, src, build, env):
    dev = Device(os.path.join(build, "basic_firmware"), env)
    watch_log = open(os.path.join(a.work, "watch.log"), "w")
    watch = subprocess.Popen([os.path.join(build, "hotreload", "hostd", "hotd"), "watch",
                              "--build", build, "--url", dev.url(), "--push-now",
                              "--debounce", str(a.debounce)],
                             stdout=watch_log, stderr=subprocess.STDOUT)
    module = Module(os.path.join(src, "module", "greet.c"), a.original)
    times = []
    try:
        dev.wait(r"greeting: Hello from the module")
        for i in range(1, a.edits + 1):
            time.sleep(0.4)  # the watcher is idle again
            t0 = time.monotonic()
            module.edit("Hello, edit %d" % i)
            try:
                times.append((dev.wait(r"greeting: Hello, edit %d " % i) - t0) * 1e3)
            except SystemExit as e:
                raise SystemExit("%s; hotd watch said: %s" % (e, last_line(watch_log.name)))
    finally:
        stop_watch(watch)
        watch_log.close()
        dev.stop()
    return times


def last_line(path):
    """The last line hotd watch wrote to its log, for a failure's message."""
    with open(path) as f:
        return (f.read().strip().splitlines() or ["(nothing)"])[-1]


def stop_watch(watch):
    """hotd watch ends on SIGINT, as at a terminal; killed if it does not."""
    watch.send_signal(signal.SIGINT)
    try:
        watch.wait(timeout=20)
    except subprocess.TimeoutExpired:
        watch.kill()


def restart_path(a, src, build, env):
    module = Module(os.path.join(src, "module", "greet.c"), a.original)
    exe = os.path.join(build, "static_firmware")
    module.edit("Hello from the module")
    subprocess.run(["cmake", "--build", build, "--target", "static_firmware"], check=True,
                   stdout=subprocess.DEVNULL)
    dev = Device(exe, env)
    times = []
    try:
        dev.wait(r"greeting: Hello from the module")
        for i in range(1, a.restarts + 1):
            t0 = time.monotonic()
            module.edit("Hello, restart %d" % i)
            r = subprocess.run(["cmake", "--build", build, "--target", "static_firmware"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode != 0:
                sys.exit("edit_cycle: static build failed: %s" % r.stdout[-2000:])
            dev.stop()
            dev = Device(exe, env)
            times.append((dev.wait(r"greeting: Hello, restart %d " % i) - t0) * 1e3)
    finally:
        dev.stop()
        module.edit("Hello from the module")
    return times


def watch_breakdown(path):
    """Medians of what hotd watch reports per push: build, upload, device."""
    parts = {"built": [], "upload": [], "device": []}
    with open(path) as f:
        for line in f:
            for key in parts:
                m = re.search(r"%s (\d+) ms" % key, line)
                if m:
                    parts[key].append(int(m.group(1)))
    return {k: "%.0f" % statistics.median(v[1:] or v) for k, v in parts.items() if v}


def compile_alone(a, build, runs):
    """ms of the compiler alone on module/greet.c, with the command the build
    uses (compile_commands.json), writing to a scratch object."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        entry = next(e for e in json.load(f) if e["file"].endswith("module/greet.c"))
    cmd = entry["command"].split()
    cmd[cmd.index("-o") + 1] = os.path.join(a.work, "alone.o")
    times = []
    for _ in range(runs):
        t0 = time.time()
        subprocess.run(cmd, cwd=entry["directory"], check=True)
        times.append((time.time() - t0) * 1000)
    return times


def cmake_generator(build):
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith("CMAKE_GENERATOR:"):
                return line.split("=", 1)[1].strip()
    return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--edits", type=int)
    ap.add_argument("--restarts", type=int)
    ap.add_argument("--debounce", type=int, default=20)
    ap.add_argument("--generator", help="CMake generator (default: CMake's; scripts/demo uses Ninja)")
    ap.add_argument("--id", default="edit_cycle")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    a.edits = a.edits or (3 if a.quick else 15)
    a.restarts = a.restarts or (2 if a.quick else 8)
    os.makedirs(a.work, exist_ok=True)
    a.original = os.path.join(a.root, "examples", "basic", "module", "greet.c")
    src, build = prepare(a)
    store = os.path.join(a.work, "storage")
    shutil.rmtree(store, ignore_errors=True)
    os.makedirs(store)
    env = dict(os.environ, HOTRELOAD_STORAGE_DIR=store)
    hot = hot_path(a, src, build, env)
    cold = restart_path(a, src, build, env)
    med, spread = stats(hot)
    bmed, bspread = stats(cold)
    parts = watch_breakdown(os.path.join(a.work, "watch.log"))
    notes = ("ms from saving module/greet.c to the device printing the new greeting; "
             "hotd watch --debounce %d (default 300); %d edits, slowest %.0f ms; "
             "watch: build %s ms, upload %s ms, device %s ms; baseline: rebuild "
             "(cmake --build, %s, Debug) + restart of a firmware with the module "
             "linked in, %d times"
             % (a.debounce, len(hot), max(hot), parts.get("built", "?"), parts.get("upload", "?"),
                parts.get("device", "?"), a.generator or cmake_generator(build), len(cold)))
    print(json.dumps({"id": a.id, "value": round(med, 1), "spread": round(spread, 1),
                      "baseline": round(bmed, 1), "baseline_spread": round(bspread, 1),
                      "unit": "ms", "notes": notes}))
    cmed, cspread = stats(compile_alone(a, build, len(hot)))
    print(json.dumps({"id": a.id + "_vs_cc", "value": round(med, 1), "spread": round(spread, 1),
                      "baseline": round(cmed, 1), "baseline_spread": round(cspread, 1),
                      "unit": "ms", "notes": "the same edit cycle against the compiler alone "
                      "on module/greet.c (the build's own command, %d times): what is left "
                      "above it is hotd watch's debounce, ld -r, stubs, bind, strip, the ABI "
                      "check, the push and the reload" % len(hot)}))


if __name__ == "__main__":
    main()
