#!/usr/bin/python3
"""HR2 (docs/http.md) against a device that holds only a P-256 public key:
requests signed with python's `cryptography` and with the `openssl` command
alone (following docs/http.md) run; one signed with another private key,
with a changed body or target, replayed, or signed HR1 (HMAC) is refused
with the status docs/http.md gives it and changes nothing. After two wrong
signatures in a row, checks pause (429) for a time that doubles."""
import os
import shutil
import subprocess
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import fault
from fault import check
from auth_test import Base, unsigned


def key_files(work):
    """A private key made by `openssl` as docs/http.md says (PEM, 0600 from
    its first byte), and the device's 65-byte public point cut from openssl's
    DER: (the key loaded for python's signing, pem path, point path)."""
    pem, point = os.path.join(work, "sign.pem"), os.path.join(work, "pubkey.bin")
    subprocess.run(f"umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out {pem} "
                   f"&& openssl ec -in {pem} -pubout -outform DER 2>/dev/null | tail -c 65 "
                   f"> {point}", shell=True, check=True)
    check(os.stat(pem).st_mode & 0o077 == 0, "the private key file is readable by its owner only")
    with open(pem, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    with open(point, "rb") as f:
        check(f.read() == key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint),
            "docs/http.md's openssl pipeline gives the 65-byte public point")
    return key, pem, point


def der_to_rs(der):
    """openssl's DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs) as r || s
    hex, parsed by hand so that the openssl path needs no crypto library."""
    assert der[0] == 0x30 and der[1] < 0x80, "a short DER SEQUENCE"
    i, out = 2, b""
    for _ in range(2):
        assert der[i] == 0x02, "an INTEGER"
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(32, b"\0")
        i += 2 + n
    return out.hex()


