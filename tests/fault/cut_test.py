#!/usr/bin/python3
"""Signed uploads cut at 100 random byte offsets (head or body; the client
closes cleanly or resets) and at 3 edges (nothing sent, the head alone, all
but the last byte), each on a raw socket so the cut is exact. After
each: the device answers /status, runs the module it ran before, and the
partition holds that module intact and nothing of the cut one. At the end
the same upload sent whole is stored and runs.

Replay a failure with --seed N (printed first)."""
import random
import socket
import struct
import sys

import fault
from fault import check

CUTS = 100


def cut(dev, data, at, reset):
    """Send data[:at], then close (FIN) or reset (RST); the answer, if read."""
    s = socket.create_connection(("127.0.0.1", dev.port), timeout=10)
    try:
        s.sendall(data[:at])
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return None
        s.shutdown(socket.SHUT_WR)
        return fault.parse_answer(fault.read_all(s))
    finally:
        s.close()


def main():
    a = fault.args()
    print(f"cut_test: seed {a.seed} (replay: --seed {a.seed})", flush=True)
    rng = random.Random(a.seed)
    old, new = fault.module(a, "small_1"), fault.module(a, "small_2")
    sha_old, sha_new = fault.sha(old), fault.sha(new)
    work = fault.workdir("cut")
    key, keyfile = fault.hrtest.raw_key(work, "key")
    dev = fault.start(a, work, key, keyfile)

    code, _, doc = dev.request(dev.signed("/upload-and-reload", old))
    check(code == 200 and dev.value() == 11, f"the good module (value 11) runs: {code} {doc}")
    st = fault.wait_confirmed(dev)
    if not check(st is not None, "the good module is confirmed"):
        return fault.hrtest.summary("fault_cut")
    gen, stored = st["generation"], st["stored"]
    first = len(dev.lines)

    # The edges first (nothing sent, the head alone, all but the last byte),
    # then random offsets; a quarter of them inside the head.
    edges = [lambda h, n: 0, lambda h, n: h, lambda h, n: n - 1]
    for i in range(1, len(edges) + CUTS + 1):
        target = rng.choice(["/upload", "/upload-and-reload"])
        data = dev.signed(target, new)
        head = data.index(b"\r\n\r\n") + 4
        at = rng.randrange(head) if rng.random() < 0.25 else rng.randrange(head, len(data))
        reset = rng.random() < 0.3
        if i <= len(edges):
            at, reset = edges[i - 1](head, len(data)), False
        where = f"head byte {at}" if at < head else f"body byte {at - head} of {len(new)}"
        what = f"cut {i}/{len(edges) + CUTS} of {target} at {where} ({'RST' if reset else 'FIN'})"
        mark = dev.log_mark()
        answer = cut(dev, data, at, reset)
        _, logged, line = dev.http_log(mark)
        # A reset is a failed read (408); a clean close mid-request a 400.
        check(logged == (408 if reset else 400), f"{what}: refused {logged}: {line}")
        if answer is not None:
            code, _, doc = answer
            err = doc.get("error", "")
            want = ("inside the request head" if at < head else
                    f"after {at - head} of {len(new)} body bytes; nothing was stored")
            check(code == 400 and want in err, f"{what}: the client read 400 '{want}': "
                  f"{code} {err}")
        st = dev.main()
        check(st["generation"] == gen and (st.get("image") or {}).get("sha256") == sha_old
              and st.get("stored") == stored, f"{what}: /status: generation {gen}, running and "
              f"stored image unchanged: {st['generation']} {st.get('stored')}")
        check(dev.value() == 11, f"{what}: the firmware still prints the good module's value 11")
        images = fault.check_storage(dev, {sha_old, sha_new}, what)
        check([m["sha256"] for m in images] == [sha_old], f"{what}: the partition holds the good "
              f"module and nothing of the cut one: {[m['sha256'][:12] for m in images]}")

    check(dev.values_since(first) == {11}, "the firmware printed no other value during the cuts")
    code, _, doc = dev.request(dev.signed("/upload-and-reload", new))
    check(code == 200 and doc.get("sha256") == sha_new, f"the whole upload after the cuts: "
          f"{code} {doc}")
    check(dev.value() == 12, "the new module (value 12) runs")
    st = dev.main()
    check((st.get("image") or {}).get("sha256") == sha_new and st["generation"] == gen + 1,
          f"/status: the new image, generation {gen + 1}: {st['generation']}")
    fault.check_storage(dev, {sha_old, sha_new}, "after the whole upload")
    check(dev.stop() == 0, "clean stop")
    return fault.hrtest.summary("fault_cut")


if __name__ == "__main__":
    sys.exit(main())
