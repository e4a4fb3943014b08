#!/usr/bin/python3
"""The ESP-IDF component on ESP-IDF's linux target, for real: examples/esp-idf
(app_main in igrr/hotreload's style, greet marked RELOADABLE, count listed in
CONFIG_HOTRELOAD_COMPONENTS) built with ESP-IDF's CMake and run as a process;
hotd pushes over esp_http_server; real curl for the refusals.

Shown: both modules pushed and running; an edit of greet pushed -> new text,
same process, count kept, and the new function it adds (the app does not call
it) leaves the app's ELF as it was; a module whose constructor traps -> refused, the old
one keeps running; an unsigned upload -> 401, a replayed one -> 403 (signed
HR2 with the build's hotreload-sign.pem, whose bytes are in no file of the
build others can read, the app's ELF included); a restart on the same
emulated flash -> both modules come back (confirmed images).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idfapp  # noqa: E402
from idfapp import hrtest  # noqa: E402
from hrtest import check  # noqa: E402


def push(hotd, app, url, name, env):
    """hotd push (which builds first: in ESP-IDF's environment)."""
    return hrtest.run(hotd, "push", name, "--build", os.path.join(app, "build"), "--url", url,
                      env=env)


def curl(url, target, body, headers=()):
    """POST body to url+target: (status, JSON answer)."""
    with tempfile.NamedTemporaryFile() as out, tempfile.NamedTemporaryFile() as inp:
        inp.write(body)
        inp.flush()
        cmd = ["curl", "-sS", "-o", out.name, "-w", "%{http_code}", "--max-time", "20",
               "--data-binary", "@" + inp.name, "-H", "Content-Type: application/octet-stream",
               url + target]
        for h in headers:
            cmd += ["-H", h]
        code = subprocess.run(cmd, stdout=subprocess.PIPE, text=True).stdout
        try:
            doc = json.loads(open(out.name, "rb").read() or b"{}")
        except ValueError:
            doc = {}
        return int(code or 0), doc


def signed(app, url, target, body):
    """Headers of a correctly signed request: HR2 with the build's private
    key (the default), HR1 with the HMAC key of an HMAC build."""
    st = json.loads(subprocess.run(["curl", "-sS", url + "/status"], stdout=subprocess.PIPE)
                    .stdout)
    counter = st["counter"] + 1
    sha = hashlib.sha256(body).hexdigest()
    pem = os.path.join(app, "build", "hotreload-sign.pem")
    if os.path.exists(pem):
        from cryptography.hazmat.primitives import serialization
        with open(pem, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        sig = hrtest.hr2_sig(key, "POST", target, st["nonce"], counter, sha)
        cred = f"HR2 counter={counter}, sig={sig}"
    else:
        key = bytes.fromhex(open(os.path.join(app, "build", "hotreload.key")).read().strip())
        mac = hrtest.hr1_mac(key, "POST", target, st["nonce"], counter, sha)
        cred = f"HR1 counter={counter}, mac={mac}"
    return [f"Authorization: {cred}", f"X-Hotreload-Sha256: {sha}"]


def no_private_key(source, app):
    """The app holds only the public key: no byte of build/hotreload-sign.pem
    in its ELF or in any file of the build others can read."""
    build = os.path.join(app, "build")
    elf = [f for f in os.listdir(build) if f.endswith(".elf")]
    r = subprocess.run([sys.executable, os.path.join(source, "tests/build/secret_scan.py"),
                        build, os.path.join(build, elf[0])],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(r.returncode == 0 and "0 failures" in r.stdout, "secret scan: " + r.stdout[-1500:])


def app_elf_sha(app):
    """The SHA-256 of the app's ELF (the firmware's identity on the chips)."""
    build = os.path.join(app, "build")
    elf = [f for f in os.listdir(build) if f.endswith(".elf")]
    assert len(elf) == 1, f"app ELF in {build}: {elf}"
    return hashlib.sha256(open(os.path.join(build, elf[0]), "rb").read()).hexdigest()


def edit(path, old, new):
    text = open(path).read()
    assert old in text, f"{old!r} not in {path}"
    open(path, "w").write(text.replace(old, new))


def refusals(app, url, dev):
    """Unsigned and replayed uploads are refused; the running module stays."""
    img = open(os.path.join(app, "build", "modules", "greet.img"), "rb").read()
    target = "/upload-and-reload?module=greet"
    code, doc = curl(url, target, img)
    check(code == 401, f"unsigned upload: {code} {doc}")
    headers = signed(app, url, target, img)
    code, doc = curl(url, target, img, headers)
    check(code == 200, f"signed upload: {code} {doc}")
    code, doc = curl(url, target, img, headers)
    check(code == 403 and "counter" in doc.get("error", ""), f"replayed upload: {code} {doc}")
    n = dev.lines.mark()
    check(dev.lines.search(r"greet: hello from greet v2", after=n) is not None,
          "v2 stopped running after the refused uploads")


def count_alone(hotd, app, env, dev):
    """count reloaded on its own: its new step shows, its total goes on, and
    greet is not reloaded."""
    edit(os.path.join(app, "components", "count", "count.c"), "total += 1;", "total += 1000;")
    rc, out = idfapp.build(app, env, "count_image")
    check(rc == 0, "count rebuild: " + out[-2000:])
    n = dev.lines.mark()
    _, m = dev.lines.expect(r"count: (\d+)$", timeout=30, after=n)  # a loaded CI machine
    before = int(m.group(1))
    n = dev.lines.mark()
    rc, out, err = push(hotd, app, dev.url, "count", env)
    check(rc == 0, f"push count: {out} {err}")
    _, m = dev.lines.expect(r"greet: hello from greet v2 \| count: (\d{4,})", after=n)
    after = int(m.group(1))
    check(before < after < before + 3000, f"count after its own reload: {before} -> {after}")
    check(not dev.lines.saw(r"module 'greet' generation", after=n),
          "greet was reloaded with count")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--hotd", required=True)
    a = ap.parse_args()
    _, env = idfapp.find_idf(a.source)
    with tempfile.TemporaryDirectory() as tmp:
        app = idfapp.copy_example(a.source, tmp)
        t0 = time.time()
        rc, out = idfapp.configure(app, env, a.source, hotd=a.hotd)
        rc = rc or idfapp.build(app, env)[0] if rc == 0 else rc
        if not check(rc == 0, "example build failed:\n" + out[-3000:]):
            return hrtest.summary("esp_idf_app")
        print(f"built in {time.time() - t0:.1f} s", flush=True)
        no_private_key(a.source, app)
        flash = None
        dev = idfapp.App(app, env)
        try:
            flash = dev.flash
            dev.lines.expect(r"not everything loaded")
            check(not dev.lines.saw(r"holds images of up to"), "the example's partitions hold "
                  "two images of CONFIG_HOTRELOAD_MAX_MODULE_SIZE: no warning at start")
            for name in ("greet", "count"):
                rc, out, err = push(a.hotd, app, dev.url, name, env)
                check(rc == 0 and "ok, module" in out, f"push {name}: {rc} {out} {err}")
            dev.lines.expect(r"greet: hello from greet v1 \| count: [1-9]")
            pid = dev.proc.pid

            src = os.path.join(app, "components", "greet", "greet.c")
            app_before = app_elf_sha(app)
            edit(src, "greet v1", "greet v2")
            # A new function the app does not call: no stub, the same app.
            with open(src, "a") as f:
                f.write("\nint greet_scaled(int x)\n{\n    return 3 * x;\n}\n")
            rc, out = idfapp.build(app, env, "greet_image")
            check(rc == 0, "greet rebuild: " + out[-2000:])
            check(app_elf_sha(app) == app_before, "a new uncalled function changed the app")
            _, m = dev.lines.expect(r"count: (\d+)")
            before = int(m.group(1))
            rc, out, err = push(a.hotd, app, dev.url, "greet", env)
            check(rc == 0, f"push v2: {out} {err}")
            _, m = dev.lines.expect(r"greet: hello from greet v2 \| count: (\d+)")
            check(int(m.group(1)) > before and dev.proc.pid == pid,
                  "count restarted or another process after the reload")

            edit(src, "const char *greet_text", "__attribute__((constructor)) static void "
                 "boom(void) { *(volatile int *)16 = 1; }\n\nconst char *greet_text")
            rc, out = idfapp.build(app, env, "greet_image")
            rc, out, err = push(a.hotd, app, dev.url, "greet", env)
            check(rc != 0 and "constructor" in (out + err), f"trapping module: {rc} {out} {err}")
            n = dev.lines.mark()
            dev.lines.expect(r"greet: hello from greet v2", after=n)
            edit(src, "__attribute__((constructor)) static void boom(void) "
                 "{ *(volatile int *)16 = 1; }\n\n", "")
            idfapp.build(app, env, "greet_image")

            count_alone(a.hotd, app, env, dev)
            refusals(app, dev.url, dev)
            time.sleep(2.5)  # past confirm_after_ms (2 s, sdkconfig.defaults)
            dev.lines.expect(r"greet: hello")  # a safe point passed: confirmed
            check(dev.stop() is not None, "stop")
            dev = idfapp.App(app, env, flash=flash)
            dev.lines.expect(r"greet: hello from greet v2 \| count: \d+", timeout=15)
            check(not dev.lines.saw(r"not everything loaded"), "restart: a module missing")
        except AssertionError as e:
            check(False, str(e))
        finally:
            dev.stop()
            if flash and flash.startswith("/tmp/idf-partition-"):
                os.unlink(flash)
    return hrtest.summary("esp_idf_app")


if __name__ == "__main__":
    sys.exit(main())
