#!/usr/bin/env python3
"""A 90 KB module pushed over HTTP to the rv32 QEMU example, whole push,
against the same bytes sent plainly through the same network path.

    qemu_http.py --root SOURCE_ROOT --hotd HOTD --work DIR [--quick]

Cross-builds a copy of examples/qemu-riscv32 in DIR (as the tests do, with
this hotd) with one more firmware, bench/qemu_http/sink.c: the port's
network (virtio-net, lwIP) and a TCP sink, nothing else. Compiles
tests/qemu/mod/big.c (the example's module with 90 KB of constants) and
binds it; then, on a fresh QEMU each time (flash and heap empty), times
`hotd push --url` from start to exit: signing, the HTTP transfer through
QEMU's user network and lwIP, the device's flash writes and the reload.
The baseline, also on a fresh QEMU each time: a TCP connection to the sink,
the image's bytes sent, until the sink says it has them all.
Without the port, its cross compiler or QEMU it prints one row saying what
is missing. Prints JSON lines for bench/run.py.
"""
import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

from edit_cycle import stats, sync_tree, write_if_changed

ID = "qemu_http_push_90k"
FLAGS = ["-misa-spec=2.2", "-march=rv32imc", "-mabi=ilp32", "-ffreestanding", "-mno-relax",
         "-O2", "-fno-common"]


SINK_CMAKE = """
# bench/qemu_http.py: the plain-transfer baseline's firmware (the port's network, a TCP sink).
add_executable(sink_firmware ${HOTRELOAD_DIR}/bench/qemu_http/sink.c)
target_include_directories(sink_firmware PRIVATE ${HOTRELOAD_DIR}/agent/port/rv32-virt)
target_link_libraries(sink_firmware PRIVATE hotreload_rv32-virt)
"""


def missing(why):
    print(json.dumps({"id": ID, "value": None, "unit": "ms", "notes": "not available: " + why}))
    sys.exit(0)


def run_logged(cmds, log, fail):
    """Run cmds in turn, their output into log; fail() with its end at the first that fails."""
    with open(log, "w") as out:
        for cmd in cmds:
            if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                with open(log) as f:
                    fail("the build failed: " + f.read()[-400:].replace("\n", " "))


def build_example(a, extra_cmake, fail, main=None, generator=()):
    """examples/qemu-riscv32 copied into a.work/src, extra_cmake appended to its
    CMakeLists.txt and `main` (a path) over its firmware, cross-built with this
    hotd in a.work/example: (src, build folder)."""
    src, ex = os.path.join(a.work, "src"), os.path.join(a.work, "example")
    example = os.path.join(a.root, "examples", "qemu-riscv32")
    sync_tree(example, src)
    if main:
        with open(main, "rb") as f:
            write_if_changed(os.path.join(src, "firmware", "main.c"), f.read())
    with open(os.path.join(example, "CMakeLists.txt"), "rb") as f:
        write_if_changed(os.path.join(src, "CMakeLists.txt"), f.read() + extra_cmake.encode())
    cache = os.path.join(ex, "CMakeCache.txt")
    if os.path.exists(cache):  # configured from elsewhere (the example itself): again
        with open(cache) as f:
            if "CMAKE_HOME_DIRECTORY:INTERNAL=%s\n" % src not in f.read():
                shutil.rmtree(ex)
    toolchain = os.path.join(a.root, "agent", "port", "rv32-virt", "toolchain.cmake")
    run_logged([["cmake", "-S", src, "-B", ex, "-DCMAKE_TOOLCHAIN_FILE=" + toolchain,
                 "-DHOTRELOAD_DIR=" + a.root, "-DHOTRELOAD_HOTD=" + a.hotd,
                 "-DCMAKE_BUILD_TYPE=MinSizeRel", *generator],
                ["cmake", "--build", ex, "-j%d" % (os.cpu_count() or 2)]],
               os.path.join(a.work, "build.log"), fail)
    return src, ex


