#!/usr/bin/python3
"""The gdb helper never blocks gdb when a module's unstripped file is gone:
gdb in batch mode, a breakpoint on counter_step, fw_gdb loading three
versions of module "counter" in turn, and the search path holding only
version 2's counter.debug.o (version 1's and 3's rebuilt over, and hotd's
kept copies in counter.debug.d/ deleted). The session must run to its end:
gdb says, once per missing copy, which file it looked for (counter.debug.o
with that build-id, where), stops in version 2's code, passes versions 1 and
3 without stopping, reaches fw_done and exits 0; `hotreload apply` of a
command file hotd wrote for a kept copy deleted since names that file and
the session goes on. A helper that blocks makes ctest's timeout fail the
test.

usage: missing_test.py GDB SOURCE_DIR WORK_DIR FW_GDB KEY IMAGE1 IMAGE2 IMAGE3
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


def main():
    gdb, root, work, fw, key, *images = sys.argv[1:]
    debug = [i.replace(".img", ".debug.o") for i in images]
    ids = [build_id(d) for d in debug]
    mods = tempfile.mkdtemp(dir=work, prefix="missing-")
    shutil.copyfile(debug[1], os.path.join(mods, "counter.debug.o"))
    os.mkdir(os.path.join(mods, "counter.debug.d"))   # hotd's kept copies: deleted
    storage = tempfile.mkdtemp(dir=work, prefix="storage-")
    fw_out = os.path.join(work, "missing_fw.out")
    # hotd's command file for a push whose kept copy was deleted since.
    gone = os.path.join(mods, "counter.debug.d", ids[2], "counter.debug.o")
    cmdfile = os.path.join(mods, "counter.gdb")
    with open(cmdfile, "w") as f:
        f.write(f"add-symbol-file {gone} 0x1000 -s .data 0x2000\n")
    cmds = [f"source {root}/gdb/hotreload.gdb", f"hotreload path {mods}",
            f"set environment HOTRELOAD_STORAGE_DIR {storage}", "set breakpoint pending on",
            "break counter_step", "break fw_done",
            f"run --key {key} {' '.join(images)} > {fw_out} 2>&1",
            "print counter_version", "bt 3", "continue", "print $pc >= (long)&fw_done && $pc < (long)&fw_done + 256",
            "hotreload status", f"hotreload apply {cmdfile}", "print 6 * 7", "kill"]
    argv = [gdb, "-nx", "-batch"] + [a for c in cmds for a in ("-ex", c)] + [fw]
    r = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    print(out, flush=True)
    check(r.returncode == 0, f"gdb -batch ran to its end and exited 0 ({r.returncode})")
    for k in (0, 2):
        said = re.findall(rf"hotreload: module 'counter' generation {k + 1}: no counter\.debug\.o "
                          rf"with build-id {ids[k]} in {re.escape(mods)} nor "
                          rf"{re.escape(mods)}/counter\.debug\.d/{ids[k]}/", out)
        check(len(said) == 1, f"generation {k + 1}: said once which file is missing, and where "
              f"({len(said)} times)")
    check(not re.search(rf"generation 2: no counter\.debug\.o", out),
          "generation 2, whose file is there, is not said missing")
    stops = re.findall(r"hit Breakpoint (\d+)(?:\.\d+)?, (\w+) ", out)
    check(stops == [("1", "counter_step"), ("2", "fw_done")],
          f"one stop in counter_step (version 2, the one with symbols), then fw_done: {stops}")
    check(re.search(r"^\$1 = 2$", out, re.M) is not None,
          "the stop is in version 2: counter_version prints 2")
    check(re.search(r"#1 .* run_module .*fw_gdb\.c", out) is not None,
          "bt goes on through the firmware's frames")
    check(re.search(r"^\$2 = 1$", out, re.M) is not None, "the session reached fw_done")
    check(f"hotreload apply: {cmdfile} names {gone}, which is missing: rebuild the module or "
          f"push it again with hotd" in out, "hotreload apply names the missing file of a "
          "command file")
    check(re.search(r"^\$3 = 42$", out, re.M) is not None, "the session goes on after it")
    status = re.findall(r"^module counter generation (\d+)", out, re.M)
    check(status == ["3"], f"hotreload status lists the running generation 3: {status}")
    check("symbols: (none found)" in out, "hotreload status says generation 3 has no symbols")
    with open(fw_out) as f:
        ran = f.read()
    check(all(f"gen={g} " in ran for g in (1, 2, 3)), "the firmware ran all three versions")
    return hrtest.summary("gdb_missing")


if __name__ == "__main__":
    sys.exit(main())
