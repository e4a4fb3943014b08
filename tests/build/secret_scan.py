#!/usr/bin/python3
"""No byte sequence of the build's private key in the firmware or in any
file of the build directory that others can read (issue 16 item 3).

usage: secret_scan.py BUILD_DIR FIRMWARE
The private key is BUILD_DIR/hotreload-sign.pem (readable by its owner
only). Looked for: its 32-byte scalar raw and in hex (either case), any
16-byte window of it (a partial copy), and each base64 line of the PEM."""
import os
import stat
import sys

from cryptography.hazmat.primitives import serialization


def needles(pem_path):
    with open(pem_path, "rb") as f:
        pem = f.read()
    d = serialization.load_pem_private_key(pem, None).private_numbers().private_value
    raw = d.to_bytes(32, "big")
    found = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    found += [raw[i:i + 16] for i in range(17)]
    found += [l for l in pem.splitlines() if l and not l.startswith(b"-----")]
    return found


def main():
    build, firmware = sys.argv[1], sys.argv[2]
    pem = os.path.join(build, "hotreload-sign.pem")
    fails = 0
    if stat.S_IMODE(os.stat(pem).st_mode) != 0o600:
        print(f"FAIL: {pem} is not 0600")
        fails += 1
    look = needles(pem)
    scanned = 0
    for root, _, files in os.walk(build):
        for name in files:
            path = os.path.join(root, name)
            if path == pem or os.path.islink(path):
                continue
            mode = os.stat(path).st_mode
            if not mode & stat.S_IROTH and path != firmware:
                continue  # not world-readable: not this rule's concern
            with open(path, "rb") as f:
                data = f.read()
            scanned += 1
            if any(n in data for n in look):
                print(f"FAIL: {path} holds bytes of the private key")
                fails += 1
    print(f"secret_scan: {scanned} files scanned, {fails} failures")
    return 1 if fails or scanned == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
