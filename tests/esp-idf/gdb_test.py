#!/usr/bin/python3
"""gdb follows a hot reload of an ESP-IDF component: examples/esp-idf built
for ESP-IDF's linux target and run under gdb with gdb/hotreload.gdb sourced
and `break greet_text` set; greet v1 pushed, then (gdb_session.py, inside
gdb) greet.c edited, greet_image rebuilt and pushed (both stored with
--no-reload and loaded by app_main's safe point, see debug()): the same
breakpoint stops in greet_text of v2 -- its address, source line, code
bytes, returned string, and a backtrace through app_main in main.c.

Skipped (77) without ESP-IDF (see idfapp.find_idf) or without gdb.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idfapp  # noqa: E402
from idfapp import hrtest  # noqa: E402
from hrtest import check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SUMMARY = r"^esp_idf_gdb session: \d+ passed, \d+ failed$"
HUNG = 3       # gdb_session.py's status when the app hung
ATTEMPTS = 3   # sessions, when the app hangs (never when a check fails)


def debug(a, app, env):
    """The app under gdb (gdb_session.py), greet v1 pushed once it serves:
    gdb's exit status (gdb_session.HUNG: the app hung, see there)."""
    session = [a.gdb, "-nx", "-batch",
               "-ex", "python import sys; sys.argv = ['gdb_session', %r, %r, %r]"
               % (a.source, app, a.hotd),
               "-x", os.path.join(HERE, "gdb_session.py")]
    flash, status = None, None
    t0 = time.time()
    try:
        dev = idfapp.App(app, env, gdb=session)
    except AssertionError as e:
        check(False, "the app under gdb: %s" % e)
        return None
    try:
        flash = dev.flash
        # --no-reload: stored, and loaded by the safe point in app_main
        # (hotreload_update_available) while esp_http_server's task only
        # waits for requests. A reload request has that task poll the
        # runtime's lock all along the reload, which gdb stops: the app hung
        # about one session in ten that way, against one in thirty
        # (gdb_session.py says why it can hang at all).
        rc, out, err = hrtest.run(a.hotd, "push", "greet", "--build", os.path.join(app, "build"),
                                  "--url", dev.url, "--no-reload", env=env)
        # Without v1 gdb would wait for greet_text for ever: stop() ends it.
        if check(rc == 0 and "ok, stored module" in out, f"push greet v1: {rc} {out} {err}"):
            try:
                status = dev.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                check(False, "gdb session still running after 120 s")
    finally:
        dev.stop()
        # The output's last lines may still be on their way from the pipe.
        end = time.time() + 5
        while not dev.lines.saw(SUMMARY) and time.time() < end:
            time.sleep(0.1)
        print(dev.lines.text(), flush=True)
        if flash and flash.startswith("/tmp/idf-partition-"):
            os.unlink(flash)
    print(f"gdb session: {time.time() - t0:.1f} s", flush=True)
    found = dev.lines.search(SUMMARY, timeout=0)
    return status if found else None


def restore_greet(a, app, env):
    """greet.c and its module as the example has them, for another session."""
    shutil.copyfile(os.path.join(a.source, "examples", "esp-idf", "components", "greet",
                                 "greet.c"), os.path.join(app, "components", "greet", "greet.c"))
    rc, out = idfapp.build(app, env, "greet_image")
    return check(rc == 0, "greet_image rebuild: " + out[-2000:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--hotd", required=True)
    ap.add_argument("--gdb", default=shutil.which("gdb"))
    a = ap.parse_args()
    _, env = idfapp.find_idf(a.source)
    if not a.gdb:
        print("SKIP: no gdb", flush=True)
        return idfapp.SKIP
    with tempfile.TemporaryDirectory() as tmp:
        app = idfapp.copy_example(a.source, tmp)
        t0 = time.time()
        rc, out = idfapp.configure(app, env, a.source, hotd=a.hotd)
        if rc == 0:
            rc, out = idfapp.build(app, env)
        if not check(rc == 0, "example build failed:\n" + out[-3000:]):
            return hrtest.summary("esp_idf_gdb")
        print(f"built in {time.time() - t0:.1f} s", flush=True)
        for attempt in range(1, ATTEMPTS + 1):
            status = debug(a, app, env)
            if status != HUNG or attempt == ATTEMPTS or not restore_greet(a, app, env):
                break
            print("the app hung under gdb: another session", flush=True)
        check(status == 0, f"the gdb session failed (gdb exit status {status})")
    return hrtest.summary("esp_idf_gdb")


if __name__ == "__main__":
    sys.exit(main())
