#!/usr/bin/env python3
"""Instructions per relocation, and per signature check, on a bare-metal
board, counted by QEMU.

    board.py --root SOURCE_ROOT --work DIR [--board rv32-virt|mps2-an385]

Cross-builds bench/board (the benchmark modules in a bare-metal firmware on
the board's port) in DIR and boots it in QEMU with -icount, under which the
count the firmware reads around hr_module_load (hr_board_icount) is exact:
rv32-virt's instret at shift=0, mps2-an385's timer at shift=6. Rows are
named rv32_* or arm_*. Without the port, its cross compiler or QEMU it
prints one row saying what is missing. Prints JSON lines for bench/run.py.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

# Per board: row prefix, port folder, cross prefix, QEMU and its options
# (the random source too: without it the runtime logs its absence), and what
# its relocator is called in the notes.
BOARDS = {
    "rv32-virt": {
        "prefix": "rv32", "port": "rv32-virt", "cross": "riscv64-unknown-elf-",
        "qemu": "qemu-system-riscv32", "shift": "0", "relocator": "RISC-V",
        "args": ["-M", "virt", "-cpu", "rv32,a=off,f=off,d=off", "-m", "64M", "-bios", "none",
                 "-global", "virtio-mmio.force-legacy=false", "-device", "virtio-rng-device"],
    },
    "mps2-an385": {
        "prefix": "arm", "port": "mps2-an385", "cross": "arm-none-eabi-",
        "qemu": "qemu-system-arm", "shift": "6", "relocator": "ARM",
        "args": ["-M", "mps2-an385", "-semihosting-config", "enable=on,target=native"],
    },
}
B = BOARDS["rv32-virt"]


def missing(why):
    print(json.dumps({"id": B["prefix"] + "_reloc", "value": None, "unit": "insn/reloc",
                      "notes": "not available: " + why}))
    sys.exit(0)


def text_bytes(archive):
    """(.text, .rodata + .srodata) bytes of a static library's objects."""
    out = subprocess.run([B["cross"] + "size", "-A", "-d", archive], capture_output=True,
                         text=True).stdout
    text = ro = 0
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].isdigit():
            text += int(f[1]) if f[0].startswith(".text") else 0
            ro += int(f[1]) if re.match(r"\.s?rodata", f[0]) else 0
    return text, ro


def size_rows(work):
    """PREFIX_code_size_*: the loader with only its own relocator, and the
    whole agent (loader, runtime, port, its HTTP and console front-ends)
    without lwIP, mbedTLS and zlib (the libraries it builds from Debian's
    sources), as -Os libraries (every object, linked or not)."""
    lib = lambda *p: os.path.join(work, "hotreload", "agent", *p)
    loader = text_bytes(lib("libhotreload_loader_native.a"))
    port = B["port"]
    parts = [loader, text_bytes(lib("port", port, "libhotreload_%s.a" % port)),
             text_bytes(lib("port", port, "libhotreload_freestanding.a"))]
    lwip = text_bytes(lib("port", port, "libhotreload_lwip.a"))
    crypto = text_bytes(lib("port", port, "mbedtls", "libhotreload_mbedcrypto.a"))
    zlib = text_bytes(lib("port", port, "libhotreload_zlib.a"))
    agent = (sum(p[0] for p in parts), sum(p[1] for p in parts))
    yield {"id": B["prefix"] + "_code_size_loader", "value": loader[0], "spread": 0, "unit": "B",
           "notes": ".text of the loader core with the %s relocator only (-Os), every "
                    "message kept; %d B of constants beside it" % (B["relocator"], loader[1])}
    yield {"id": B["prefix"] + "_code_size_agent", "value": agent[0], "spread": 0, "unit": "B",
           "notes": ".text of loader, runtime, " + port + " port and its HTTP and console "
                    "front-ends "
                    "(-Os), %d B of constants beside it; not counted: lwIP %d B, mbedTLS "
                    "(HR2) %d B and zlib's inflate %d B of .text"
                    % (agent[1], lwip[0], crypto[0], zlib[0])}


