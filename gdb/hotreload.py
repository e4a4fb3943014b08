"""gdb helper for hotreload, loaded by gdb/hotreload.gdb as module hotreload_gdb.

The device announces every module copy in its debug descriptor
(agent/include/hotreload/debug.h) and calls hotreload_debug_notify() with
ADD after placing a copy (before any of its code runs) and DELETE before
freeing one (while its bytes are still there). An internal breakpoint on
that function follows along:

- Breakpoint.stop() only reads the descriptor and records the change: gdb
  forbids touching breakpoints or symbols there.
- When user breakpoints exist, stop() asks for a real, silent stop; the
  breakpoint's commands then apply the change (add-symbol-file /
  remove-symbol-file, which re-set every breakpoint) and `continue`. So the
  new copy's breakpoints are in place before it runs, and the old copy's
  are lifted before its memory is reused: gdb never writes a stale byte.
- With no user breakpoint there is nothing to protect: stop() lets the
  device run on and the change is applied at the next stop or prompt.

This file decides when things happen (gdb's events, the notify breakpoint,
the commands); hotreload_descriptor.py reads the device and module files,
hotreload_symbols.py changes what gdb holds.
"""
import importlib.util
import os
import sys

import gdb


def _sibling(name):
    # hotreload.gdb loads this file by its path, not from sys.path (gdb may
    # run from any directory): the siblings beside it are loaded the same way,
    # under their own names, once, so that their imports of each other and
    # a second `source` find the same modules.
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    if not os.path.isfile(path):
        raise gdb.GdbError("hotreload.gdb: %s is missing beside %s" % (name + ".py", __file__))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[name]
        raise
    return mod


# In dependency order: hotreload_symbols imports hotreload_descriptor.
_sibling("hotreload_descriptor")
_sibling("hotreload_symbols")

# Names scripts reach through hotreload_gdb stay here: the breakpoint's
# commands call apply_pending, tests call read_all and elf_build_id.
from hotreload_descriptor import (ACTION_ADD, ACTION_DELETE, NOTIFY,  # noqa: E402
                                  elf_build_id, forget_addresses, read_all, read_header,
                                  read_object)
from hotreload_symbols import (apply_new_command_files, apply_command_file,  # noqa: E402
                               apply_pending, disable_stub_locations, is_snapshot,
                               remove_key, say, state, stub_ranges, sync)


# ---------------------------------------------------------------- the notify breakpoint


def user_breakpoints_armed():
    return any(b.number > 0 and b.enabled for b in gdb.breakpoints())


class NotifyBreakpoint(gdb.Breakpoint):
    """Internal breakpoint on hotreload_debug_notify: records only."""

    def stop(self):
        try:
            _, action, subject = read_header()
            if action not in (ACTION_ADD, ACTION_DELETE) or subject < 0:
                return False
            obj = read_object(subject)
        except (gdb.error, gdb.MemoryError) as e:
            say("cannot read the debug descriptor: %s" % e)
            return False
        if not obj:
            return False
        state.pending.append((action, obj))
        # A silent stop whose commands apply the change and continue.
        return user_breakpoints_armed()


def install():
    if state.bp is None or not state.bp.is_valid():
        state.bp = NotifyBreakpoint(NOTIFY, internal=True)
        state.bp.silent = True
        state.bp.commands = "python __import__('hotreload_gdb').apply_pending()\ncontinue"


def at_safe_point():
    """Each stop and each prompt: the inferior stands still."""
    try:
        thread = gdb.selected_thread()
        if not gdb.selected_inferior().pid or thread is None or not thread.is_stopped():
            return
        if following_descriptor():
            missing = any(not e.get("file") for e in state.loaded.values())
            if state.synced != gdb.selected_inferior().pid or missing:
                # Attached to a device that already runs modules.
                state.synced = gdb.selected_inferior().pid
                sync()
            elif state.pending:
                apply_pending()
        else:
            apply_new_command_files()
        disable_stub_locations()
    except gdb.error as e:
        say(str(e))


def on_stop(event):
    # gdb.execute here would also run the stopping breakpoint's commands
    # (ours end in `continue`) in the middle of this handler. The notify
    # breakpoint's commands apply its changes themselves; after a stop with
    # other commands the work waits until gdb has finished stopping.
    bps = getattr(event, "breakpoints", ())
    if state.bp is not None and state.bp in bps:
        return
    if any(b.commands for b in bps):
        gdb.post_event(at_safe_point)
    else:
        at_safe_point()


def on_exited(event):
    # The process is gone, and so are its module copies.
    state.pending = []
    state.stubs = None
    forget_addresses()
    state.synced = None
    for key in list(state.loaded):
        remove_key(key)


def following_descriptor():
    return state.bp is not None and state.bp.enabled and not state.files_only


def on_breakpoint_created(bp):
    # A user's `break NAME` at a prompt or in a script: the stub location goes
    # now if the stubs are known, else at the next stop.
    if bp.number > 0:
        disable_stub_locations(bp, refresh=False)


def on_new_objfile(event):
    # A module copy the helper added holds neither stubs nor the descriptor:
    # what was read of the firmware stays. Anything else may move them.
    objfile = getattr(event, "new_objfile", None)
    if not is_snapshot(getattr(objfile, "filename", None)):
        state.stubs = None
        forget_addresses()
    if state.bp is not None or state.files_only:
        return
    try:
        gdb.parse_and_eval("&" + NOTIFY)
    except gdb.error:
        return
    install()


