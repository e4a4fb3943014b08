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

Nothing here assumes an architecture: the descriptor is read from raw
memory with the target's pointer size, alignment and byte order.
"""
import atexit
import os
import re
import shlex
import shutil
import struct
import tempfile

import gdb

NOTIFY = "hotreload_debug_notify"
DESCRIPTOR = "hotreload_debug"
VERSION = 1
MAX_OBJECTS = 8
ACTION_CONSISTENT, ACTION_ADD, ACTION_DELETE = 0, 1, 2


def say(text):
    gdb.write("hotreload: %s\n" % text)


# ---------------------------------------------------------------- ELF files


def elf_build_id(path):
    """The GNU build-id (bytes) of an ELF file, None if it has none."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) < 52 or data[:4] != b"\x7fELF":
        return None
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    try:
        if is64:
            shoff, = struct.unpack_from(end + "Q", data, 0x28)
            shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
            fmt = end + "IIQQQQ"
        else:
            shoff, = struct.unpack_from(end + "I", data, 0x20)
            shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
            fmt = end + "IIIIII"
        for i in range(shnum):
            _, stype, _, _, off, size = struct.unpack_from(fmt, data, shoff + i * shentsize)
            if stype != 7:  # SHT_NOTE
                continue
            p, stop = off, off + size
            while p + 12 <= stop:
                namesz, descsz, ntype = struct.unpack_from(end + "III", data, p)
                name = data[p + 12:p + 12 + namesz]
                desc_at = p + 12 + ((namesz + 3) & ~3)
                if ntype == 3 and name.rstrip(b"\0") == b"GNU":
                    return bytes(data[desc_at:desc_at + descsz])
                p = desc_at + ((descsz + 3) & ~3)
    except struct.error:
        return None
    return None


# ---------------------------------------------------------------- target memory


class Target:
    """Pointer size, alignment of 64-bit fields and byte order of the target."""

    def __init__(self):
        self.ptr = gdb.lookup_type("void").pointer().sizeof
        self.align64 = gdb.lookup_type("unsigned long long").alignof
        endian = gdb.execute("show endian", to_string=True)
        self.end = ">" if "big endian" in endian else "<"

    def read(self, addr, size):
        return bytes(gdb.selected_inferior().read_memory(addr, size))

    def u32(self, data, off):
        return struct.unpack_from(self.end + "I", data, off)[0]

    def i32(self, data, off):
        return struct.unpack_from(self.end + "i", data, off)[0]

    def u64(self, data, off):
        return struct.unpack_from(self.end + "Q", data, off)[0]

    def ptrval(self, data, off):
        return struct.unpack_from(self.end + ("Q" if self.ptr == 8 else "I"), data, off)[0]

    def string(self, addr, limit=256):
        if not addr:
            return ""
        out = b""
        while len(out) < limit:
            chunk = self.read(addr + len(out), 32)
            if b"\0" in chunk:
                return (out + chunk[:chunk.index(b"\0")]).decode("utf-8", "replace")
            out += chunk
        return out.decode("utf-8", "replace")


def align(n, a):
    return (n + a - 1) // a * a


class Layout:
    """Offsets of the descriptor's fields by the C layout rules (debug.h)."""

    def __init__(self, t):
        p = t.ptr
        self.header = 16                                  # version action changes subject
        self.obj_align = max(p, 4)
        self.obj_module = 0
        self.obj_generation = align(p, 4)
        self.obj_build_id_len = self.obj_generation + 4
        self.obj_build_id = self.obj_build_id_len + 4
        self.obj_nsections = self.obj_build_id + 32
        self.obj_sections = align(self.obj_nsections + 4, p)
        self.obj_size = align(self.obj_sections + p, self.obj_align)
        self.objects = align(self.header, self.obj_align)
        sec_align = max(p, t.align64)
        self.sec_addr = align(p, t.align64)
        self.sec_size_field = self.sec_addr + 8
        self.sec_size = align(self.sec_addr + 16, sec_align)


def descriptor_address():
    return int(gdb.parse_and_eval("(unsigned long long)&" + DESCRIPTOR))


def read_header():
    """(version, action, subject) of the descriptor."""
    t = Target()
    data = t.read(descriptor_address(), 16)
    return t.u32(data, 0), t.u32(data, 4), t.i32(data, 12)


