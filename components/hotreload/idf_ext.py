"""idf.py reload and idf.py watch, for projects using the hotreload component.

  idf.py reload [--url URL]             build, then push every reloadable
                                        component to the device
  idf.py watch [--url URL] [--debounce S]
                                        rebuild and push on each save

Both run hotd (the host tool the component builds: BUILD/hotd/hostd/hotd, or
the one named by HOTRELOAD_HOTD), which signs uploads with the build's key
(BUILD/hotreload.key) and writes, for each push, the gdb command file the gdb
helper reads (BUILD/modules/NAME.gdb). URL defaults to $HOTRELOAD_URL, else
http://127.0.0.1:8080.
"""
import glob
import os
import subprocess

try:
    from idf_py_actions.errors import FatalError
except ImportError:  # outside idf.py (a test importing this file)
    class FatalError(RuntimeError):
        pass


def _cache_value(build_dir, name):
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


def hotd_path(build_dir):
    """The hotd this build used: HOTRELOAD_HOTD if it was given one, else the
    component's host build of it."""
    given = _cache_value(build_dir, "HOTRELOAD_HOTD") or os.environ.get("HOTRELOAD_HOTD", "")
    path = given or os.path.join(build_dir, "hotd", "hostd", "hotd")
    if not os.access(path, os.X_OK):
        raise FatalError(f"hotreload: hotd not found at {path}: run 'idf.py build' first (it "
                         "builds hotd for this host; it needs libelf-dev, libdw-dev, "
                         "libcurl4-openssl-dev and libreadline-dev), or set HOTRELOAD_HOTD")
    return path


def modules(build_dir):
    """Names of the reloadable components this build made."""
    names = sorted(os.path.basename(p)[:-4]
                   for p in glob.glob(os.path.join(build_dir, "modules", "*.img")))
    if not names:
        raise FatalError("hotreload: no reloadable component in this build: mark one with "
                         "idf_component_register(RELOADABLE ...) or list it in "
                         "CONFIG_HOTRELOAD_COMPONENTS (idf.py menuconfig > Hot reload)")
    return names


def action_extensions(base_actions, project_path):
    def reload(action, ctx, args, url, no_reload):
        build = os.path.abspath(args.build_dir)
        hotd = hotd_path(build)
        failed = []
        for name in modules(build):
            cmd = [hotd, "push", name, "--build", build]
            cmd += ["--url", url] if url else []
            cmd += ["--no-reload"] if no_reload else []
            if subprocess.call(cmd) != 0:
                failed.append(name)
        if failed:
            raise FatalError("hotreload: not pushed: " + ", ".join(failed) +
                             " (hotd said why above; the device keeps running what it had)")

    def watch(action, ctx, args, url, debounce):
        build = os.path.abspath(args.build_dir)
        cmd = [hotd_path(build), "watch", "--build", build]
        cmd += ["--url", url] if url else []
        cmd += ["--debounce", str(int(float(debounce) * 1000))] if debounce else []
        try:
            rc = subprocess.call(cmd)
        except KeyboardInterrupt:
            return
        if rc not in (0, -2, 130):
            raise FatalError(f"hotreload: hotd watch ended with status {rc}")

    url = {
        "names": ["--url"],
        "help": "The device (default: $HOTRELOAD_URL, else http://127.0.0.1:8080).",
        "default": None,
    }
    return {
        "version": "1",
        "actions": {
            "reload": {
                "callback": reload,
                "help": "Build, then push every reloadable component to the device (hotd push).",
                "options": [url, {
                    "names": ["--no-reload"],
                    "help": "Store only: the device loads it at its next start or reload.",
                    "is_flag": True,
                    "default": False,
                }],
                "dependencies": ["all"],
            },
            "watch": {
                "callback": watch,
                "help": "Rebuild and push a reloadable component each time its sources change "
                        "(hotd watch). Ctrl+C stops.",
                "options": [url, {
                    "names": ["--debounce"],
                    "help": "Seconds to wait for more changes before building.",
                    "default": None,
                }],
                "dependencies": ["all"],
            },
        },
    }
