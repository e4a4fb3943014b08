"""Helpers of the ESP-IDF tests: which ESP-IDF to use, the example copied and
built for the linux target, the app run as a process (or under gdb).

ESP-IDF comes from $IDF_PATH (a user's real ESP-IDF) or else the trimmed test
tree beside the checkout (../shared/esp-idf, see its README); with neither the
tests are skipped (exit 77) with a message saying so.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hrtest  # noqa: E402

SKIP = 77


def shared_tree(source):
    """The test tree beside the checkout (its esp-idf/, py/, tools/), present or not."""
    return os.path.normpath(os.path.join(source, "..", "shared", "esp-idf"))


def find_idf(source):
    """(IDF_PATH, environment for ESP-IDF's build) or exit 77 with why."""
    env = dict(os.environ, IDF_COMPONENT_MANAGER="0")
    idf = os.environ.get("IDF_PATH")
    shared = shared_tree(source)
    if not idf and os.path.isdir(os.path.join(shared, "esp-idf")):
        idf = os.path.join(shared, "esp-idf")
        # The trimmed tree: its Python stand-ins, and its mbedtls stand-in for
        # the linux target (it has no submodules).
        env["PYTHONPATH"] = os.path.join(shared, "py")
        env["HOTRELOAD_IDF_EXTRA_COMPONENT_DIRS"] = os.path.join(shared, "host-components")
        # What its env.sh sets for idf.py.
        env["IDF_PYTHON_ENV_PATH"] = os.path.join(shared, "idf-env", "python-env")
        env["IDF_TOOLS_PATH"] = os.path.join(shared, "idf-env", "tools")
    if not idf or not os.path.isfile(os.path.join(idf, "tools", "cmake", "project.cmake")):
        print("SKIP: no ESP-IDF: set IDF_PATH, or put the test tree in ../shared/esp-idf "
              "beside the checkout", flush=True)
        sys.exit(SKIP)
    env["IDF_PATH"] = idf
    env.pop("MAKEFLAGS", None)
    return idf, env


def idf_py(env):
    """The command that runs idf.py: ESP-IDF's own Python environment's
    interpreter when there is one (as idf.py itself expects)."""
    venv = env.get("IDF_PYTHON_ENV_PATH")
    python = os.path.join(venv, "bin", "python") if venv else "python3"
    return [python, os.path.join(env["IDF_PATH"], "tools", "idf.py")]


def copy_example(source, dst):
    """examples/esp-idf copied to dst (tests edit its sources)."""
    app = os.path.join(dst, "app")
    shutil.copytree(os.path.join(source, "examples", "esp-idf"), app,
                    ignore=shutil.ignore_patterns("build", "build-*", "sdkconfig",
                                                  "sdkconfig.old"))
    return app


def run(cmd, env, cwd=None, timeout=600):
    """Run cmd; (returncode, output)."""
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return r.returncode, r.stdout


def configure(app, env, source, hotd=None, extra=(), target="linux", build="build"):
    """ESP-IDF's CMake configure of `app` for `target` into app/`build` (plain
    CMake, as the test tree's README shows); hotd given: no host build of it."""
    cmd = ["cmake", "-S", app, "-B", os.path.join(app, build), "-G", "Ninja",
           "-DIDF_TARGET=" + target, "-DPYTHON=/usr/bin/python3", "-DPYTHON_DEPS_CHECKED=1",
           "-DHOTRELOAD_DIR=" + source, *extra]
    if hotd:
        cmd.append("-DHOTRELOAD_HOTD=" + hotd)
    return run(cmd, env)


def build(app, env, target=None):
    cmd = ["ninja", "-C", os.path.join(app, "build"), "-j2"] + ([target] if target else [])
    return run(cmd, env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """The example's ELF run as a process: its output in self.lines, its HTTP
    port self.port, the emulated flash file it uses in self.flash.

    gdb, if given, is the start of a gdb command line (without --args): the app
    runs under that gdb, whose output self.lines holds too (the app shares its
    stdout). gdb and the app are then a process group of their own, so that
    stop() ends both, even an app gdb left behind."""

    def __init__(self, app, env, flash=None, gdb=None):
        self.port = free_port()
        e = dict(env, HOTRELOAD_PORT=str(self.port), HOTRELOAD_FLASH=flash or "")
        elf = os.path.join(app, "build", "hotreload_esp_idf.elf")
        cmd = [*gdb, "--args", elf] if gdb else [elf]
        self.group = bool(gdb)
        self.proc = subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=self.group)
        self.lines = hrtest.Lines(self.proc.stdout, alive=lambda: self.proc.poll() is None)
        self.flash = None
        try:
            _, m = self.lines.expect(r"emulated flash: (\S+)")
            self.flash = m.group(1)
            self.lines.expect(r"hotreload server running on port")
        except AssertionError:
            # Nothing left behind for a caller that never got an App: the
            # process, and the flash file it made (not one it was given).
            self.stop()
            if not flash and self.flash and self.flash.startswith("/tmp/idf-partition-"):
                os.unlink(self.flash)
            raise
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        if not self.group:
            return hrtest.stop(self.proc, signal.SIGTERM)
        # gdb kills the app it runs when it quits; the group catches the
        # rest (an app gdb could not kill, a push the session had started).
        status = hrtest.stop(self.proc, signal.SIGTERM)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        return status
