#!/usr/bin/env python3
"""Time from a reload starting to gdb's breakpoint firing in the new code.

    gdb_rearm.py --fw GDB_FW --modules DIR --root SOURCE_ROOT [--reps N] [--quick]

gdb_fw (bench/gdb_fw.c) stores and reloads a module REPS times, writing
CLOCK_MONOTONIC into bench_t0_ns just before hotreload_reload(), then calls
the module's bench_probe once. gdb runs it in batch mode with
gdb/hotreload.gdb sourced and a breakpoint on bench_probe: the helper stops
at each hotreload_debug_notify, adds the new copy's symbols (so the
breakpoint is re-set in the new code before it runs) and removes the old
copy's. The breakpoint's stop() reads the clock (the same CLOCK_MONOTONIC)
and bench_t0_ns: that difference is the measurement. Baseline: the same
reloads without gdb (hotreload_reload's own duration). The first two reloads
are left out (gdb's first symbol loads). A second row, gdb_rearm_vs_symbols,
sets the same figure against gdb's own add-symbol-file + remove-symbol-file
of the copies' debug objects.

Run by python3 it drives; run inside gdb (-x) it is gdb's script.
Prints one JSON line for bench/run.py.
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SKIP = 2


def stats(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    med = statistics.median(values)
    return med, (100.0 * (q[2] - q[0]) / med if med else 0.0)


def symbols_only(gdb, p):
    """The second baseline, inside gdb: add-symbol-file and remove-symbol-file
    of each copy's debug object with a breakpoint on bench_probe to re-set,
    timed (ms), the process not running."""
    gdb.execute("set confirm off")
    gdb.Breakpoint("bench_probe")  # re-set in each file added, as during the re-arm
    took = []
    for f in p["debug"]:
        t0 = time.monotonic_ns()
        gdb.execute("add-symbol-file %s -o 0x10000000" % f, to_string=True)
        gdb.execute("remove-symbol-file %s" % f, to_string=True)
        took.append((time.monotonic_ns() - t0) / 1e6)
    with open(p["hits"], "w") as out:
        json.dump(took, out)


def inside_gdb():
    """gdb's part: the breakpoint's stop() takes the time and stops; this
    loop continues until the firmware reaches bench_done."""
    import gdb
    p = json.loads(os.environ["BENCH_GDB_PARAMS"])
    if p.get("debug"):
        return symbols_only(gdb, p)
    gdb.execute("set pagination off")
    gdb.execute("source %s" % os.path.join(p["root"], "gdb", "hotreload.gdb"))
    gdb.execute("hotreload path %s" % p["modules"])
    hits = []

    class Probe(gdb.Breakpoint):
        def stop(self):
            now = time.monotonic_ns()
            try:
                sal = gdb.find_pc_line(gdb.selected_frame().pc())
                in_module = sal.symtab is not None and sal.symtab.filename.endswith("gdb_probe.c")
                rep = int(gdb.parse_and_eval("bench_rep"))
                t0 = int(gdb.parse_and_eval("bench_t0_ns"))
                hits.append([rep, now - t0, in_module])
            except gdb.error as e:
                hits.append([-1, 0, str(e)])
            return True

    probe = Probe("bench_probe")
    probe.silent = True
    done = gdb.Breakpoint("bench_done")
    gdb.execute("run %s > %s 2>&1" % (" ".join(p["args"]), p["fw_out"]), to_string=True)
    for _ in range(10 * len(p["args"]) + 100):
        proc = gdb.selected_inferior()
        if not proc.pid or done.hit_count:
            break
        gdb.execute("continue", to_string=True)
    with open(p["hits"], "w") as f:
        json.dump(hits, f)
    if gdb.selected_inferior().pid:
        gdb.execute("kill")


def drive():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fw", required=True)
    ap.add_argument("--modules", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--reps", type=int)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    reps = a.reps or (8 if a.quick else 42)
    images = sorted(glob.glob(os.path.join(a.modules, "gdb_probe_??.img")))
    if not images:
        sys.exit("gdb_rearm: no images in %s" % a.modules)
    work = tempfile.mkdtemp(prefix="bench-gdb-")
    try:
        measure(a, reps, images, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(a, reps, images, work):
    args = [str(reps)] + images

    # Baseline: the same reloads, no debugger.
    store = os.path.join(work, "store-plain")
    os.makedirs(store)
    env = dict(os.environ, HOTRELOAD_STORAGE_DIR=store)
    out = subprocess.run([a.fw] + args, env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        sys.exit("gdb_rearm: %s failed: %s" % (a.fw, out.stderr[-500:]))
    plain = [int(line.split()[2]) / 1e6 for line in out.stdout.splitlines()
             if line.startswith("reload ")][SKIP:]

    store = os.path.join(work, "store-gdb")
    os.makedirs(store)
    params = {"root": a.root, "modules": a.modules, "args": args, "fw_out": os.path.join(work, "fw.out"),
              "hits": os.path.join(work, "hits.json")}
    env = dict(os.environ, HOTRELOAD_STORAGE_DIR=store, BENCH_GDB_PARAMS=json.dumps(params))
    g = subprocess.run(["gdb", "-nx", "-batch", "-x", os.path.abspath(__file__), "--args", a.fw],
                       env=env, capture_output=True, text=True, timeout=600)
    try:
        with open(params["hits"]) as f:
            hits = json.load(f)
    except (OSError, ValueError):
        sys.exit("gdb_rearm: gdb wrote no results: %s" % (g.stdout + g.stderr)[-800:])
    first = {}
    for rep, ns, in_module in hits:
        if in_module and rep not in first:
            first[rep] = ns / 1e6
    missed = [r for r in range(reps) if r not in first]
    under = [first[r] for r in range(SKIP, reps) if r in first]
    if not under:
        sys.exit("gdb_rearm: the breakpoint never hit in module code")
    med, spread = stats(under)
    bmed, bspread = stats(plain)
    notes = ("ms from hotreload_reload() starting to the breakpoint hitting in the new code, "
             "gdb following with gdb/hotreload.gdb; baseline: the same reload without gdb; "
             "%d reloads, slowest %.1f ms" % (len(under), max(under)))
    if missed:
        notes += "; NO HIT in new code for reload(s) %s" % missed
    print(json.dumps({"id": "gdb_rearm", "value": round(med, 3), "spread": round(spread, 1),
                      "baseline": round(bmed, 3), "baseline_spread": round(bspread, 1),
                      "unit": "ms", "notes": notes, "missed": len(missed)}))
    smed, sspread = stats(symbol_files(a, images, work))
    print(json.dumps({"id": "gdb_rearm_vs_symbols", "value": round(med, 3),
                      "spread": round(spread, 1), "baseline": round(smed, 3),
                      "baseline_spread": round(sspread, 1), "unit": "ms",
                      "notes": "the same re-arm against gdb's own add-symbol-file + "
                               "remove-symbol-file of the copies' debug objects, a breakpoint "
                               "on bench_probe re-set each time (no process)"}))


def symbol_files(a, images, work):
    """ms of gdb's add-symbol-file + remove-symbol-file per debug object."""
    debug = [i[:-len(".img")] + ".debug.o" for i in images]
    params = {"debug": [d for d in debug if os.path.exists(d)][SKIP:] or debug,
              "hits": os.path.join(work, "symbols.json")}
    env = dict(os.environ, BENCH_GDB_PARAMS=json.dumps(params))
    g = subprocess.run(["gdb", "-nx", "-batch", "-x", os.path.abspath(__file__), a.fw],
                       env=env, capture_output=True, text=True, timeout=300)
    try:
        with open(params["hits"]) as f:
            return json.load(f)
    except (OSError, ValueError):
        sys.exit("gdb_rearm: gdb timed no symbol files: %s" % (g.stdout + g.stderr)[-800:])


if __name__ == "__main__":
    try:
        import gdb  # noqa: F401
        inside_gdb()
    except ImportError:
        drive()
