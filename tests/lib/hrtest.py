"""Helpers shared by the Python end-to-end tests (tests/device, tests/hotd).

Stdlib only (hr2_sig imports `cryptography` when called). A script imports it with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import hrtest

What is here: the pass/fail counters (check, summary), lines read from a
process's stream by a thread and waited for by regex (Lines), starting and
stopping the simulated device firmware (start_fw, stop), the HTTP device with
its stdout/stderr collected (Device), the TCP bridge in front of the firmware's
console (ConsoleBridge), the key files and build-like folders hotd reads
(raw_key, make_build), hotd runs (run, and run_pty with stderr on a
pseudo-terminal; PROGRESS_BAR matches the bar it draws there) and the HR1 MAC
(hr1_mac).
"""
import hashlib
import json
import hmac
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

passed = failed = 0


def check(cond, what):
    """Count one check; print FAIL: what when it does not hold. Returns cond."""
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", flush=True)
    return cond


def summary(name):
    """Print the final 'NAME: N passed, M failed' line; the exit status."""
    print(f"{name}: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


class Lines:
    """Lines read from a stream (text or bytes) by a thread, waited for by regex.

    forward, if given, gets each raw line as read (before it is stored);
    alive, if given, is asked while waiting: once it is false, waits end."""

    def __init__(self, stream=None, forward=None, alive=None):
        self.lines, self.cond = [], threading.Condition()
        self.forward, self.alive = forward, alive
        if stream is not None:
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for raw in stream:
            if self.forward:
                self.forward(raw)
            text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
            self.add([text.rstrip("\r\n")])

    def add(self, texts):
        with self.cond:
            self.lines.extend(texts)
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.lines)

    def text(self, after=0):
        with self.cond:
            return "\n".join(self.lines[after:])

    def saw(self, regex, after=0):
        with self.cond:
            return any(re.search(regex, line) for line in self.lines[after:])

    def search(self, regex, timeout=10, after=0):
        """(index, match) of the first line from index `after` on that matches,
        or None after timeout seconds (or once alive() is false)."""
        end = time.time() + timeout
        with self.cond:
            while True:
                for i, line in enumerate(self.lines[after:], after):
                    m = re.search(regex, line)
                    if m:
                        return i, m
                left = end - time.time()
                if left <= 0 or (self.alive and not self.alive()):
                    return None
                self.cond.wait(min(left, 0.2))

    def expect(self, regex, timeout=10, after=0, tail=5, also=None):
        """search(), raising AssertionError (with the last lines, and also())
        when nothing matches."""
        found = self.search(regex, timeout, after)
        if found is None:
            raise AssertionError(f"no line matching {regex!r}; last: {self.lines[-tail:]}"
                                 + (also() if also else ""))
        return found


def start_fw(fw, storage, keyfile, args=(), env=None, **popen):
    """The simulated device firmware (tests/device/fw.c) on a free HTTP port,
    storing into `storage`, with the raw key in `keyfile` (None: the
    caller's args give it, e.g. --pubkey)."""
    e = dict(os.environ, HOTRELOAD_STORAGE_DIR=storage, **(env or {}))
    key = ["--key", keyfile] if keyfile else []
    return subprocess.Popen([fw, "--port", "0", *key, *args], env=e, **popen)


def stop(proc, sig=signal.SIGTERM):
    """Signal proc if it runs, kill it if it does not end in 20 s; its status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


class Device:
    """device_fw over HTTP, its stdout (self.lines) and stderr (self.errs)
    collected; self.http is its address. console=True gives it a stdin pipe."""

    TAIL = 5  # lines of each stream a failed wait shows

    def __init__(self, fw, storage, keyfile, env=None, args=(), console=False):
        self.proc = start_fw(fw, storage, keyfile, args, env,
                             stdin=subprocess.PIPE if console else None,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        alive = lambda: self.proc.poll() is None
        self.out = Lines(self.proc.stdout, alive=alive)
        self.err = Lines(self.proc.stderr, alive=alive)
        self.lines, self.errs = self.out.lines, self.err.lines
        self.port = int(self.wait(r"listening on (\d+)").group(1))
        self.http = f"http://127.0.0.1:{self.port}"

    def wait(self, regex, timeout=10, stream="out", after=0):
        src = self.out if stream == "out" else self.err
        return src.expect(regex, timeout, after, self.TAIL,
                          lambda: f" stderr: {self.errs[-self.TAIL:]}")[1]

    def stop(self, sig=signal.SIGTERM):
        return stop(self.proc, sig)


class ConsoleBridge:
    """A TCP listener in front of a firmware's console (its stdin), the way QEMU
    exposes a UART: one client at a time; what it sends goes to self.proc's
    stdin through to_fw(); forward() sends the firmware's output to it.
    self.serial_port is the port, self.spec the hotd --serial target."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.serial_port = self.listener.getsockname()[1]
        self.spec = f"tcp:127.0.0.1:{self.serial_port}"
        self.client, self.lock = None, threading.Lock()

    def start_bridge(self):
        threading.Thread(target=self._accept, daemon=True).start()

    def forward(self, raw):
        # Whole lines, one at a time: the two streams share the "wire".
        with self.lock:
            if self.client:
                try:
                    self.client.sendall(raw)
                except OSError:
                    self.client = None

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.client = conn
            self.connected()
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    break
                if not data:
                    break
                try:
                    self.proc.stdin.write(self.to_fw(data))
                    self.proc.stdin.flush()
                except OSError:
                    break
            with self.lock:
                self.client = None
            conn.close()

    def connected(self):
        """A client has connected."""

    def to_fw(self, data):
        """What reaches the firmware of the bytes the client sent."""
        return data

    def stop(self):
        self.listener.close()
        stop(self.proc)


