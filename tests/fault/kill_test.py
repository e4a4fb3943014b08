#!/usr/bin/python3
"""SIGKILL while a 64 KiB module is being stored, at random points, then a
restart on the same storage folder. Two ways of picking the point:
- "write": the firmware pauses at its Nth storage write (N random over the
  body writes, the header, the tried and confirmed marks) and is killed there
  (storage_file.c's HOTRELOAD_TEST_PAUSE_STORE);
- "time": the body is sent in paced pieces and the process is killed after a
  random delay, wherever it is.
After each restart the device boots the old or the new module, never a torn
one: the SHA-256 it reports running and the value the firmware prints are
the same candidate's, and every image in the partition is intact and known.

Replay a failure with --seed N (printed first)."""
import random
import signal
import socket
import sys
import threading
import time

import fault
from fault import check

KILLS = 20
PIECE = 2048


def send(dev, data, pace):
    """Send data from a thread, `pace` seconds between pieces; the device may die."""
    def run():
        try:
            s = socket.create_connection(("127.0.0.1", dev.port), timeout=30)
            for off in range(0, len(data), PIECE):
                s.sendall(data[off:off + PIECE])
                if pace:
                    time.sleep(pace)
            fault.read_all(s)
            s.close()
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def main():
    a = fault.args()
    print(f"kill_test: seed {a.seed} (replay: --seed {a.seed})", flush=True)
    rng = random.Random(a.seed)
    mods = {fault.sha(m): (v, m) for v, m in
            ((21 + k, fault.module(a, f"big_{k + 1}")) for k in range(3))}
    value_of = {s: v for s, (v, _) in mods.items()}
    work = fault.workdir("kill")
    key, keyfile = fault.hrtest.raw_key(work, "key")

    dev = fault.start(a, work, key, keyfile)
    first = mods[next(iter(mods))][1]
    code, _, doc = dev.request(dev.signed("/upload-and-reload", first))
    check(code == 200 and fault.wait_confirmed(dev),
          f"the first module runs, confirmed: {code} {doc}")
    running = fault.sha(first)
    check(dev.stop() == 0, "clean stop")
    outcomes = {"old": 0, "new": 0}

    for i in range(1, KILLS + 1):
        new_sha = rng.choice([s for s in mods if s != running])
        body = mods[new_sha][1]
        target = rng.choice(["/upload", "/upload-and-reload"])
        by_write = i % 2 == 1
        # Body writes (1 KiB at most each), the header, tried and confirmed marks.
        n = rng.randint(1, len(body) // 1024 + 4)
        delay = rng.uniform(0, 0.25)
        env = {"HOTRELOAD_TEST_PAUSE_STORE": str(n)} if by_write else None
        dev = fault.start(a, work, key, keyfile, env=env)
        data = dev.signed(target, body)
        mark = dev.log_mark()
        if by_write:
            send(dev, data, 0)
            paused = dev.err.search(r"paused in storage write", 5, mark)
            where = f"paused at storage write {n}" if paused else \
                f"write {n} never came (the request ended first)"
        else:
            send(dev, data, 0.003)
            time.sleep(delay)
            where = f"{delay * 1000:.0f} ms into the upload"
        dev.stop(signal.SIGKILL)
        what = f"kill {i}/{KILLS} during {target} of value {value_of[new_sha]} ({where})"
        print(f"{what}: killed", flush=True)

        dev = fault.start(a, work, key, keyfile)
        check(dev.out.search(r"^boot: module loaded", 10) is not None,
              f"{what}: the restarted device boots a module: {dev.lines[:2]}")
        st = dev.main()
        img = (st.get("image") or {}).get("sha256", "none")
        check(img in (running, new_sha), f"{what}: it runs the old or the new image by SHA-256, "
              f"{'old' if img == running else 'new' if img == new_sha else img[:16]}")
        check(dev.value() == value_of.get(img), f"{what}: the firmware prints that image's value "
              f"{value_of.get(img)}")
        fault.check_storage(dev, set(mods), what)
        check(fault.wait_confirmed(dev) is not None, f"{what}: the running module gets confirmed")
        outcomes["old" if img == running else "new"] += 1
        running = img if img in mods else running
        check(dev.stop() == 0, "clean stop")

    print(f"kill_test: {KILLS} kills: the old module booted {outcomes['old']} times, "
          f"the new one {outcomes['new']} times", flush=True)
    dev = fault.start(a, work, key, keyfile)
    body = next(m for s, (_, m) in mods.items() if s != running)
    code, _, doc = dev.request(dev.signed("/upload-and-reload", body))
    check(code == 200 and dev.value() == value_of[fault.sha(body)],
          f"an upload after the kills works: {code} {doc}")
    check(dev.stop() == 0, "clean stop")
    return fault.hrtest.summary("fault_kill")


if __name__ == "__main__":
    sys.exit(main())
