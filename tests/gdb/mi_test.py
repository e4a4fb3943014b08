#!/usr/bin/python3
"""gdb driven through its machine interface (gdb --interpreter=mi3), as IDEs
drive it (VS Code's cortex-debug and the ESP-IDF extension, CLion), across
reloads: fw_gdb loads three versions of module "counter" in turn; a
breakpoint set before the module exists (-break-insert -f counter_step) must
stop in each version's code, from that version's source file, and every line
gdb writes must be well-formed MI output.

usage: mi_test.py GDB SOURCE_DIR MODULES_DIR FW_GDB KEY IMAGE...
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402
from hrtest import check  # noqa: E402

TOKEN = re.compile(r'[A-Za-z_][\w-]*')


def c_string(s, i):
    """End of the C string starting at s[i] == '"', or raise."""
    assert s[i] == '"'
    i += 1
    while s[i] != '"':
        i += 2 if s[i] == "\\" else 1
    return i + 1


def value(s, i):
    """End of an MI value (const, tuple, list) at i, or raise."""
    if s[i] == '"':
        return c_string(s, i)
    close = {"{": "}", "[": "]"}[s[i]]
    i += 1
    if s[i] == close:
        return i + 1
    while True:
        m = TOKEN.match(s, i)
        if m and s[m.end()] == "=":   # a result; a list may also hold bare values
            i = m.end() + 1
        i = value(s, i)
        if s[i] == close:
            return i + 1
        assert s[i] == ",", f"expected ',' at {i}"
        i += 1


def well_formed(line):
    """One line of MI output: a prompt, a stream record, or a result or async
    record with its results."""
    if line == "(gdb) ":
        return True
    try:
        if line[0] in "~@&":
            return c_string(line, 1) == len(line)
        m = re.match(r"\d*[\^*+=]([a-z][\w-]*)", line)
        i = m.end()
        while i < len(line):
            assert line[i] == ","
            t = TOKEN.match(line, i + 1)
            assert line[t.end()] == "="
            i = value(line, t.end() + 1)
        return True
    except (AssertionError, AttributeError, IndexError, KeyError):
        return False


class Mi:
    """gdb under MI: its output lines (read by a thread), commands sent."""

    def __init__(self, args):
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.out = hrtest.Lines(self.p.stdout, alive=lambda: self.p.poll() is None)
        self.lines = self.out.lines
        self.at = 0

    def read(self, pattern, timeout=30):
        """The first line from the last one read on that matches `pattern`."""
        found = self.out.search(pattern, timeout, self.at)
        if found is None:
            return None
        self.at = found[0] + 1
        return found[1]

    def cmd(self, text, pattern=r"^\d*\^(done|running|connected)"):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        return self.read(pattern)

    def malformed(self):
        return [line for line in self.out.lines if not well_formed(line)]


def main():
    gdb, source, mods, fw, key, images = sys.argv[1], sys.argv[2], sys.argv[3], \
        sys.argv[4], sys.argv[5], sys.argv[6:9]
    env_dir = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hotreload-mi-%d" % os.getpid())
    os.makedirs(env_dir, exist_ok=True)
    os.environ["HOTRELOAD_STORAGE_DIR"] = env_dir
    # The checker itself: it must refuse what is not MI.
    check(well_formed('^done,bkpt={number="1",locations=[{a="b"},{c="d"}]}')
          and well_formed('~"text \\"quoted\\"\\n"') and well_formed("(gdb) "),
          "well_formed accepts MI")
    check(not any(well_formed(x) for x in ('^done,bkpt={number="1"', 'hello',
                                            '*stopped,reason=x', '~"unterminated')),
          "well_formed refuses what is not MI")
    mi = Mi([gdb, "--interpreter=mi3", "-nx", "-q", "--args", fw, "--key", key, *images])
    try:
        mi.read(r"^\(gdb\) ")
        helper = os.path.join(source, "gdb", "hotreload.gdb")
        check(mi.cmd('-interpreter-exec console "source %s"' % helper), "source the helper")
        check(mi.cmd('-interpreter-exec console "hotreload path %s"' % mods), "hotreload path")
        # The firmware's own output on a terminal of its own, as an IDE does.
        check(mi.cmd("-inferior-tty-set /dev/null"), "-inferior-tty-set")
        m = mi.cmd("-break-insert -f counter_step", r'^\d*\^(done|error).*')
        check(m and m.group(1) == "done", "pending breakpoint on counter_step: %s"
              % mi.lines[-1])
        check(mi.cmd("-exec-run", r"^\d*\^running"), "-exec-run")
        for k in (1, 2, 3):
            m = mi.read(r'^\*stopped,reason="([\w-]+)".*?func="([\w]+)".*?'
                        r'fullname="([^"]+)".*?line="(\d+)"', timeout=60)
            shape = 1 if k % 2 else 2
            check(m is not None and m.group(1) == "breakpoint-hit" and
                  m.group(2) == "counter_step" and
                  m.group(3).endswith("mod/v%d/counter.c" % shape),
                  "version %d: stopped in counter_step of mod/v%d/counter.c: %s"
                  % (k, shape, m.group(0)[:300] if m else mi.lines[-5:]))
            m2 = mi.cmd('-data-evaluate-expression counter_version',
                        r'^\d*\^(done|error),?(?:value="(\d+)")?')
            check(m2 and m2.group(2) == str(k), "version %d: counter_version == %d (%s)"
                  % (k, k, m2.group(0) if m2 else mi.lines[-3:]))
            bt = mi.cmd("-stack-list-frames", r"^\d*\^(done|error),stack=(.*)")
            check(bt and 'func="main"' in bt.group(2), "version %d: the backtrace reaches the "
                  "firmware's main: %s" % (k, bt.group(0)[:300] if bt else None))
            mi.cmd("-exec-continue", r"^\d*\^running")
        check(not mi.malformed(), "every MI line well-formed: %s" % mi.malformed()[:5])
        check(len(mi.lines) > 20, "gdb said something (%d lines)" % len(mi.lines))
    finally:
        try:
            mi.p.stdin.write("-gdb-exit\n")
            mi.p.stdin.flush()
            mi.p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            mi.p.kill()
        for f in os.listdir(env_dir):
            os.unlink(os.path.join(env_dir, f))
        os.rmdir(env_dir)
    return hrtest.summary("gdb_mi")


if __name__ == "__main__":
    sys.exit(main())
