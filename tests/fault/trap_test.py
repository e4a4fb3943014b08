#!/usr/bin/python3
"""A full storage and modules that trap, against real firmware processes:
- a module larger than a storage slot: 413 with the limit named, nothing
  erased (the partition file is byte-for-byte the same), the old module runs;
- constructors that trap three ways (SIGSEGV, SIGILL, and SIGFPE in
  .preinit_array), by /upload-and-reload and by /upload then /reload: 422,
  /status says why, the old module runs, and a restart boots it;
- hook_fw, whose post-reload hook calls the new module: a module trapping
  there is switched back out, the old one runs, the device reloads again.
"""
import subprocess
import sys

import fault
from fault import check


def same(dev, gen, sha, value, what):
    """The device still runs the module it ran: /status and its output."""
    st = dev.main()
    check(st["generation"] == gen and (st.get("image") or {}).get("sha256") == sha,
          f"{what}: /status generation {gen} and image unchanged ({st['generation']})")
    check(dev.value() == value, f"{what}: the firmware still prints value {value}")
    return st


def good_start(a, fw, name, value, env=None):
    work = fault.workdir("trap")
    key, keyfile = fault.hrtest.raw_key(work, "key")
    dev = fault.Device(fw, work, key, keyfile, env=env)
    body = fault.module(a, name)
    code, _, doc = dev.request(dev.signed("/upload-and-reload", body))
    check(code == 200 and dev.value() == value, f"{name} (value {value}) runs: {code} {doc}")
    st = fault.wait_confirmed(dev)
    check(st is not None, f"{name} is confirmed")
    return dev, work, key, keyfile, st["generation"], fault.sha(body)


def full_storage(a):
    # 64 KiB partition: two 32 KiB slots of which 4 KiB is the header block.
    env = {"HOTRELOAD_STORAGE_SIZE": "65536"}
    dev, work, key, keyfile, gen, sha = good_start(a, a.fw, "small_1", 11, env)
    cap = 32768 - 4096
    big = fault.module(a, "big_1")
    with open(dev.partition(), "rb") as f:
        before = f.read()
    for target in ("/upload", "/upload-and-reload"):
        mark = dev.log_mark()
        code, _, doc = dev.request(dev.signed(target, big))
        want = (f"module of {len(big)} bytes does not fit partition 'hotreload' ({cap} bytes "
                f"per image, two images)")
        check(code == 413 and want in doc.get("error", ""), f"{target} of {len(big)} bytes "
              f"into {cap} bytes of slot: 413 '{want}': {code} {doc}")
        check(dev.http_log(mark)[1] == 413, f"{target}: the device logs the 413")
        with open(dev.partition(), "rb") as f:
            check(f.read() == before, f"{target}: nothing erased or written (partition unchanged)")
        same(dev, gen, sha, 11, f"{target} too large")
    # The limit is the slot: one byte over is refused before any body byte is
    # sent; exactly the capacity is taken and stored (then refused as no ELF).
    data = dev.signed("/upload", b"\0" * (cap + 1))
    code, _, doc = dev.request(data[:data.index(b"\r\n\r\n") + 4])
    check(code == 413, f"Content-Length {cap + 1} without a body: 413 at once: {code} {doc}")
    code, _, doc = dev.request(dev.signed("/upload", b"\0" * cap))
    check(code == 422 and "not an ELF" in doc.get("error", ""),
          f"a body of exactly {cap} bytes is stored and checked (422, not an ELF): "
          f"{code} {doc}")
    fault.check_storage(dev, {sha}, "full storage")
    same(dev, gen, sha, 11, "the refused uploads")
    check(dev.stop() == 0, "clean stop")
    dev = fault.Device(a.fw, work, key, keyfile, env=env)
    check(dev.value() == 11, "after a restart the good module boots")
    check(dev.stop() == 0, "clean stop")


