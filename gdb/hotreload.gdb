# gdb follows hot reloads: `source gdb/hotreload.gdb` is the only setup.
#
# Loads hotreload.py (beside this file; it loads its siblings hotreload_*.py)
# as the Python module hotreload_gdb: an internal breakpoint on
# hotreload_debug_notify() reads the device's debug descriptor
# (hotreload_debug) at every notification and adds/removes the modules'
# symbols (found by GNU build-id in the search path), so breakpoints
# follow every reload. Commands: hotreload status | sync | path DIR | apply FILE
# (see `help hotreload`). Sourcing it again changes nothing.
python
import importlib.util as _hr_util
import os as _hr_os
import sys as _hr_sys
def _hr_find_helper():
    # gdb keeps the script it is sourcing open: its directory is ours.
    cands = []
    try:
        for fd in _hr_os.listdir("/proc/self/fd"):
            try:
                p = _hr_os.readlink("/proc/self/fd/" + fd)
            except OSError:
                continue
            if p.endswith("/hotreload.gdb"):
                cands.append(_hr_os.path.join(_hr_os.path.dirname(p), "hotreload.py"))
    except OSError:
        pass
    if _hr_os.environ.get("HOTRELOAD_GDB_DIR"):
        cands.append(_hr_os.path.join(_hr_os.environ["HOTRELOAD_GDB_DIR"], "hotreload.py"))
    cands += ["gdb/hotreload.py", "hotreload.py"]
    for c in cands:
        if _hr_os.path.isfile(c):
            return _hr_os.path.abspath(c)
    raise gdb.GdbError("hotreload.gdb: cannot find hotreload.py (set HOTRELOAD_GDB_DIR)")
if "hotreload_gdb" not in _hr_sys.modules:
    _hr_spec = _hr_util.spec_from_file_location("hotreload_gdb", _hr_find_helper())
    _hr_mod = _hr_util.module_from_spec(_hr_spec)
    _hr_sys.modules["hotreload_gdb"] = _hr_mod
    _hr_spec.loader.exec_module(_hr_mod)
end
