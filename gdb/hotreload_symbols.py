"""What gdb holds for the module copies, for the gdb helper (hotreload_gdb):
symbol files found by build-id and added or removed, breakpoint locations
inside the firmware's stubs disabled, hotd's command files applied.

These run gdb commands, which gdb forbids in Breakpoint.stop(): hotreload.py
calls them only where the inferior stands still and commands may run. It loads
hotreload_descriptor before this module.
"""
import atexit
import glob
import os
import shlex
import shutil
import tempfile

import gdb

from hotreload_descriptor import (ACTION_ADD, ACTION_DELETE, NOTIFY, elf_build_id,
                                  firmware_address, read_all, read_stub_ranges, text_addr)


def say(text):
    gdb.write("hotreload: %s\n" % text)


# ---------------------------------------------------------------- state


class State:
    def __init__(self):
        self.paths = []          # from `hotreload path`
        self.loaded = {}         # key address -> entry (descriptor object + symbol file)
        self.pending = []        # recorded (action, object), not applied yet
        self.cache = {}          # path -> ((mtime, size), build_id)
        self.bp = None
        self.stubs = None        # (notify address, [(start, end)] of the stubs), None: not read
        self.applied_files = {}  # hotd command file -> mtime applied
        self.files_only = False  # `hotreload follow files`
        self.snapshots = None    # folder of the symbol files' private copies
        self.synced = None       # the process whose descriptor was read whole
        self.said_missing = set()  # (module, build-id) whose missing file was said

    def search_dirs(self):
        dirs = list(self.paths)
        for d in os.environ.get("HOTRELOAD_DEBUG_PATH", "").split(os.pathsep):
            if d and os.path.abspath(d) not in dirs:
                dirs.append(os.path.abspath(d))
        return dirs

    def file_dirs(self):
        """The search path, then the copies hotd keeps of every pushed build
        (DIR/NAME.debug.d/BUILD-ID/): a device restarted onto an older image
        runs code whose NAME.debug.o has been rebuilt since."""
        dirs = self.search_dirs()
        kept = []
        for d in dirs:
            kept += sorted(glob.glob(os.path.join(d, "*.debug.d", "*")))
        return dirs + kept

    def find_file(self, build_id):
        """The unstripped module (*.debug.o first, then *.o) with this build-id."""
        if not build_id:
            return None
        for suffix in (".debug.o", ".o"):
            for d in self.file_dirs():
                try:
                    names = sorted(os.listdir(d))
                except OSError:
                    continue
                for n in names:
                    if not n.endswith(suffix) or (suffix == ".o" and n.endswith(".debug.o")):
                        continue
                    p = os.path.join(d, n)
                    try:
                        st = os.stat(p)
                    except OSError:
                        continue
                    key = (st.st_mtime_ns, st.st_size)
                    c = self.cache.get(p)
                    if not c or c[0] != key:
                        c = (key, elf_build_id(p))
                        self.cache[p] = c
                    if c[1] == build_id:
                        return os.path.abspath(p)
        return None


state = State()


def _run(cmd):
    return gdb.execute("with confirm off -- " + cmd, to_string=True)


# ---------------------------------------------------------------- symbol work


def is_snapshot(path):
    """Is path one of the private copies snapshot() made (a module copy's symbols)?"""
    return bool(state.snapshots and path and path.startswith(state.snapshots + os.sep))


def snapshot(path, build_id):
    """A private copy of the symbol file, named by its build-id. The build
    rewrites NAME.debug.o in place for the next version while gdb still reads
    the running one's debug information from it; the copy never changes."""
    if state.snapshots is None:
        state.snapshots = tempfile.mkdtemp(prefix="hotreload-gdb-")
        atexit.register(shutil.rmtree, state.snapshots, True)
    d = os.path.join(state.snapshots, build_id.hex())
    copy = os.path.join(d, os.path.basename(path))
    if not os.path.exists(copy):
        os.makedirs(d, exist_ok=True)
        shutil.copyfile(path, copy + ".part")
        if elf_build_id(copy + ".part") != build_id:   # rewritten meanwhile
            os.unlink(copy + ".part")
            return None
        os.replace(copy + ".part", copy)
    return copy


def say_missing(obj):
    """Once per copy: which file was looked for and where. gdb goes on, but a
    breakpoint in this copy's code cannot stop without its symbols, so a
    script waiting for one would wait for ever: say so."""
    bid, name = obj["build_id"].hex(), obj["module"]
    if (name, bid) in state.said_missing:
        return
    state.said_missing.add((name, bid))
    dirs = state.search_dirs()
    where = " nor ".join("%s nor %s" % (d, os.path.join(d, name + ".debug.d", bid) + "/")
                         for d in dirs) or "any folder (none given: see `hotreload path`)"
    say("module '%s' generation %d: no %s.debug.o with build-id %s in %s; breakpoints in "
        "this copy will not stop. Rebuild that version or push it again with hotd (which "
        "keeps a copy per build-id), then `hotreload sync`"
        % (name, obj["generation"], name, bid, where))


def add_object(obj):
    key = text_addr(obj)
    if key is None or key in state.loaded:
        return
    found = state.find_file(obj["build_id"])
    path = snapshot(found, obj["build_id"]) if found else None
    entry = dict(obj, file=path, source=found, text=key)
    state.loaded[key] = entry
    if not path:
        say_missing(obj)
        return
    cmd = "add-symbol-file %s 0x%x" % (shlex.quote(path), key)
    for name, addr, _ in obj["sections"]:
        if name != ".text" and not name.startswith(".hr."):
            cmd += " -s %s 0x%x" % (name, addr)
    try:
        _run(cmd)
    except gdb.error as e:
        say("%s: %s" % (cmd, e))
        entry["file"] = None
        return
    forget_sources()