def read_object(index):
    """One object of the descriptor as a dict, None when the slot is free."""
    t = Target()
    lay = Layout(t)
    base = descriptor_address() + lay.objects + index * lay.obj_size
    o = t.read(base, lay.obj_size)
    n = t.u32(o, lay.obj_nsections)
    if n == 0:
        return None
    if n > 4096:
        raise gdb.GdbError("descriptor object %d claims %d sections" % (index, n))
    bl = min(t.u32(o, lay.obj_build_id_len), 32)
    secs_at = t.ptrval(o, lay.obj_sections)
    raw = t.read(secs_at, n * lay.sec_size)
    secs = []
    for i in range(n):
        at = i * lay.sec_size
        secs.append((t.string(t.ptrval(raw, at)), t.u64(raw, at + lay.sec_addr),
                     t.u64(raw, at + lay.sec_size_field)))
    return {
        "slot": index,
        "module": t.string(t.ptrval(o, lay.obj_module)),
        "generation": t.u32(o, lay.obj_generation),
        "build_id": o[lay.obj_build_id:lay.obj_build_id + bl],
        "sections": secs,
    }


def read_all():
    version, _, _ = read_header()
    if version != VERSION:
        raise gdb.GdbError("debug descriptor version %d, this helper reads version %d"
                           % (version, VERSION))
    return [o for o in (read_object(i) for i in range(MAX_OBJECTS)) if o]


def text_addr(obj):
    """The address gdb knows a copy by: its .text (else its first file section)."""
    for name, addr, _ in obj["sections"]:
        if name == ".text":
            return addr
    for name, addr, _ in obj["sections"]:
        if not name.startswith(".hr."):
            return addr
    return None


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

    def search_dirs(self):
        dirs = list(self.paths)
        for d in os.environ.get("HOTRELOAD_DEBUG_PATH", "").split(os.pathsep):
            if d and os.path.abspath(d) not in dirs:
                dirs.append(os.path.abspath(d))
        return dirs

    def find_file(self, build_id):
        """The unstripped module (*.debug.o first, then *.o) with this build-id."""
        if not build_id:
            return None
        for suffix in (".debug.o", ".o"):
            for d in self.search_dirs():
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


def add_object(obj):
    key = text_addr(obj)
    if key is None or key in state.loaded:
        return
    found = state.find_file(obj["build_id"])
    path = snapshot(found, obj["build_id"]) if found else None
    entry = dict(obj, file=path, source=found, text=key)
    state.loaded[key] = entry
    if not path:
        say("no unstripped module with build-id %s for '%s' (generation %d) in %s"
            % (obj["build_id"].hex(), obj["module"], obj["generation"],
               os.pathsep.join(state.search_dirs()) or "the search path: see `hotreload path`"))
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
    """[start, end) of each module's stubs in the firmware, from the
    hotreload_stubs_NAME records `hotd stubs` writes: a stub carries its module
    function's name, so `break NAME` would also stop there, once more per call.
    Form 1 holds offsets from each field, form 2 32-bit addresses."""
    try:
        # Firmware relocated (a PIE started): other addresses.
        where = int(gdb.parse_and_eval("(unsigned long long)&" + NOTIFY))
    except gdb.error:
        where = None
    if state.stubs is not None and where is not None and state.stubs[0] == where:
        return state.stubs[1]
    ranges = []
    try:
        out = gdb.execute("info variables ^hotreload_stubs_", to_string=True)
        t = Target()
        for m in re.finditer(r"^(0x[0-9a-f]+)\s+hotreload_stubs_\w+$", out, re.M):
            at = int(m.group(1), 16)
            raw = t.read(at, 12)
            form, a, b = t.u32(raw, 0), t.i32(raw, 4), t.i32(raw, 8)
            if form == 1:
                ranges.append((at + 4 + a, at + 8 + b))
            elif form == 2:
                ranges.append((a & 0xFFFFFFFF, b & 0xFFFFFFFF))
    except (gdb.error, gdb.MemoryError) as e:
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


def on_breakpoint_created(bp):
    # A user's `break NAME` at a prompt or in a script: the stub location goes
    # now if the stubs are known, else at the next stop.
    if bp.number > 0:
        disable_stub_locations(bp, refresh=False)


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
    state.synced = None
    for key in list(state.loaded):
        remove_key(key)


def following_descriptor():
    return state.bp is not None and state.bp.enabled and not state.files_only


def on_new_objfile(event):
    state.stubs = None
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
