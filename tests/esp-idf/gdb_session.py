"""The gdb side of esp_idf_gdb (gdb_test.py runs `gdb -batch -x` this file).

sys.argv = [_, SOURCE_ROOT, APP, HOTD]; the inferior is the example built
for ESP-IDF's linux target (APP/build/hotreload_esp_idf.elf), its HTTP port
in $HOTRELOAD_PORT; gdb_test.py pushes greet v1 once the app's server runs.
Pushes store only (--no-reload): app_main's safe point loads the module.

With gdb/hotreload.gdb sourced and `break greet_text` set before the run:
1. the breakpoint stops in greet_text of the v1 copy the app loaded;
2. greet.c is edited (another text, a function before greet_text, so the
   function moves in the module and in the file), greet_image rebuilt and
   pushed while gdb holds the app at that stop, and `continue`: the same
   breakpoint stops in greet_text of the v2 copy.
At each stop, as tests/gdb does: the pc lies in that copy's code as the
device's descriptor lists it, its symbols come from that build's
greet.debug.o (build-id), no other version's symbols are loaded, gdb shows
that version's line (number and text), the code in memory equals
`hotd relocate` of that build's image at those addresses, the backtrace runs
greet_text <- app_main (main.c) with no stub frame, and `finish` returns
that version's string. Prints "esp_idf_gdb session: N passed, M failed" and
quits with 1 on any failure, with HUNG (3) when the app stopped making
progress (see Watchdog) before any check failed.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import gdb

ROOT, APP, HOTD = sys.argv[1:4]
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402
import gdbtest  # noqa: E402
from gdbtest import function_at, is_code, line_of, memory_diff  # noqa: E402

BUILD = os.path.join(APP, "build")
MODS = os.path.join(BUILD, "modules")
SOURCE = os.path.join(APP, "components", "greet", "greet.c")
URL = "http://127.0.0.1:%s" % os.environ.get("HOTRELOAD_PORT", "0")
# v2: a function in front of greet_text moves it (in the module's code and
# in the file); `used` keeps it although nothing calls it, and static keeps
# it out of the module's exports, which the firmware's stubs are made from.
PADDING = ("__attribute__((used, noinline)) static int greet_padding(int x)\n"
           "{\n    return x * 3 + 1;\n}\n\n")


def run(cmd):
    return gdb.execute(cmd, to_string=True)


def shown(cmd):
    """Run a gdb command and print its output (the test log shows what gdb
    said at each step)."""
    print("(gdb) %s" % cmd, flush=True)
    out = run(cmd)
    print(out.rstrip("\n"), flush=True)
    return out


def expected(version):
    """What gdb and the device should show of greet as just built: its
    source line, its image (a copy: the next build rewrites greet.img), the
    build-id of the greet.debug.o gdb should read."""
    H = sys.modules["hotreload_gdb"]
    image = os.path.join(tempfile.mkdtemp(dir=APP, prefix="greet-v%d-" % version), "greet.img")
    with open(os.path.join(MODS, "greet.img"), "rb") as f, open(image, "wb") as out:
        out.write(f.read())
    text = 'return "hello from greet v%d";' % version
    return {"tag": "v%d" % version, "text": text, "line": line_of(SOURCE, text), "image": image,
            "string": "hello from greet v%d" % version,
            "build_id": H.elf_build_id(os.path.join(MODS, "greet.debug.o"))}


# ---- the device's copy of greet, and its code as `hotd relocate` makes it

def greet_copies():
    H = sys.modules["hotreload_gdb"]
    return [o for o in H.read_all() if o["module"] == "greet"]


def relocated(want, obj):
    """{code section: bytes} of want's image loaded at obj's addresses by
    the device's loader on the host, after checking it places every section
    where the device did."""
    layout, code, err = gdbtest.relocated(HOTD, want["image"], obj, APP)
    if not check(err is None, "hotd relocate: %s" % err):
        return {}
    addrs = {n: a for n, a, _ in obj["sections"]}
    check(layout == addrs, "%s: hotd relocate places it as the device did (%s vs %s)"
          % (want["tag"], layout, addrs))
    return code


def memory_equals(want, obj):
    """The copy's code in the process, read past gdb (no breakpoint bytes
    hidden), equals the relocated image."""
    diff = memory_diff(gdb.selected_inferior().pid, obj, relocated(want, obj))
    check(diff is None, "%s: the code in memory equals hotd relocate of its image (%s)"
          % (want["tag"], diff))


# ---- one stop at the breakpoint


def check_copy(want, pc):
    """The stop at pc is in greet_text of the device's one copy of greet, of
    this build. Returns that copy (the descriptor's object)."""
    tag = want["tag"]
    copies = greet_copies()
    check(len(copies) == 1, "%s: the descriptor lists one copy of greet (%d)" % (tag, len(copies)))
    obj = max(copies, key=lambda o: o["generation"])
    code = [(n, a, s) for n, a, s in obj["sections"] if is_code(n)]
    inside = [n for n, a, s in code if a <= pc < a + s]
    check(gdb.selected_frame().name() == "greet_text" and inside,
          "%s: stopped in greet_text at 0x%x, inside the copy's code %s" % (tag, pc, code))
    check(obj["build_id"] == want["build_id"], "%s: the device runs this build (build-id %s)"
          % (tag, obj["build_id"].hex()))
    fn = function_at(pc)
    objfile = fn.symtab.objfile.filename if fn else ""
    H = sys.modules["hotreload_gdb"]
    check(objfile and H.elf_build_id(objfile) == want["build_id"],
          "%s: symbols from this build's greet.debug.o (%s)" % (tag, objfile))
    loaded = [o.filename for o in gdb.objfiles() if "greet" in os.path.basename(o.filename)]
    check(len(loaded) == 1, "%s: no other version's symbols loaded (%s)" % (tag, loaded))
    return obj


def check_stop(want):
    """gdb stands in greet_text of want's build: see the module's docstring.
    Returns (the copy, the pc, greet_text's offset in the copy's code)."""
    tag = want["tag"]
    frame = gdb.selected_frame()
    pc = frame.pc()
    obj = check_copy(want, pc)
    sal = frame.find_sal()
    where = shown("frame")
    check(sal.symtab is not None and sal.symtab.filename.endswith("components/greet/greet.c")
          and sal.line == want["line"], "%s: at greet.c:%d (%s:%s)" % (
              tag, want["line"], sal.symtab and sal.symtab.filename, sal.line))
    check(re.search(r"^%d\s+%s$" % (want["line"], re.escape(want["text"])), where, re.M),
          "%s: gdb shows line %d: %s" % (tag, want["line"], want["text"]))
    try:
        listed = run("list %d,%d" % (want["line"], want["line"]))
    except gdb.error as e:   # gdb still holds the old text of greet.c
        listed = str(e)
    check(want["text"] in listed, "%s: list shows this version's line: %s" % (tag, listed))
    memory_equals(want, obj)
    bt = shown("bt 3")
    caller = frame.older()
    check(caller is not None and caller.name() == "app_main"
          and caller.find_sal().symtab.filename.endswith("main/main.c"),
          "%s: bt is greet_text <- app_main (main.c), no stub frame: %s" % (tag, bt))
    count = len(run("show values"))
    go("finish", show=True)   # gdb prints the value itself, past to_string
    value = gdb.history(0)
    rodata = [(a, s) for n, a, s in obj["sections"] if n.startswith(".rodata")]
    check(len(run("show values")) > count and value.string() == want["string"]
          and any(a <= int(value) < a + s for a, s in rodata),
          "%s: finish returns \"%s\" from the copy's .rodata (%s)" % (tag, want["string"], value))
    check(gdb.selected_frame().name() == "app_main", "%s: finish lands in app_main" % tag)
    base = min(a for n, a, _ in obj["sections"] if is_code(n))
    return obj, pc, pc - base


# ---- an app that stops making progress

# ESP-IDF's FreeRTOS port for linux runs each task as a thread that goes on
# running after FreeRTOS has switched to another task, until it next blocks.
# gdb (all-stop) stops every thread at each stop and resumes them together;
# the tick thread's sleep is long over by then and it switches tasks at once,
# so a task may run on while FreeRTOS runs another, and FreeRTOS calls it
# makes act for the wrong task. Now and then FreeRTOS's view and the threads
# part: seen here, FreeRTOS running httpd while httpd's thread waits for its
# turn; the main task blocked on the runtime's lock that it holds itself.
# The app then never calls greet_text again. Not hotreload's doing, and not
# the helper's: such a session is ended (status HUNG) and gdb_test.py runs
# another; a check that fails is never run again.
HUNG = 3
WATCHDOG_S = 15   # the app calls greet_text every 0.5 s


class AppHung(Exception):
    pass


class Watchdog:
    """Interrupts the app (SIGINT, which gdb takes) when a command that runs
    it has not come back in WATCHDOG_S."""

    def __init__(self):
        self.deadline = None
        self.fired = False
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while True:
            time.sleep(0.2)
            end = self.deadline
            if end is not None and time.time() > end and not self.fired:
                self.fired = True
                for pid in app_pids():
                    os.kill(pid, signal.SIGINT)


def app_pids():
    """gdb's children that run the app (no gdb call: this runs in a thread)."""
    elf = os.path.realpath(os.path.join(BUILD, "hotreload_esp_idf.elf"))
    pids = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/children" % task) as f:
                kids = [int(p) for p in f.read().split()]
        except OSError:
            continue
        for pid in kids:
            try:
                if os.path.realpath(os.readlink("/proc/%d/exe" % pid)) == elf:
                    pids.append(pid)
            except OSError:
                pass
    return pids


watchdog = None


def go(cmd, show=False):
    """A command that runs the app, watched; AppHung if it had to be stopped."""
    watchdog.deadline = time.time() + WATCHDOG_S
    try:
        if show:
            shown(cmd)
        else:
            gdb.execute(cmd)
    except gdb.error:
        if not watchdog.fired:
            raise
    finally:
        watchdog.deadline = None
    if watchdog.fired:
        raise AppHung()


def hang_report():
    print("the app made no progress for %d s; its threads, the task FreeRTOS runs, and who "
          "holds the runtime's lock (agent/port/esp-idf/platform.c):" % WATCHDOG_S, flush=True)
    holder = "((TCB_t *)((struct QueueDefinition *)&lock_mem)->u.xSemaphore.xMutexHolder)"
    for cmd in ("info threads", "thread apply all bt 12", "p pxCurrentTCBs[0]->pcTaskName",
                "p pxCurrentTCB->pcTaskName", "p %s->pcTaskName" % holder):
        try:
            shown(cmd)
        except gdb.error as e:
            print("%s: %s" % (cmd, e), flush=True)


# ---- the session


stops = []   # breakpoint numbers of each stop (the helper's are negative)


def on_stop(ev):
    stops.append([b.number for b in getattr(ev, "breakpoints", [])])


def internal_stops(since):
    return sum(1 for s in stops[since:] if s and all(n < 0 for n in s))


def edit_to_v2():
    with open(SOURCE) as f:
        text = f.read()
    fn = "const char *greet_text(void)"
    assert fn in text and "greet v1" in text, "greet.c is not the example's: " + text
    with open(SOURCE, "w") as f:
        f.write(text.replace(fn, PADDING + fn).replace("greet v1", "greet v2"))
    r = subprocess.run(["ninja", "-C", BUILD, "-j2", "greet_image"], capture_output=True,
                       text=True)
    check(r.returncode == 0, "greet_image rebuild: " + r.stdout[-2000:])


def to_new_copy(push, old):
    """continue until the breakpoint stops outside the old copy: it may stop
    in the old one until the upload is stored, and once more before the app's
    next safe point loads it. Gives up two stops after the push ended (or
    after 30 s)."""
    after_push, end = 0, time.time() + 30
    while True:
        go("continue")
        pc = gdb.selected_frame().pc()
        if not any(a <= pc < a + s for n, a, s in old["sections"]) or time.time() > end:
            return
        if push.poll() is not None:
            after_push += 1
            if after_push == 2:
                return


def start():
    """gdb set up as a user would, the app run until greet_text of v1."""
    # FreeRTOS's POSIX ports of other ESP-IDF versions (and the SMP kernel's)
    # tick with SIGALRM and resume threads with SIGUSR1: gdb would stop at
    # each. This ESP-IDF's default port sends neither while it runs (SIGUSR1
    # only asks for a backtrace before an abort); passed through, unseen.
    gdb.execute("handle SIGALRM SIGUSR1 nostop noprint pass")
    gdb.execute("source %s/gdb/hotreload.gdb" % ROOT)
    gdb.execute("hotreload path %s" % MODS)
    gdb.execute("set breakpoint pending on")
    bp = gdb.Breakpoint("greet_text")
    gdb.events.stop.connect(on_stop)
    v1 = expected(1)
    go("run")   # gdb_test.py pushes v1 once the server runs
    print("app pid %d" % gdb.selected_inferior().pid, flush=True)
    users = [s for s in stops if not all(n < 0 for n in s)]
    check(users == [[bp.number]] and internal_stops(0) == 1,
          "v1: the helper's silent stop (ADD v1), then one at greet_text (%s)" % stops)
    return bp, v1


def session():
    bp, v1 = start()
    obj1, pc1, off1 = check_stop(v1)
    # The edit and the push while gdb holds the app, as a user does at the
    # breakpoint; the upload is served once the app runs again. --no-reload
    # (see gdb_test.py): stored, then loaded by the app's own safe point.
    mark = len(stops)
    edit_to_v2()
    v2 = expected(2)
    check(v2["line"] != v1["line"] and v2["build_id"] != v1["build_id"],
          "v2 is another build, its line elsewhere (%d vs %d)" % (v2["line"], v1["line"]))
    push = subprocess.Popen([HOTD, "push", "greet", "--build", BUILD, "--url", URL,
                             "--no-reload"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    to_new_copy(push, obj1)
    out = push.communicate(timeout=30)[0]
    check(push.returncode == 0 and "ok, stored module 'greet'" in out, "push v2: " + out.strip())
    obj2, pc2, off2 = check_stop(v2)
    check(not any(a <= pc2 < a + s for n, a, s in obj1["sections"]),
          "v2: stopped at 0x%x, outside v1's copy (greet_text was at 0x%x)" % (pc2, pc1))
    check(obj2["generation"] > obj1["generation"], "v2: a later generation (%d after %d)"
          % (obj2["generation"], obj1["generation"]))
    check(off2 != off1, "v2: greet_text moved in the module's code (+0x%x, was +0x%x)"
          % (off2, off1))
    users = [s for s in stops[mark:] if not all(n < 0 for n in s)]
    check(users and all(s == [bp.number] for s in users), "only greet_text stopped (%s)" % users)
    check(internal_stops(mark) == 2, "the helper's silent stops: DELETE v1, ADD v2 (%d)"
          % internal_stops(mark))
    live = [l for l in bp.locations if l.enabled]
    check(len(live) == 1 and any(a <= live[0].address < a + s for n, a, s in obj2["sections"]),
          "the breakpoint's one enabled location is in v2's copy (the stub's is disabled)")
    shown("info breakpoints")
    status = shown("hotreload status")
    check("module greet generation %d build-id %s" % (obj2["generation"], v2["build_id"].hex())
          in status, "hotreload status lists v2")


def main():
    global watchdog
    watchdog = Watchdog()
    hung = False
    try:
        session()
    except AppHung:
        hung = True
        hang_report()
    except Exception as e:  # noqa: BLE001 - any error is a failure of the test
        import traceback
        traceback.print_exc()
        check(False, "exception: %r" % e)
    rc = hrtest.summary("esp_idf_gdb session")
    if hung and rc == 0:
        print("esp_idf_gdb session: the app hung (ESP-IDF's linux port, see above)", flush=True)
        rc = HUNG
    try:
        if gdb.selected_inferior().pid:
            gdb.execute("kill")
    except gdb.error:
        pass
    gdb.execute("quit %d" % rc)


main()
