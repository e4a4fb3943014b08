#!/usr/bin/env python3
"""Edit -> new code running on the rv32 QEMU example over HTTP, with
`hotd watch`, against rebuilding the firmware and restarting QEMU.

    qemu_edit_cycle.py --root SOURCE_ROOT --hotd HOTD --work DIR [--quick]

A copy of examples/qemu-riscv32 (in DIR/src, cross-built in DIR/build with
Ninja where it is installed, else Make) gets the firmware
bench/qemu_edit/fw_main.c, which prints the module's greeting at boot and
right after each reload, and a second firmware, static_firmware: the same
main with module/greet.c linked in, nothing reloaded.

Hot path: QEMU runs the firmware (HTTP through QEMU's user network) and
`hotd watch --url --debounce 20` runs beside it; each edit rewrites
module/greet.c with a new greeting; the time is from just before the write
to the UART's line with the new greeting.
Restart path: each edit rewrites greet.c, `cmake --build --target
static_firmware`, stops QEMU and boots the new firmware; the time is from
the write to the new firmware's line with the new greeting (a board would
add its flashing, which QEMU's -kernel does not have).
Without the port, its cross compiler or QEMU it prints one row saying what
is missing. Prints one JSON line for bench/run.py.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from edit_cycle import Module, last_line, stats, stop_watch, watch_breakdown
from qemu_http import build_example

ID = "qemu_edit_cycle"
GREETING = "Hello from the rv32 module"
STATIC_CMAKE = """
# bench/qemu_edit_cycle.py: the restart path's firmware, the module's source linked in.
add_executable(static_firmware firmware/main.c module/greet.c
               ${CMAKE_BINARY_DIR}/hotreload/key/hotreload_key.c)
target_compile_definitions(static_firmware PRIVATE BENCH_STATIC)
target_include_directories(static_firmware PRIVATE include)
target_link_libraries(static_firmware PRIVATE hotreload_rv32-virt)
target_link_options(static_firmware PRIVATE -Wl,--build-id=sha1)
"""


def missing(why):
    print(json.dumps({"id": ID, "value": None, "unit": "ms", "notes": "not available: " + why}))
    sys.exit(0)


def prepare(a):
    """The example's copy with the bench's firmware, built: (src, build folder)."""
    return build_example(a, STATIC_CMAKE, missing,
                         main=os.path.join(a.root, "bench", "qemu_edit", "fw_main.c"),
                         generator=["-G", "Ninja"] if shutil.which("ninja") else [])


def boot(a, rv32, fw, n):
    flash = os.path.join(a.work, "flash.bin")
    rv32.flash_image(flash)
    return rv32.Qemu("qemu-system-riscv32", fw, os.path.join(a.work, "uart-%s.log" % n), flash,
                     net=True)


def hot_path(a, src, build):
    dev = boot(a, a.rv32, os.path.join(build, "qemu_firmware"), "hot")
    watch_log = open(os.path.join(a.work, "watch.log"), "w")
    watch = None
    module = Module(os.path.join(src, "module", "greet.c"), a.original, GREETING)
    times = []
    try:
        dev.wait(r"^device up")
        watch = subprocess.Popen([a.hotd, "watch", "--build", build, "--url",
                                  "http://127.0.0.1:%d" % dev.http_port, "--push-now",
                                  "--debounce", "20"], stdout=watch_log, stderr=subprocess.STDOUT)
        dev.wait(r"greeting: %s " % GREETING, timeout=60)
        for i in range(1, a.edits + 1):
            time.sleep(0.5)  # the watcher is idle again
            mark, t0 = dev.out.mark(), time.monotonic()
            module.edit("Hello, edit %d" % i)
            dev.wait(r"greeting: Hello, edit %d " % i, timeout=60, after=mark)
            times.append((time.monotonic() - t0) * 1e3)
    except AssertionError as e:
        missing("the hot path failed: %s; hotd watch said: %s"
                % (str(e)[:200], last_line(watch_log.name)))
    finally:
        if watch:
            stop_watch(watch)
        watch_log.close()
        dev.stop()
        module.edit(GREETING)
    return times


def restart_path(a, src, build):
    module = Module(os.path.join(src, "module", "greet.c"), a.original, GREETING)
    fw = os.path.join(build, "static_firmware")
    times, dev = [], None
    try:
        for i in range(1, a.restarts + 1):
            t0 = time.monotonic()
            module.edit("Hello, restart %d" % i)
            r = subprocess.run(["cmake", "--build", build, "--target", "static_firmware"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                missing("the static build failed: " + r.stdout[-300:].replace("\n", " "))
            if dev:
                dev.stop()
            dev = boot(a, a.rv32, fw, "restart")
            dev.wait(r"greeting: Hello, restart %d " % i, timeout=60)
            times.append((time.monotonic() - t0) * 1e3)
    except AssertionError as e:
        missing("the restart path failed: %s" % str(e)[:300])
    finally:
        if dev:
            dev.stop()
        module.edit(GREETING)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    a.root, a.hotd, a.work = (os.path.abspath(p) for p in (a.root, a.hotd, a.work))
    for tool in ("qemu-system-riscv32", "riscv64-unknown-elf-gcc"):
        if not shutil.which(tool):
            missing("%s not found" % tool)
    sys.path.insert(0, os.path.join(a.root, "tests", "lib"))
    sys.path.insert(0, os.path.join(a.root, "tests", "qemu"))
    import rv32  # the tests' QEMU runner: flash file, hostfwd port, the UART's lines
    a.rv32 = rv32
    a.edits, a.restarts = (3, 2) if a.quick else (10, 5)
    a.original = os.path.join(a.root, "examples", "qemu-riscv32", "module", "greet.c")
    os.makedirs(a.work, exist_ok=True)
    src, build = prepare(a)
    hot, cold = hot_path(a, src, build), restart_path(a, src, build)
    med, spread = stats(hot)
    bmed, bspread = stats(cold)
    parts = watch_breakdown(os.path.join(a.work, "watch.log"))
    print(json.dumps({
        "id": ID, "value": round(med), "spread": round(spread, 1), "baseline": round(bmed),
        "baseline_spread": round(bspread, 1), "unit": "ms",
        "notes": "ms from saving module/greet.c to the rv32 QEMU example printing the new "
                 "greeting, hotd watch --url --debounce 20 (%s build); %d edits, slowest %.0f "
                 "ms; watch: build %s ms, upload %s ms, device %s ms; baseline: rebuild of a "
                 "firmware with the module linked in + QEMU restarted to the same line, %d "
                 "times (no flashing: QEMU loads the ELF)"
                 % ("Ninja" if shutil.which("ninja") else "Make", len(hot), max(hot),
                    parts.get("built", "?"), parts.get("upload", "?"), parts.get("device", "?"),
                    len(cold))}))


if __name__ == "__main__":
    main()
