#!/usr/bin/python3
"""Hostile bytes and what /status tells a stranger (issue 16 items 10, 11).
1. Requests with every byte 0x80-0xFF and control characters (TAB, ESC,
   BEL) in their targets and headers: each is refused (400, or 401 for a
   POST without a credential), and the device's log shows the request
   line's bytes as \\xNN; no byte outside printable ASCII reaches the log
   at all (the whole stderr, read raw).
2. GET /status without a credential: no section and no address at all,
   "addresses": false, while the module runs; signed as hotd signs (HR1,
   GET /status, the empty body's hash): the sections with their addresses;
   the same signed request replayed, one signed with another key, and a
   POST's signature on the GET: 403, without addresses. With
   authentication off, every GET /status shows them."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import fault
from fault import check


def start(a, work, keyfile, args=()):
    """The firmware with its stderr in a file, raw bytes kept: (proc, port, log path)."""
    log = os.path.join(work, "stderr.log")
    proc = fault.hrtest.start_fw(a.fw, work, keyfile, args, stdout=subprocess.PIPE,
                                 stderr=open(log, "wb"))
    line = proc.stdout.readline().decode()
    while line and "listening on" not in line:
        line = proc.stdout.readline().decode()
    return proc, int(line.split()[-1]), log


def raw(port, data):
    dev = fault.Device.__new__(fault.Device)
    dev.port = port
    return dev.request(data)


def log_lines(log, count, timeout=10):
    """The device's http log lines, once there are `count` of them."""
    end = time.time() + timeout
    while time.time() < end:
        with open(log, "rb") as f:
            data = f.read()
        lines = [l for l in data.split(b"\n") if l.startswith(b"hotreload: http ")]
        if len(lines) >= count:
            return data, lines
        time.sleep(0.05)
    return data, lines


def escaped(b):
    return "".join(chr(c) if 0x20 <= c < 0x7f and c != 0x5c else "\\x%02x" % c for c in b)


def hostile_bytes(port, log):
    sent = []
    for lo in range(0x80, 0x100, 32):  # every high byte, 32 to a target
        target = b"/st" + bytes(range(lo, lo + 32))
        sent.append((target, raw(port, b"GET " + target + b" HTTP/1.1\r\nHost: d\r\n\r\n")[0]))
    # TAB passes the line reader and is refused in the target; ESC and BEL end the line.
    for target in (b"/a\tb\x80", b"/x\xc3\x28\x1b[2J\x07", b"/\x1b]0;owned\x07"):
        sent.append((target, raw(port, b"GET " + target + b" HTTP/1.1\r\n\r\n")[0]))
    for header in (b"X-Evil: \x80\xfe\x1b[31m\r\n", b"X-Evil: \xff\t\xe2\x80\xae\r\n"):
        code = raw(port, b"POST /reload HTTP/1.1\r\n" + header + b"\r\n")[0]
        sent.append((b"/reload", code))
    check([c for _, c in sent] == [400] * 7 + [400, 401], f"every hostile request refused: "
          f"{[c for _, c in sent]}")
    data, lines = log_lines(log, len(sent))
    text = [l.decode("ascii", "replace") for l in lines]
    for target, _ in sent[:4]:
        want = "GET " + escaped(target) + " -> 400: "
        found = any(l.startswith("hotreload: http " + want) for l in text)
        check(found, f"the log shows bytes {target[3]:#x}-{target[-1]:#x} of the target "
              f"escaped: {want[:36]}…" + ("" if found else f" in {text}"))
    found = any(l.startswith("hotreload: http GET /a\\x09b\\x80 -> 400") for l in text)
    check(found, "TAB and 0x80 in a target escaped" + ("" if found else f": {text}"))
    found = any(l.startswith("hotreload: http GET /x\\xc3(\\x1b -> 400") for l in text)
    check(found, "a refused ESC shown escaped, the line as far as read" +
          ("" if found else f": {text}"))
    found = (sum(l.startswith("hotreload: http POST /reload -> 401") for l in text) == 1 and
             sum(l.startswith("hotreload: http POST /reload -> 400") for l in text) == 1)
    check(found, "hostile header values: refused, logged without their bytes" +
          ("" if found else f": {text}"))
    bad = sorted({b for b in data if b >= 0x7f or (b < 0x20 and b != 0x0a)})
    check(not bad, f"no byte outside printable ASCII in the device's log: {bad[:10]}")
    print("\n".join(text[:3]))


def signed_get(url, key, nonce, counter, method="GET"):
    mac = fault.hrtest.hr1_mac(key, method, "/status", nonce, counter, fault.sha(b""))
    req = urllib.request.Request(url + "/status", headers={
        "Authorization": f"HR1 counter={counter}, mac={mac}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def curl_status(url):
    r = subprocess.run(["curl", "-sS", "--max-time", "10", url + "/status"],
                       stdout=subprocess.PIPE, text=True)
    return r.stdout


def status_policy(url, key):
    text = curl_status(url)
    doc = json.loads(text)
    m = doc["modules"][0]
    check(m["loaded"] and doc["addresses"] is False and "sections" not in m and
          '"addr"' not in text and not re.search(r"0x[0-9a-f]{5,}", text),
          f"unsigned GET /status (curl): the module runs, no section, no address: {m}")
    counter = max(int(time.time() * 1000), doc["counter"] + 1)
    code, full = signed_get(url, key, doc["nonce"], counter)
    secs = json.loads(full)["modules"][0].get("sections", []) if code == 200 else []
    check(code == 200 and '"addresses":true' in full and secs and
          all(int(s["addr"], 16) > 0 for s in secs), f"signed GET /status: the sections and "
          f"their addresses: {code} {secs}")
    for what, k, ctr, method in (("replayed", key, counter, "GET"),
                                 ("another key", b"another key", counter + 1, "GET"),
                                 ("a POST's signature", key, counter + 2, "POST")):
        code, text = signed_get(url, k, doc["nonce"], ctr, method)
        check(code == 403 and "addr" not in text, f"GET /status signed ({what}): 403, no "
              f"address: {code} {text}")


def main():
    a = fault.args()
    v1 = fault.module(a, "small_1")
    work = fault.workdir("hostile_http")
    key, keyfile = fault.hrtest.raw_key(work, "key")
    proc, port, log = start(a, work, keyfile)
    url = f"http://127.0.0.1:{port}"
    try:
        dev = fault.Device.__new__(fault.Device)
        dev.port, dev.key, dev.counter = port, key, int(time.time() * 1000)
        code, _, doc = dev.request(dev.signed("/upload-and-reload", v1))
        check(code == 200, f"the module loads: {code} {doc}")
        hostile_bytes(port, log)
        status_policy(url, key)
    finally:
        fault.hrtest.stop(proc)
    # Authentication off: nothing to protect the addresses with (anyone may
    # replace the code): every request sees them.
    proc, port, log = start(a, fault.workdir("hostile_http_noauth"), keyfile, ("--no-auth",))
    try:
        code = raw(port, b"POST /upload-and-reload HTTP/1.1\r\nContent-Length: %d\r\n\r\n"
                   % len(v1) + v1)[0]
        doc = json.loads(curl_status(f"http://127.0.0.1:{port}"))
        check(code == 200 and doc["addresses"] is True and doc["modules"][0].get("sections"),
              f"authentication off: GET /status lists the addresses: {code} {doc['modules']}")
    finally:
        fault.hrtest.stop(proc)
    return fault.hrtest.summary("fault_hostile_http")


if __name__ == "__main__":
    sys.exit(main())