def forget_sources():
    """gdb keeps the text of each source file it has read, by file name, and
    a new version of a module comes from the same files edited in place:
    without this, the new copy's lines would be shown from the old text
    (`list` even refuses line numbers past its end). Setting the source path
    to its own value makes gdb drop that text and changes nothing else."""
    try:
        _run("set directories %s" % gdb.parameter("directories"))
    except gdb.error as e:
        say("cannot drop gdb's source cache: %s" % e)


def remove_key(key):
    entry = state.loaded.pop(key, None)
    if entry and entry.get("file"):
        try:
            _run("remove-symbol-file -a 0x%x" % key)
        except gdb.error as e:
            say("remove-symbol-file -a 0x%x: %s" % (key, e))


def apply_pending():
    """Apply what the notify breakpoint recorded, in order."""
    todo, state.pending = state.pending, []
    for action, obj in todo:
        if action == ACTION_ADD:
            add_object(obj)
        elif action == ACTION_DELETE:
            remove_key(text_addr(obj))
    if todo:
        disable_stub_locations()


def sync():
    objs = read_all()
    state.pending = []
    present = {}
    for o in objs:
        k = text_addr(o)
        if k is not None:
            present[k] = o
    for k in list(state.loaded):
        e = state.loaded[k]
        if k not in present or present[k]["build_id"] != e["build_id"] or not e.get("file"):
            remove_key(k)  # copies still listed without symbols are tried again below
    for k, o in present.items():
        if k not in state.loaded:
            add_object(o)
    disable_stub_locations()
    return objs


# ---------------------------------------------------------------- stubs


def stub_ranges():
    """[start, end) of each module's stubs in the firmware (read_stub_ranges),
    kept while hotreload_debug_notify stays where it was when they were read."""
    try:
        # Firmware relocated (a PIE started): other addresses.
        where = firmware_address(NOTIFY)
    except gdb.error:
        where = None
    if state.stubs is not None and where is not None and state.stubs[0] == where:
        return state.stubs[1]
    try:
        ranges = read_stub_ranges()
    except (gdb.error, gdb.MemoryError):
        return []
    state.stubs = (where, ranges)
    return ranges


def disable_stub_locations(bp=None, refresh=True):
    """Disable user breakpoint locations inside the stubs. refresh=False uses
    only what is known already: it runs from gdb's breakpoint events, where no
    command may run."""
    if refresh:
        ranges = stub_ranges()
    else:
        ranges = state.stubs[1] if state.stubs else []
    if not ranges:
        return
    for b in [bp] if bp else gdb.breakpoints():
        if b is None or b.number <= 0 or not b.is_valid() or b.type != gdb.BP_BREAKPOINT:
            continue
        for loc in b.locations:
            if loc.enabled and any(s <= loc.address < e for s, e in ranges):
                loc.enabled = False


# ---------------------------------------------------------------- hotd's command files


def apply_command_file(path, quiet=False):
    """Apply an add-symbol-file command that hotd wrote (BUILD/modules/NAME.gdb)."""
    try:
        with open(path) as f:
            lines = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    except OSError as e:
        raise gdb.GdbError("hotreload apply: %s" % e)
    for line in lines:
        words = shlex.split(line)
        if len(words) < 3 or words[0] != "add-symbol-file":
            raise gdb.GdbError("hotreload apply: %s: not an add-symbol-file command: %s"
                               % (path, line))
        sym, text = os.path.abspath(words[1]), int(words[2], 0)
        if not os.path.isfile(sym):
            raise gdb.GdbError("hotreload apply: %s names %s, which is missing: rebuild the "
                               "module or push it again with hotd" % (path, sym))
        secs = [(".text", text, 0)]
        i = 3
        while i + 2 < len(words) and words[i] == "-s":
            secs.append((words[i + 1], int(words[i + 2], 0), 0))
            i += 3
        name = os.path.basename(sym)
        for suffix in (".debug.o", ".o"):
            if name.endswith(suffix):
                name = name[:-len(suffix)]
                break
        # The earlier copy of this module goes first: its symbols would
        # shadow the new ones.
        for key in [k for k, e in state.loaded.items() if e["module"] == name]:
            remove_key(key)
        bid = elf_build_id(sym) or b""
        snap = (snapshot(sym, bid) if bid else None) or sym
        _run(" ".join(shlex.quote(w) for w in ["add-symbol-file", snap] + words[2:]))
        forget_sources()
        state.loaded[text] = {"slot": -1, "module": name, "generation": 0, "build_id": bid,
                              "sections": secs, "file": snap, "source": sym, "text": text}
        if not quiet:
            say("applied %s" % line)
    disable_stub_locations()


def apply_new_command_files():
    """Without a notify breakpoint, follow the files hotd writes in the search path."""
    for d in state.search_dirs():
        try:
            names = sorted(n for n in os.listdir(d) if n.endswith(".gdb"))
        except OSError:
            continue
        for n in names:
            p = os.path.join(d, n)
            try:
                mtime = os.stat(p).st_mtime_ns
            except OSError:
                continue
            if state.applied_files.get(p) != mtime:
                state.applied_files[p] = mtime
                try:
                    apply_command_file(p)
                except gdb.GdbError as e:
                    say(str(e))