def openssl_signed(dev, pem, work, target, body):
    """A POST signed as docs/http.md says, with `openssl dgst` alone."""
    nonce, counter = dev.status()["nonce"], dev.next_counter()
    msg = "\n".join(["HR2", "POST", target, nonce, str(counter), fault.sha(body)])
    path = os.path.join(work, "message")
    with open(path, "w") as f:
        f.write(msg)
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", pem, path],
                         stdout=subprocess.PIPE, check=True).stdout
    head = (f"POST {target} HTTP/1.1\r\nHost: device\r\n"
            f"Authorization: HR2 counter={counter}, sig={der_to_rs(der)}\r\n"
            f"X-Hotreload-Sha256: {fault.sha(body)}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def refusals(dev, v2, b):
    """Requests that must change nothing on an HR2 device."""
    b.attack("unsigned upload", unsigned("/upload-and-reload", v2), 401,
             "authentication required")
    b.attack("signed HR1 with an HMAC key", dev.signed("/upload-and-reload", v2,
             key=os.urandom(32)), 401, "verifies HR2 signatures")
    other = ec.generate_private_key(ec.SECP256R1())
    wrong = lambda what, data: (b.attack(what, data, 403, "wrong signature"), reset(dev))
    for target in ("/upload-and-reload", "/unload"):
        body = v2 if "upload" in target else None
        wrong(f"{target} signed with another private key", dev.signed(target, body, key=other))
    wrong("signed for /upload, sent to /upload-and-reload",
          dev.signed("/upload-and-reload", v2, sign_target="/upload"))
    forged = v2[:-1] + bytes([v2[-1] ^ 1])
    wrong("last byte changed, the new body's SHA-256 declared",
          dev.signed("/upload-and-reload", forged, sign_body=v2, declared=fault.sha(forged)))
    good = dev.signed("/upload-and-reload", v2).decode("latin-1")
    sig = good.split("sig=")[1][:128]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    bad = good.replace(sig, flipped).encode("latin-1")
    b.attack("one bit of s changed", bad, 403, "wrong signature")
    b.attack("the same again: 2 wrong signatures in a row", bad, 403, "wrong signature")
    # Two wrong signatures in a row: checks pause for 1 s (doubling with each
    # further one), so a hostile client cannot keep the CPU verifying.
    b.attack("a 3rd wrong signature at once", bad, 429, "signature checks are paused")
    t0, mark = time.time(), dev.log_mark()
    code = dev.request(dev.signed("/reload?module=nosuch"))[0]
    check(code == 429, f"a good signature during the pause waits too: {code}")
    check(dev.http_log(mark)[1] == 429, "the device logs the 429")
    time.sleep(max(0.0, 1.05 - (time.time() - t0)))
    reset(dev)
    b.attack("sig of 127 hex digits", good.replace(sig, sig[:-1]).encode("latin-1"), 401,
             "sig is not 128 lowercase hex digits")


def reset(dev):
    """A good signature (a signed reload of no module: 404) ends a run of
    wrong ones, so the next attack is verified, not paused. Its log line is
    waited for: the next attack looks for its own after a mark."""
    mark = dev.log_mark()
    code, _, doc = dev.request(dev.signed("/reload?module=nosuch"))
    check(code == 404, f"a good signature after wrong ones is checked: {code} {doc}")
    check(dev.http_log(mark)[1] == 404, "the device logs the 404")


def console(dev, line):
    """A line to the firmware's serial console (stdin): its answer."""
    mark = len(dev.lines)
    dev.proc.stdin.write(line + "\n")
    dev.proc.stdin.flush()
    return dev.wait(r"^((ok|error) .*)$", after=mark).group(1)


def console_signs(dev, key):
    """The serial console takes the same HR2 credential (method SERIAL,
    the command's words): reload signed runs; HR1, another key, or the same
    credential again is refused."""
    _, nonce, last = console(dev, "nonce").split()[:3]  # then "deflate" on posix
    empty = fault.sha(b"")
    sign = lambda k, n: fault.hrtest.hr2_sig(k, "SERIAL", "reload main", nonce, n, empty)
    n = int(last) + 1
    other = ec.generate_private_key(ec.SECP256R1())
    got = console(dev, f"reload main HR2 counter={n}, sig={sign(other, n)}")
    check(got.startswith("error authentication failed: wrong signature"),
          f"console: reload signed with another key refused: {got}")
    mac = fault.hrtest.hr1_mac(os.urandom(32), "SERIAL", "reload main", nonce, n, empty)
    got = console(dev, f"reload main HR1 counter={n}, mac={mac}")
    check("verifies HR2 signatures" in got, f"console: HR1 refused, HR2 named: {got}")
    good = f"reload main HR2 counter={n}, sig={sign(key, n)}"
    got = console(dev, good)
    check(got.startswith("ok"), f"console: reload signed HR2 runs: {got}")
    got = console(dev, good)
    check("replayed or stale" in got, f"console: the same line again is refused: {got}")


def hotd_signs(a, dev, pem, work, v1):
    """hotd signs HR2 with the build's hotreload-sign.pem (here openssl's
    key); one it made itself with `hotd key new` is another key: refused."""
    build = os.path.join(work, "build")
    os.makedirs(build)
    shutil.copy(pem, os.path.join(build, "hotreload-sign.pem"))
    mod = os.path.join(a.modules, "small_1.o")
    rc, out, err = fault.hrtest.run(a.hotd, "push", "--build", build, "--url", dev.http,
                                    "--name", "main", mod)
    check(rc == 0 and dev.value() == 11 and fault.wait_confirmed(dev),
          f"hotd push signs HR2 with the build's PEM: {rc} {err}")
    rc, out, err = fault.hrtest.run(a.hotd, "status", "--build", build, "--url", dev.http,
                                    "--json")
    check(rc == 0 and '"addresses":true' in out.replace(" ", ""),
          f"hotd status signed HR2 gets the addresses: {rc} {err}")
    other = os.path.join(work, "other")
    os.makedirs(other)
    rc, _, err = fault.hrtest.run(a.hotd, "key", "new", os.path.join(other, "hotreload-sign.pem"))
    check(rc == 0 and os.stat(os.path.join(other, "hotreload-sign.pem")).st_mode & 0o777 == 0o600,
          f"hotd key new writes a 0600 key: {rc} {err}")
    b = Base(dev, 11, scheme="HR2")
    rc, out, err = fault.hrtest.run(a.hotd, "push", "--build", other, "--url", dev.http,
                                    "--name", "main", mod)
    check(rc != 0 and "wrong signature" in out + err, f"hotd push with another key: refused: "
          f"{rc} {(out + err).strip()[-200:]}")
    b.same("hotd push with another key", counted=False)


def main():
    a = fault.args(lambda ap: ap.add_argument("--hotd", required=True))
    v1, v2 = fault.module(a, "small_1"), fault.module(a, "small_2")
    work = fault.workdir("hr2")
    key, pem, point = key_files(work)
    dev = fault.start(a, work, key, None, args=["--pubkey", point])
    code, _, doc = dev.request(dev.signed("/upload-and-reload", v1))
    check(code == 200 and dev.value() == 11 and fault.wait_confirmed(dev),
          f"signed HR2 with python: the module (value 11) runs: {code} {doc}")
    b = Base(dev, 11, scheme="HR2")
    refusals(dev, v2, b)

    captured = openssl_signed(dev, pem, work, "/upload-and-reload", v2)
    code, _, doc = dev.request(captured)
    check(code == 200 and dev.value() == 12 and fault.wait_confirmed(dev),
          f"signed HR2 with the openssl command: value 12 runs: {code} {doc}")
    b = Base(dev, 12, scheme="HR2")
    b.attack("the openssl-signed request replayed byte for byte", captured, 403,
             "replayed or stale")
    console_signs(dev, key)
    hotd_signs(a, dev, pem, work, v1)
    check(dev.stop() == 0, "clean stop")
    return fault.hrtest.summary("fault_hr2")


if __name__ == "__main__":
    sys.exit(main())
