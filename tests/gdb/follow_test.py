"""gdb follows 20 reloads (run by gdb -batch -x, see CMakeLists.txt).

sys.argv = [_, SOURCE_ROOT, MODULE_DIR, HOTD, WORK_DIR]; the inferior is
fw_gdb --key KEY counter_01.img ... counter_20.img, which stores and reloads
each image the way an upload does, then calls counter_step and
counter_report once. Odd versions are built from mod/v1/counter.c, even ones
from mod/v2/counter.c (every function moved, other results), and each
is copied over one counter.debug.o before it is loaded, as a rebuild
rewrites that file in place; the posix
port's first-fit placement puts each version where the one before the
previous was, so every reload from the third on lands on the very address
an earlier version occupied (checked, not assumed).

Per reload: the breakpoint by name (counter_step) and the one by file:line
(counter.c, the report line) each stop exactly once, in that version's code,
with the firmware's run_module as the caller, that version's symbol file,
source, locals and globals; no other stop; the code in memory (read past gdb,
from /proc/PID/mem) equals `hotd relocate` of that image at the same
addresses. At the end: `hotreload status` equals the device's GET /status;
after detaching, the code is still byte-exact.
Prints "gdb_follow: N passed, M failed" and quits with 1 on any failure.
"""
import filecmp
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

import gdb

ROOT, MODDIR, HOTD, WORK = sys.argv[1:5]
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from gdbtest import function_at, is_code, line_of, memory_diff  # noqa: E402
import gdbtest  # noqa: E402
import hrtest  # noqa: E402
IMAGES = sorted(glob.glob(os.path.join(MODDIR, "counter_??.img")))
KEY = os.path.join(WORK, "test.key")
passed = failed = 0
fw_pid = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, flush=True)
    return cond


def run(cmd):
    return gdb.execute(cmd, to_string=True)


def value(expr):
    return int(gdb.parse_and_eval(expr))


def shape(version):
    return 1 if version % 2 else 2


def scaled(version):
    """What counter_step adds to counter_total for x = 7 (mod/v*/counter.c)."""
    return 7 * version + (0 if shape(version) == 1 else 1000)


# ---- what the device should hold: `hotd relocate` at the device's addresses

def relocated(image, obj, fw_triple):
    """{section: bytes} of the code sections as the loader makes them at obj's
    addresses, after checking that the dry run placed every section there."""
    layout, code, err = gdbtest.relocated(HOTD, image, obj, WORK,
                                          ("--sym", "fw_triple=0x%x" % fw_triple))
    if not check(err is None, "hotd relocate %s: %s" % (image, err)):
        return {}
    addrs = {n: a for n, a, _ in obj["sections"]}
    check(layout == addrs, "dry run places %s as the device did (%s vs %s)"
          % (os.path.basename(image), layout, addrs))
    return code


def memory_equals(pid, obj, code, when):
    """The code in the process's memory, read past gdb, equals `code`."""
    diff = memory_diff(pid, obj, code)
    if diff:
        print("  %s: %s" % (when, diff), flush=True)
    return check(diff is None, "%s: code in memory equals the relocated image" % when)


# ---- the session

line = line_of(os.path.join(ROOT, "tests/gdb/mod/v1/counter.c"), "follow_test: report line")
check(line == line_of(os.path.join(ROOT, "tests/gdb/mod/v2/counter.c"),
                      "follow_test: report line"), "the report line has one number in both shapes")
stops = []   # (user breakpoint numbers, internal stops) per stop event


def on_stop(ev):
    nums = [b.number for b in getattr(ev, "breakpoints", [])]
    stops.append(nums if nums else [type(ev).__name__])


def user_stops_since(mark):
    return [s for s in stops[mark:] if not all(isinstance(n, int) and n < 0 for n in s)]


def current_copy(H):
    copies = [o for o in H.read_all() if o["module"] == "counter"]
    return max(copies, key=lambda o: o["generation"]) if copies else None