def build(a):
    """The example firmware (with the sink) and the bound 90 KB module:
    (build folder, image)."""
    _, ex = build_example(a, SINK_CMAKE, missing)
    obj, img = os.path.join(a.work, "big.c.o"), os.path.join(a.work, "big.img")
    cc = "riscv64-unknown-elf-gcc"
    inc = ["-I", os.path.join(a.root, "examples", "qemu-riscv32", "include"),
           "-I", os.path.join(a.root, "agent", "include")]
    run_logged([[cc, *FLAGS, *inc, "-c", os.path.join(a.root, "tests", "qemu", "mod", "big.c"),
                 "-o", obj + ".raw"],
                [cc, *FLAGS, "-nostdlib", "-r", "-Wl,--build-id=sha1", obj + ".raw", "-o", obj],
                [a.hotd, "bind", obj, "--firmware", os.path.join(ex, "qemu_firmware"), "-o",
                 img, "--absolute"]], os.path.join(a.work, "module.log"), missing)
    return ex, img


def push_once(a, rv32, ex, img, n):
    """One push to a freshly booted device: seconds, or a failure message."""
    flash = os.path.join(a.work, "flash.bin")
    rv32.flash_image(flash)
    dev = rv32.Qemu("qemu-system-riscv32", os.path.join(ex, "qemu_firmware"),
                    os.path.join(a.work, "uart-%d.log" % n), flash, net=True)
    try:
        dev.wait(r"^device up")
        t0 = time.time()
        r = subprocess.run([a.hotd, "push", img, "--name", "greet", "--build", ex, "--url",
                            "http://127.0.0.1:%d" % dev.http_port], capture_output=True,
                           text=True, timeout=120)
        took = time.time() - t0
        return took if r.returncode == 0 else (r.stdout + r.stderr)[-300:]
    finally:
        dev.stop()


def plain_once(a, rv32, ex, size, n):
    """The same number of bytes to the sink on a freshly booted device:
    seconds from the connection to its answer, or a failure message."""
    dev = rv32.Qemu("qemu-system-riscv32", os.path.join(ex, "sink_firmware"),
                    os.path.join(a.work, "sink-%d.log" % n), net=True)
    try:
        dev.wait(r"^sink up")
        data = struct.pack("<I", size) + os.urandom(size)
        t0 = time.time()
        with socket.create_connection(("127.0.0.1", dev.http_port), timeout=60) as s:
            s.sendall(data)
            answer = s.recv(16)
        took = time.time() - t0
        return took if answer == b"ok\n" else "the sink answered %r" % answer
    except (OSError, AssertionError) as e:
        return str(e)
    finally:
        dev.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    for tool in ("qemu-system-riscv32", "riscv64-unknown-elf-gcc"):
        if not shutil.which(tool):
            missing("%s not found" % tool)
    sys.path.insert(0, os.path.join(a.root, "tests", "lib"))
    sys.path.insert(0, os.path.join(a.root, "tests", "qemu"))
    import rv32  # the tests' QEMU runner: flash file, hostfwd port, the UART's lines
    os.makedirs(a.work, exist_ok=True)
    ex, img = build(a)
    times, plain = [], []
    for n in range(1 if a.quick else 3):
        for run, out in ((lambda: push_once(a, rv32, ex, img, n), times),
                         (lambda: plain_once(a, rv32, ex, os.path.getsize(img), n), plain)):
            t = run()
            if isinstance(t, str):
                missing("a run failed: " + t.replace("\n", " ")[-300:])
            out.append(t * 1000)
    med, spread = stats(times)
    bmed, bspread = stats(plain)
    print(json.dumps({
        "id": ID, "value": round(med), "spread": round(spread, 1), "baseline": round(bmed, 1),
        "baseline_spread": round(bspread, 1), "unit": "ms",
        "notes": "hotd push --url of a %d B image (90 KB of constants) to the rv32 QEMU example "
                 "on a fresh boot each time: signing, QEMU user networking and lwIP, the flash "
                 "writes, the reload; baseline: the same bytes over one TCP connection to a "
                 "sink on the port's network alone (bench/qemu_http/sink.c), fresh boot each "
                 "time, %d runs each" % (os.path.getsize(img), len(times))}))


if __name__ == "__main__":
    main()