def verify_row(a, qemu):
    """HR2's signature check against HR1's over the same request (verify.c)."""
    heap = "%d B of heap at most" % a["heap_peak"] if a["heap_exact"] else "heap not isolated"
    return {"id": B["prefix"] + "_verify_hr2", "value": a["hr2"], "spread": 0, "unit": "insn",
            "baseline": a["hr1"], "baseline_spread": 0,
            "notes": "one HR2 check (message digest + ECDSA P-256 verify, PSA Crypto of mbedTLS "
                     "2.28 from Debian's source, -Os) against the baseline, HR1's HMAC-SHA-256 "
                     "of the same message; ~%.0f ms at 160 MHz if one instruction a cycle; the "
                     "first one, with psa_crypto_init: %d; the stack %d B deeper than before "
                     "it (%d B used), %s; counted under %s -icount shift=%s"
                     % (a["hr2"] / 160e3, a["hr2_first"], a["stack_after"] - a["stack_before"],
                        a["stack_after"], heap, qemu, B["shift"])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--quick", action="store_true")  # the counts are exact: nothing to cut
    ap.add_argument("--board", default="rv32-virt", choices=sorted(BOARDS))
    a = ap.parse_args()
    global B
    B = BOARDS[a.board]
    a.root = os.path.abspath(a.root)
    toolchain = os.path.join(a.root, "agent", "port", B["port"], "toolchain.cmake")
    if not os.path.exists(toolchain):
        missing("the port is missing (agent/port/%s)" % B["port"])
    for tool in (B["qemu"], B["cross"] + "gcc"):
        if not shutil.which(tool):
            missing("%s not found" % tool)
    os.makedirs(a.work, exist_ok=True)
    log = os.path.join(a.work, "build.log")
    with open(log, "w") as out:
        for cmd in (["cmake", "-S", os.path.join(a.root, "bench", "board"), "-B", a.work,
                     "-DHOTRELOAD_DIR=" + a.root, "-DCMAKE_TOOLCHAIN_FILE=" + toolchain],
                    ["cmake", "--build", a.work, "-j%d" % (os.cpu_count() or 2)]):
            if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                with open(log) as f:
                    missing("the build failed: " + f.read()[-400:].replace("\n", " "))
    seed = os.path.join(a.work, "seed.bin")
    with open(seed, "wb") as f:  # mps2-an385's random source (its README)
        f.write(os.urandom(64))
    cmd = [B["qemu"], *B["args"], "-display", "none", "-monitor", "none", "-serial", "stdio",
           "-icount", "shift=" + B["shift"], "-kernel", os.path.join(a.work, "bench_board")]
    if B["prefix"] == "arm":
        cmd += ["-device", "loader,file=%s,addr=0x203fffc0" % seed]
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=300)
    except subprocess.TimeoutExpired:
        missing("QEMU did not finish in 300 s")
    rows, auth = {}, None
    for line in r.stdout.splitlines():
        m = re.match(r"bench-board (\w+) (relocs=.*)", line)
        if m:
            rows[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", m.group(2))}
        elif line.startswith("bench-board-auth "):
            auth = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", line)}
        elif line.startswith("bench-board ") and " error " in line:
            missing("the firmware says: " + line)
    if r.returncode != 0 or "bench-board done" not in r.stdout or not rows:
        missing("QEMU run failed (status %d): %s" % (r.returncode, (r.stdout + r.stderr)[-400:]))
    qemu = subprocess.run([B["qemu"], "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    for name, v in rows.items():
        print(json.dumps({"info": "module", "arch": B["prefix"], "name": name,
                          "file_bytes": v["image"], "text": v["text"], "rodata": v["rodata"],
                          "data": v["data"], "sdata": v["sdata"], "bss": v["bss"],
                          "relocations": v["relocs"]}))
    if auth:
        print(json.dumps(verify_row(auth, qemu)))
    for row in size_rows(a.work):
        print(json.dumps(row))
    for name, v in rows.items():
        print(json.dumps({
            "id": "%s_reloc_%s" % (B["prefix"], name), "value": round(v["load"] / v["relocs"], 1),
            "spread": 0, "unit": "insn/reloc",
            "notes": "hr_module_load from RAM: %d instructions for %d relocations (image %d B); "
                     "hr_module_free: %d; counted under %s -icount shift=%s, agent -Os, "
                     "modules -O2" % (v["load"], v["relocs"], v["image"], v["free"], qemu,
                                      B["shift"])}))
    if "medium" in rows and "large" in rows:
        m, l = rows["medium"], rows["large"]
        print(json.dumps({
            "id": B["prefix"] + "_reloc_marginal",
            "value": round((l["load"] - m["load"]) / (l["relocs"] - m["relocs"]), 1),
            "spread": 0, "unit": "insn/reloc",
            "notes": "instructions per extra relocation, large against medium module (the "
                     "fixed cost of a load taken out; symbols and exports grow with them)"}))


if __name__ == "__main__":
    main()