def raw_key(folder, name="raw.key"):
    """A fresh 32-byte key, written raw to folder/name: (key, path)."""
    key = os.urandom(32)
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(key)
    return key, path


def make_build(root, name, key, module=None):
    """A folder shaped like a build directory: hotreload.key, modules/main.img."""
    build = os.path.join(root, name)
    os.makedirs(os.path.join(build, "modules"), exist_ok=True)
    with open(os.path.join(build, "hotreload.key"), "w") as f:
        f.write(key.hex() + "\n")
    if module:
        shutil.copy(module, os.path.join(build, "modules", "main.img"))
    return build


def run(exe, *rest, env=None):
    """Run exe (hotd) with rest, 60 s at most: (returncode, stdout, stderr)."""
    r = subprocess.run([exe, *rest], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60, env=dict(os.environ, **(env or {})))
    return r.returncode, r.stdout, r.stderr


def run_pty(exe, *rest, env=None):
    """Run exe (hotd) with its stderr on a pseudo-terminal, where progress is
    drawn, and its stdout on a pipe: (returncode, stdout, terminal text)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([exe, *rest], stdout=subprocess.PIPE, stderr=slave,
                         stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})))
    os.close(slave)
    out = []
    reader = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
    reader.start()
    term = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the last holder of the terminal closed it
            break
        if not chunk:
            break
        term += chunk
    os.close(master)
    rc = p.wait(60)
    reader.join(10)
    return rc, (out[0] if out else b"").decode(), term.decode(errors="replace")


# A progress bar as hostd/progress.c draws it: (percent, what follows the rate).
PROGRESS_BAR = re.compile(r"\r\[[# ]+\] +(\d+)%  [\d.]+/[\d.]+ KiB  [\d.]+ KiB/s([^\r]*)")


def hr1_mac(key, method, target, nonce, counter, body_sha):
    """The HR1 MAC (docs/ARCHITECTURE.md) of a request, hex."""
    msg = hr_message("HR1", method, target, nonce, counter, body_sha)
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def hr_message(scheme, method, target, nonce, counter, body_sha):
    """What HR1 MACs and HR2 signs (docs/http.md), bytes."""
    return "\n".join([scheme, method, target, nonce, str(counter), body_sha]).encode()


def hr2_sig(private_key, method, target, nonce, counter, body_sha):
    """The HR2 signature (docs/http.md) of a request with a `cryptography`
    P-256 private key: r || s, 128 lowercase hex."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    msg = hr_message("HR2", method, target, nonce, counter, body_sha)
    r, s = utils.decode_dss_signature(private_key.sign(msg, ec.ECDSA(hashes.SHA256())))
    return (r.to_bytes(32, "big") + s.to_bytes(32, "big")).hex()


def signed_status(url, key, counter=None):
    """GET url/status signed with `key` (HR1, as hotd does): the document
    with the sections' addresses. The nonce and counter come from an
    unsigned GET first."""
    with urllib.request.urlopen(url + "/status", timeout=10) as r:
        public = json.load(r)
    counter = counter or max(int(time.time() * 1000), public["counter"] + 1)
    mac = hr1_mac(key, "GET", "/status", public["nonce"], counter,
                  hashlib.sha256(b"").hexdigest())
    req = urllib.request.Request(url + "/status", headers={
        "Authorization": f"HR1 counter={counter}, mac={mac}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def parse_answer(raw):
    """(status, {header: value}, JSON doc) of an HTTP answer; status 0 if none."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2 or not parts[1].isdigit():
        return 0, {}, {"raw": raw[:200]}
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    try:
        doc = json.loads(body) if body else {}
    except ValueError:
        doc = {"raw": body[:200]}
    return int(parts[1]), headers, doc