def constructors(a):
    dev, work, key, keyfile, gen, sha = good_start(a, a.fw, "small_1", 11)
    signals = {1: "Segmentation fault", 2: "Illegal instruction", 3: "Floating point exception"}
    for kind, sig in signals.items():
        what = f"trap_{kind} ({sig})"
        trap = fault.module(a, f"trap_{kind}")
        code, _, doc = dev.request(dev.signed("/upload-and-reload", trap))
        err = doc.get("error", "")
        check(code == 422 and "constructor failed, the previous module keeps running" in err
              and sig in err and doc.get("stored") is True,
              f"{what}: 422, stored but not run, saying why: {code} {doc}")
        st = same(dev, gen, sha, 11, what)
        check(sig in dev.status()["last_error"], f"{what}: /status last_error names the trap")
        check((st.get("stored") or {}).get("seq") == (st.get("image") or {}).get("seq"),
              f"{what}: /status: the stored image to start with is the running one: "
              f"{st.get('stored')}")
        bad = [m for m in fault.slots(dev.partition()) if m["state"] == "bad"]
        check(len(bad) == 1 and bad[0]["intact"], f"{what}: the partition marks it bad: {bad}")
    # Stored first, reloaded later: the same refusal at /reload.
    code, _, doc = dev.request(dev.signed("/upload", fault.module(a, "trap_1")))
    check(code == 200, f"/upload of trap_1 stores it (constructors run only at a reload): {code}")
    code, _, doc = dev.request(dev.signed("/reload"))
    check(code == 422 and "Segmentation fault" in doc.get("error", ""),
          f"/reload of trap_1: 422: {code} {doc}")
    same(dev, gen, sha, 11, "/reload of trap_1")
    check(dev.stop() == 0, "clean stop")
    dev = fault.Device(a.fw, work, key, keyfile)
    check(dev.value() == 11 and (dev.main().get("image") or {}).get("sha256") == sha,
          "after a restart the good module boots, not a trapping one")
    check(dev.stop() == 0, "clean stop")


def post_hook(a):
    dev, work, key, keyfile, _, _ = good_start(a, a.hook_fw, "hook_good", 31)
    check(dev.out.search(r"^post-hook: 7$", 5) is not None,
          "hook_fw's post-hook called the new module's mod_after_reload (7)")
    mark = len(dev.lines)
    plain = fault.module(a, "hook_plain")
    code, _, doc = dev.request(dev.signed("/upload-and-reload", plain))
    check(code == 200 and dev.value() == 32, f"hook_plain (value 32) runs: {code} {doc}")
    check(dev.out.search(r"^post-hook: none$", 5, mark) is not None, "post-hook ran: none")
    st = fault.wait_confirmed(dev)
    gen, sha = st["generation"], fault.sha(plain)

    code, _, doc = dev.request(dev.signed("/upload-and-reload", fault.module(a, "hook_trap")))
    try:
        dev.proc.wait(timeout=1 if code == 0 else 0.01)
    except subprocess.TimeoutExpired:
        pass
    alive = dev.proc.poll() is None
    check(alive, f"the device survives a module trapping in the post-reload hook "
          f"(exit status {dev.proc.returncode})")
    if not alive:
        return
    err = doc.get("error", "")
    check(code == 422 and "post-reload hook" in err and "Segmentation fault" in err
          and "switched back" in err, f"hook_trap: 422 naming the hook and the trap: {code} {doc}")
    same(dev, gen, sha, 32, "hook_trap")
    check("post-reload hook" in dev.status()["last_error"], "/status last_error names the hook")
    mark = len(dev.lines)
    code, _, doc = dev.request(dev.signed("/upload-and-reload", fault.module(a, "hook_good")))
    check(code == 200 and dev.value() == 31, f"a reload after the trap works: {code} {doc}")
    check(dev.out.search(r"^post-hook: 7$", 5, mark) is not None, "and its post-hook ran")
    check(dev.status()["last_error"] == "", "/status drops an error a later reload overcame")
    check(fault.wait_confirmed(dev) is not None, "hook_good is confirmed")
    # A trapping module found at start: refused the same way, the other slot boots.
    code, _, doc = dev.request(dev.signed("/upload", fault.module(a, "hook_trap")))
    check(code == 200, f"hook_trap stored for the next start: {code} {doc}")
    check(dev.stop() == 0, "clean stop")
    dev = fault.Device(a.hook_fw, work, key, keyfile)
    check(dev.proc.poll() is None and dev.value() == 31, "at start the trapping module is "
          "refused and the previous good one boots")
    check("post-reload hook" in dev.status()["last_error"], "/status says why")
    check(dev.stop() == 0, "clean stop")


def main():
    a = fault.args(lambda ap: ap.add_argument("--hook-fw", required=True))
    full_storage(a)
    constructors(a)
    post_hook(a)
    return fault.hrtest.summary("fault_trap")


if __name__ == "__main__":
    sys.exit(main())
