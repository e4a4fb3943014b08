#!/usr/bin/python3
"""`hotd stubs` as the build uses it: refusals with a clear message and exit
status 1, a module without functions or imports still giving files that
compile and link, and unchanged files left alone (same mtime), so that a
module edit keeping the same interface does not relink the firmware.

    cli_test.py --hotd HOTD --work DIR
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
failures = []
passes = 0


def check(cond, what):
    global passes
    if cond:
        passes += 1
    else:
        failures.append(what)
        print("FAIL:", what)


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("command failed: %s\n%s" % (" ".join(cmd), r.stderr))


def module(work, name, src):
    c = os.path.join(work, name + ".c")
    with open(c, "w") as f:
        f.write(src)
    sh(["gcc", "-c", "-O2", "-fPIC", "-ffreestanding", "-fno-common", c, "-o", c + ".o"])
    sh(["ld", "-r", c + ".o", "-o", os.path.join(work, name + ".o")])
    return os.path.join(work, name + ".o")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    def stubs(*argv):
        return subprocess.run([args.hotd, "stubs"] + list(argv), capture_output=True, text=True)

    out = os.path.join(work, "out")
    os.makedirs(out)
    v1 = module(work, "v1", "extern int fw_get(void);\n"
                "int b_fn(int x) { return x + fw_get(); }\nint a_fn(void) { return 1; }\n"
                "static int local_fn(void) { return 2; }\nint (*keep)(void) = local_fn;\n"
                "int hotreload_internal(void) { return 3; }\nint data_sym = 4;\n")
    junk = os.path.join(work, "junk.o")
    with open(junk, "w") as f:
        f.write("not an ELF file at all\n")
    exe = args.hotd  # linked: not ET_REL
    stripped = os.path.join(work, "stripped.o")
    sh(["strip", "-o", stripped, v1])
    ro = os.path.join(work, "ro")
    os.makedirs(ro)
    os.chmod(ro, 0o555)
    refusals = [
        (["--help"], 0, "usage: hotd stubs"),
        ([junk, "--name", "m", "--arch", "x86_64", "--out-dir", out], 1, "not an ELF file"),
        ([exe, "--name", "m", "--arch", "x86_64", "--out-dir", out], 1, "not a relocatable"),
        ([stripped, "--name", "m", "--arch", "x86_64", "--out-dir", out], 1, "no symbol table"),
        ([v1, "--name", "m", "--arch", "aarch64", "--out-dir", out], 1,
         "unknown --arch 'aarch64'"),
        ([v1, "--name", "m", "--arch", "arm", "--out-dir", out], 1, "but --arch arm needs ARM"),
        ([v1, "--name", "m", "--arch", "rv64", "--out-dir", out], 1, "built for x86-64"),
        ([v1, "--name", "m", "--arch", "x86_64", "--out-dir", os.path.join(work, "none")], 1,
         "No such file"),
        ([v1, "--name", "m", "--arch", "x86_64", "--out-dir", junk], 1, "not a directory"),
        ([v1, "--name", "bad-name", "--arch", "x86_64", "--out-dir", out], 1, "C identifier"),
        ([v1, "--name", "m", "--arch", "x86_64"], 2, "required"),
    ]
    if os.geteuid() != 0:  # root writes anywhere
        refusals.append(([v1, "--name", "m", "--arch", "x86_64", "--out-dir", ro], 1,
                         "cannot write"))
    for argv, rc, text in refusals:
        r = stubs(*argv)
        check(r.returncode == rc and text in (r.stdout + r.stderr),
              "hotd stubs %s: exit %d (want %d), says %r: %s" %
              (" ".join(argv[:1] + argv[-2:]), r.returncode, rc, text, r.stderr.strip()))

    r = stubs(v1, "--name", "m", "--arch", "x86_64", "--out-dir", out)
    check(r.returncode == 0, "stubs for v1: %s" % r.stderr)
    names = ["m_stubs.S", "m_symtab.c", "m_imports.ld", "m_exports.txt"]
    with open(os.path.join(out, "m_exports.txt")) as f:
        check(f.read() == "a_fn\nb_fn\n", "exports: global functions only, sorted")
    with open(os.path.join(out, "m_imports.ld")) as f:
        check("EXTERN(\n    fw_get\n)" in f.read(), "imports: fw_get")
    # Same interface, other code: nothing rewritten.
    old = {n: os.stat(os.path.join(out, n)).st_mtime_ns for n in names}
    os.utime(v1, None)
    v2 = module(work, "v2", "extern int fw_get(void);\n"
                "int b_fn(int x) { return x * 2 + fw_get(); }\nint a_fn(void) { return 9; }\n")
    r = stubs(v2, "--name", "m", "--arch", "x86_64", "--out-dir", out)
    new = {n: os.stat(os.path.join(out, n)).st_mtime_ns for n in names}
    check(r.returncode == 0 and "0 of 4 files updated" in r.stdout and old == new,
          "same interface: no file rewritten (%s)" % r.stdout.strip())
    v3 = module(work, "v3", "int a_fn(void) { return 1; }\nint c_fn(void) { return 1; }\n")
    r = stubs(v3, "--name", "m", "--arch", "x86_64", "--out-dir", out)
    new = {n: os.stat(os.path.join(out, n)).st_mtime_ns for n in names}
    check(all(new[n] != old[n] for n in names), "other interface: every file rewritten")
    check(not [n for n in os.listdir(out) if n.endswith(".tmp")], "no temporary left")

    # No function, no import: the files still compile and link.
    empty = module(work, "empty", "int only_data = 1;\n")
    eout = os.path.join(work, "empty-out")
    os.makedirs(eout)
    r = stubs(empty, "--name", "empty", "--arch", "x86_64", "--out-dir", eout)
    check(r.returncode == 0, "stubs for a module without functions: %s" % r.stderr)
    objs = []
    for n in ("empty_stubs.S", "empty_symtab.c"):
        objs.append(os.path.join(eout, n + ".o"))
        r = subprocess.run(["gcc", "-c", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
                            "-Wmissing-prototypes", "-I", os.path.join(ROOT, "agent/include"),
                            os.path.join(eout, n), "-o", objs[-1]], capture_output=True, text=True)
        check(r.returncode == 0, "empty %s compiles: %s" % (n, r.stderr))
    r = subprocess.run(["ld", "-r"] + objs + [os.path.join(eout, "empty_imports.ld"),
                        "-o", os.path.join(eout, "linked.o")], capture_output=True, text=True)
    check(r.returncode == 0, "ld takes the empty import list: %s" % r.stderr)
    print("stubs_cli: %d passed, %d failed" % (passes, len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