# ---------------------------------------------------------------- commands


class HotreloadPrefix(gdb.Command):
    """Follow hot reloads of modules: hotreload status | sync | path DIR | apply FILE | follow MODE."""

    def __init__(self):
        super().__init__("hotreload", gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


class HotreloadStatus(gdb.Command):
    """Show the module copies gdb follows: name, generation, build-id, the symbol
file loaded for it, and every placed section's address and size, as the
device's debug descriptor announced them."""

    def __init__(self):
        super().__init__("hotreload status", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        gdb.write("search path: %s\n" % (os.pathsep.join(state.search_dirs()) or "(none)"))
        gdb.write("following: %s\n" % (
            "the device's notify breakpoint" if following_descriptor()
            else "hotd's command files (hotreload apply)"))
        if not state.loaded:
            gdb.write("no modules loaded\n")
        for key in sorted(state.loaded):
            e = state.loaded[key]
            gdb.write("module %s generation %d build-id %s\n"
                      % (e["module"], e["generation"], e["build_id"].hex()))
            gdb.write("  symbols: %s\n" % (e.get("source") or e["file"] or "(none found)"))
            for name, addr, size in e["sections"]:
                gdb.write("  %-24s 0x%x size 0x%x\n" % (name, addr, size))


class HotreloadSync(gdb.Command):
    """Read the device's debug descriptor now: load the symbols of every module
copy listed and not yet followed, drop those of copies no longer listed."""

    def __init__(self):
        super().__init__("hotreload sync", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        try:
            objs = sync()
        except (gdb.error, gdb.MemoryError) as e:
            raise gdb.GdbError("hotreload sync: cannot read the debug descriptor: %s" % e)
        gdb.write("hotreload: %d module copies listed, %d followed\n"
                  % (len(objs), len(state.loaded)))


class HotreloadPath(gdb.Command):
    """Add DIR to the directories searched for unstripped modules (NAME.debug.o,
matched by GNU build-id) and for hotd's command files (NAME.gdb). Repeatable;
$HOTRELOAD_DEBUG_PATH is searched too. Without DIR, show the search path."""

    def __init__(self):
        super().__init__("hotreload path", gdb.COMMAND_DATA, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        d = arg.strip()
        if d:
            d = os.path.abspath(os.path.expanduser(d))
            if not os.path.isdir(d):
                raise gdb.GdbError("hotreload path: %s is not a directory" % d)
            if d not in state.paths:
                state.paths.append(d)
        stub_ranges()   # a safe moment to learn them, before the user's `break`
        if d and any(not e.get("file") for e in state.loaded.values()):
            at_safe_point()   # copies still without symbols: look again
        gdb.write("hotreload path: %s\n" % (os.pathsep.join(state.search_dirs()) or "(none)"))


class HotreloadApply(gdb.Command):
    """Apply FILE, the add-symbol-file command hotd writes to BUILD/modules/NAME.gdb
after each reload; the symbols of the module's earlier copy are removed first.
For firmware without the notify function; otherwise the descriptor is followed
and this is not needed. Without the notify function, new files in the search
path are applied by themselves at each stop."""

    def __init__(self):
        super().__init__("hotreload apply", gdb.COMMAND_DATA, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        path = os.path.expanduser(arg.strip())
        if not path:
            raise gdb.GdbError("usage: hotreload apply FILE")
        apply_command_file(path)
        try:
            state.applied_files[os.path.abspath(path)] = os.stat(path).st_mtime_ns
        except OSError:
            pass


class HotreloadFollow(gdb.Command):
    """How gdb learns of reloads: `hotreload follow descriptor` (the default when the
firmware has hotreload_debug_notify: a breakpoint there, breakpoints safe across
reloads) or `hotreload follow files` (for targets where that breakpoint cannot
be used: the add-symbol-file commands hotd writes to NAME.gdb in the search
path are applied at each stop; a reload is then learnt of after the fact)."""

    def __init__(self):
        super().__init__("hotreload follow", gdb.COMMAND_DATA)

    def complete(self, text, word):
        return [w for w in ("descriptor", "files") if w.startswith(word or "")]

    def invoke(self, arg, from_tty):
        mode = arg.strip()
        if mode == "files":
            state.files_only = True
            if state.bp is not None and state.bp.is_valid():
                state.bp.enabled = False
            state.pending = []
        elif mode == "descriptor":
            state.files_only = False
            if state.bp is not None and state.bp.is_valid():
                state.bp.enabled = True
            else:
                on_new_objfile(None)
            if state.bp is None:
                raise gdb.GdbError("hotreload follow: the firmware has no %s" % NOTIFY)
        elif mode:
            raise gdb.GdbError("usage: hotreload follow descriptor|files")
        gdb.write("hotreload: following %s\n" % (
            "the debug descriptor" if following_descriptor() else "hotd's command files"))


HotreloadPrefix()
HotreloadFollow()
HotreloadStatus()
HotreloadSync()
HotreloadPath()
HotreloadApply()
gdb.events.stop.connect(on_stop)
gdb.events.before_prompt.connect(at_safe_point)
gdb.events.exited.connect(on_exited)
gdb.events.new_objfile.connect(on_new_objfile)
gdb.events.breakpoint_created.connect(on_breakpoint_created)
on_new_objfile(None)
# Sourcing is a command, a safe moment: learn where the stubs are and, when
# already attached to a device, what it runs (a connection made later is
# read at the next prompt or stop; scripts can say `hotreload sync`).
stub_ranges()
at_safe_point()
