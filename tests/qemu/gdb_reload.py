"""gdb-multiarch follows a reload on a QEMU board (run by gdb -batch -x
from example_test.py).

sys.argv = [_, SOURCE_ROOT, GDB_PORT, RESULT_JSON, SEARCH_DIR..., '--', PUSH
COMMAND...]. Attaches to QEMU's gdbstub with `source gdb/hotreload.gdb`,
breaks on the module's `arithmetic`, stops there in the running copy, then
runs PUSH (hotd push over the UART) while the device runs under gdb: the
breakpoint must hit again in the new copy's code (on rv32 its
instruction-bus alias), with the firmware's main as the caller. Writes what it saw to
RESULT_JSON; the checks are made by example_test.py.
"""
import json
import subprocess
import sys

import gdb

root, port, result = sys.argv[1:4]
rest = sys.argv[4:]
dirs, push = rest[:rest.index("--")], rest[rest.index("--") + 1:]
seen = {"stops": [], "error": None}


def where():
    """(pc, generation of the copy whose .text holds pc or None, caller)."""
    import hotreload_gdb as H
    frame = gdb.selected_frame()
    pc = frame.pc()
    gen = None
    for o in H.read_all():
        for name, addr, size in o["sections"]:
            if name == ".text" and addr <= pc < addr + size:
                gen = o["generation"]
    older = frame.older()
    return {"pc": pc, "generation": gen, "function": frame.name(),
            "caller": older.name() if older else None}


try:
    gdb.execute("set pagination off")
    gdb.execute("target remote 127.0.0.1:%s" % port)
    gdb.execute("source %s/gdb/hotreload.gdb" % root)
    for d in dirs:
        gdb.execute("hotreload path %s" % d)
    gdb.execute("break arithmetic")
    gdb.execute("continue")
    first = where()
    seen["stops"].append(first)
    seen["status_before"] = gdb.execute("hotreload status", to_string=True)
    proc = subprocess.Popen(push, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # The firmware calls arithmetic once a second; the upload runs meanwhile.
    for _ in range(60):
        gdb.execute("continue")
        here = where()
        seen["stops"].append(here)
        if here["generation"] is not None and here["generation"] != first["generation"]:
            break
    seen["status_after"] = gdb.execute("hotreload status", to_string=True)
    gdb.execute("delete")
    gdb.execute("detach")   # the device runs on and answers the push
    out, _ = proc.communicate(timeout=120)
    seen["push"] = {"rc": proc.returncode, "out": out}
except Exception as e:  # noqa: BLE001 - reported to the test
    seen["error"] = repr(e)
with open(result, "w") as f:
    json.dump(seen, f)
gdb.execute("quit")