try:
    check(len(IMAGES) == 20, "20 module images built (%d)" % len(IMAGES))
    gdb.execute("source %s/gdb/hotreload.gdb" % ROOT)
    gdb.execute("source %s/gdb/hotreload.gdb" % ROOT)   # twice: harmless
    import hotreload_gdb as H
    # One NAME.debug.o, rewritten in place for each version as the build does.
    live = tempfile.mkdtemp(dir=WORK, prefix="live-")
    live_debug = os.path.join(live, "counter.debug.o")
    shutil.copyfile(IMAGES[0].replace(".img", ".debug.o"), live_debug)
    gdb.execute("hotreload path %s" % live)
    check("hotreload status" in run("help hotreload"), "help hotreload lists status")
    for sub in ("status", "sync", "path", "apply"):
        check(len(run("help hotreload " + sub).strip()) > 40, "help hotreload " + sub)
    storage = tempfile.mkdtemp(dir=WORK, prefix="storage-")
    gdb.execute("set environment HOTRELOAD_STORAGE_DIR %s" % storage)
    gdb.execute("set breakpoint pending on")
    bp_name = gdb.Breakpoint("counter_step")
    out = run("break counter.c:%d" % line)
    check("pending" in out, "break counter.c:%d is pending before any module: %s" % (line, out))
    bp_line = gdb.breakpoints()[-1]
    bp_done = gdb.Breakpoint("fw_done")

    class Counting(gdb.Breakpoint):
        """A user's breakpoint that never stops (a gdb.Breakpoint whose stop()
        says no): its hits change breakpoints while gdb decides whether to
        stop, where the helper must run no command."""
        calls = 0

        def stop(self):
            Counting.calls += 1
            return False
    Counting("run_module")
    gdb.events.stop.connect(on_stop)
    fw_out = os.path.join(WORK, "fw_gdb.out")
    fw_triple = None
    texts = {}
    mark = 0
    gdb.execute("run --key %s %s > %s 2>&1" % (KEY, " ".join(IMAGES), fw_out))
    fw_pid = gdb.selected_inferior().pid
    for k in range(1, len(IMAGES) + 1):
        image = IMAGES[k - 1]
        tag = "v%d" % k
        # -- stop 1: counter_step, by name
        new = user_stops_since(mark)
        check(new == [[bp_name.number]], "%s: one stop, at counter_step (%s)" % (tag, new))
        mark = len(stops)
        frame = gdb.selected_frame()
        pc = frame.pc()
        obj = current_copy(H)
        text = dict((n, (a, s)) for n, a, s in obj["sections"])[".text"]
        texts[k] = text[0]
        check(obj["generation"] == k, "%s: descriptor lists generation %d" % (tag, obj["generation"]))
        check(frame.name() == "counter_step" and text[0] <= pc < text[0] + text[1],
              "%s: stopped in counter_step at 0x%x inside this copy's .text" % (tag, pc))
        caller = frame.older()
        check(caller is not None and caller.name() == "run_module"
              and caller.find_sal().symtab.filename.endswith("fw_gdb.c")
              and caller.older() is not None and caller.older().name() == "main",
              "%s: bt is counter_step <- run_module <- main (no stub frame)" % tag)
        fn = function_at(pc)
        objfile = fn.symtab.objfile.filename if fn else ""
        want = H.elf_build_id(image.replace(".img", ".debug.o"))
        check(objfile and H.elf_build_id(objfile) == want,
              "%s: symbols from this version's counter.debug.o (%s)" % (tag, objfile))
        copies = [o.filename for o in gdb.objfiles() if "counter" in os.path.basename(o.filename)]
        check(len(copies) == 1, "%s: no other version's symbols loaded (%s)" % (tag, copies))
        check(value("x") == 7, "%s: argument x prints 7" % tag)
        check(value("counter_version") == k, "%s: module global counter_version == %d" % (tag, k))
        total_before = value("counter_total")
        gdb.execute("continue")
        # -- stop 2: counter.c:LINE
        new = user_stops_since(mark)
        check(new == [[bp_line.number]], "%s: one stop, at counter.c:%d (%s)" % (tag, line, new))
        mark = len(stops)
        frame = gdb.selected_frame()
        check(frame.name() == "counter_report" and frame.find_sal().line == line,
              "%s: stopped in counter_report at line %d (%s:%s)"
              % (tag, line, frame.name(), frame.find_sal().line))
        il = run("info line *$pc")
        check("mod/v%d/counter.c" % shape(k) in il, "%s: info line names mod/v%d/counter.c: %s"
              % (tag, shape(k), il.strip()))
        src = run("list counter_step")
        check(("shape one" if shape(k) == 1 else "shape two") in src,
              "%s: list shows this version's source" % tag)
        check(value("tripled") == 6, "%s: local tripled == 6" % tag)
        check(value("counter_total") - total_before == scaled(k),
              "%s: counter_total grew by %d (this version's behaviour)" % (tag, scaled(k)))
        check("tripled = 6" in run("info locals"), "%s: info locals shows tripled" % tag)
        if fw_triple is None:
            fw_triple = value("(unsigned long long)&fw_triple")
        memory_equals(gdb.selected_inferior().pid, obj, relocated(image, obj, fw_triple),
                      "%s stopped" % tag)
        if k < len(IMAGES):   # the next build, written over the running one's file
            shutil.copyfile(IMAGES[k].replace(".img", ".debug.o"), live_debug)
        gdb.execute("continue")

    new = user_stops_since(mark)
    check(new == [[bp_done.number]], "fw_done reached after 20 reloads (%s)" % new)
    internal = sum(1 for s in stops if all(isinstance(n, int) and n < 0 for n in s))
    # One ADD for the first version, then a DELETE and an ADD per reload.
    check(internal == 1 + 2 * (len(IMAGES) - 1),
          "internal stops: %d (want %d)" % (internal, 1 + 2 * (len(IMAGES) - 1)))
    check(bp_name.hit_count == 20 and bp_line.hit_count == 20,
          "each user breakpoint hit 20 times (%d, %d)" % (bp_name.hit_count, bp_line.hit_count))
    check(Counting.calls == 20, "a non-stopping breakpoint counted 20 calls (%d)" % Counting.calls)
    stub_locs = [l for l in bp_name.locations if not l.enabled]
    check(len(stub_locs) == 1, "the firmware stub's location of counter_step is disabled")
    reused = [k for k in texts if k > 2 and texts[k] == texts[k - 2]]
    check(len(reused) == 18 and all(texts[k] != texts[k - 1] for k in texts if k > 1),
          "every version from the third on placed where the one before the previous was "
          "(%d of 18)" % len(reused))
    with open(fw_out) as f:
        printed = f.read()
    check("gen=20 step=%d " % (scaled(20) + 1) in printed and
          "gen=19 step=%d " % (scaled(19) + 1) in printed,
          "the firmware printed each version's behaviour")

    # -- hotreload status vs the device's GET /status
    status_gdb = run("hotreload status")
    port = value("fw_port")
    pid = gdb.selected_inferior().pid
    final = current_copy(H)
    code = relocated(IMAGES[-1], final, fw_triple)
    gdb.execute("delete")
    gdb.execute("detach")
    with open(KEY, "rb") as f:  # signed: only so are the sections' addresses shown
        status = hrtest.signed_status("http://127.0.0.1:%d" % port, f.read())
    mods = [m for m in status["modules"] if m.get("loaded")]
    check(len(mods) == 1 and mods[0]["name"] == "counter", "/status lists module counter")
    m = mods[0]
    head = re.findall(r"^module (\S+) generation (\d+) build-id ([0-9a-f]*)$", status_gdb, re.M)
    check(head == [(m["name"], str(m["generation"]), m["build_id"])],
          "hotreload status lists what /status does: %s vs %s %s %s"
          % (head, m["name"], m["generation"], m["build_id"]))
    secs = re.findall(r"^  (\.\S+)\s+0x([0-9a-f]+) size 0x([0-9a-f]+)$", status_gdb, re.M)
    want = [(s["name"], "%x" % int(s["addr"], 16), "%x" % s["size"]) for s in m["sections"]]
    check(sorted(secs) == sorted(want), "hotreload status sections equal /status's: %s vs %s"
          % (secs, want))
    # -- after the session: the last version's code is exactly what the loader made
    memory_equals(pid, final, code, "after detach")

    # -- following hotd's command files instead of the descriptor: push over
    # HTTP (hotd writes BUILD/modules/counter.gdb), attach, and the helper
    # applies the file at that stop; again after a second push.
    build = tempfile.mkdtemp(dir=WORK, prefix="push-build-")
    os.mkdir(os.path.join(build, "modules"))
    with open(KEY, "rb") as f, open(os.path.join(build, "hotreload.key"), "w") as out:
        out.write(f.read().hex() + "\n")   # hotd reads the key the device has, in hex
    gdb.execute("hotreload follow files")
    gdb.execute("hotreload path %s/modules" % build)
    for k, first in ((1, "counter_step"), (2, "counter_padding")):
        for ext in (".img", ".debug.o"):
            shutil.copy(IMAGES[k - 1].replace(".img", ext),
                        os.path.join(build, "modules", "counter" + ext))
        r = subprocess.run([HOTD, "push", "counter", "--build", build,
                            "--url", "http://127.0.0.1:%d" % port], capture_output=True, text=True)
        check(r.returncode == 0, "hotd push of version %d: %s%s" % (k, r.stdout, r.stderr))
        cmdfile = os.path.join(build, "modules", "counter.gdb")
        with open(cmdfile) as f:
            words = f.read().split()
        kept = os.path.realpath(os.path.join(build, "modules", "counter.debug.d"))
        check(words[0] == "add-symbol-file" and os.path.dirname(os.path.dirname(words[1])) == kept
              and os.path.basename(words[1]) == "counter.debug.o" and
              filecmp.cmp(words[1], os.path.join(build, "modules", "counter.debug.o"), False),
              "hotd wrote %s naming its kept copy of counter.debug.o" % cmdfile)
        text = int(words[2], 0)
        gdb.execute("attach %d" % pid)
        fn = function_at(text)
        check(fn is not None and fn.name == first
              and fn.symtab.objfile.filename.endswith("counter.debug.o"),
              "files mode, push %d: the helper applied counter.gdb (%s at 0x%x)"
              % (k, fn.name if fn else None, text))
        loaded = [o.filename for o in gdb.objfiles() if "counter" in os.path.basename(o.filename)]
        check(len(loaded) == 1, "files mode, push %d: one copy of the module's symbols (%s)"
              % (k, loaded))
        check("0x%x" % text in run("hotreload status"), "hotreload status shows the applied copy")
        gdb.execute("detach")
except Exception as e:  # noqa: BLE001 - any error is a failure of the test
    import traceback
    traceback.print_exc()
    check(False, "exception: %r" % e)
if fw_pid:   # detached by now, or about to be killed with gdb's inferior
    try:
        os.kill(fw_pid, signal.SIGTERM)
    except OSError:
        pass
print("gdb_follow: %d passed, %d failed" % (passed, failed), flush=True)
try:
    if gdb.selected_inferior().pid:
        gdb.execute("kill")
except gdb.error:
    pass
gdb.execute("quit %d" % (1 if failed else 0))
