#!/usr/bin/python3
"""Module size limits on the simulated device: one setting (the module's
max_module_size) drives them all.
- a partition file too small for it (made with HOTRELOAD_STORAGE_SIZE) is
  said at start, refuses a large module naming the partition, and at the
  next start without the override is grown to two images of the limit with
  both stored images kept (the same slots, sequence numbers and bytes), the
  newest one booting; the large module then fits (the server follows the
  module's limit);
- a device whose max_module_size is below a module: its fresh partition is
  sized from that limit, and HTTP (413) and the serial console refuse the
  module naming max_module_size and how to raise it, before any byte is
  stored; a server cap (hotreload_server_config_t) is named as such.
"""
import hashlib
import os
import sys

import fault
from fault import check

HEADER = 4096  # the posix partition's erase block: each slot's header block


def size_for(limit):
    """Partition bytes for two images of `limit` (port.h's hr_storage_size_for)."""
    slot = (HEADER + limit + HEADER - 1) // HEADER * HEADER
    return 2 * slot


def upload(dev, target, body, value, what):
    code, _, doc = dev.request(dev.signed(target, body))
    check(code == 200, f"{what}: {target} answers 200: {code} {doc}")
    if value is not None:
        check(dev.value() == value, f"{what}: the device runs it (value {value})")


def grown(a):
    work = fault.workdir("size")
    key, keyfile = fault.hrtest.raw_key(work, "key")
    small1, small2, big = (fault.module(a, n) for n in ("small_1", "small_2", "big_1"))
    dev = fault.start(a, work, key, keyfile, env={"HOTRELOAD_STORAGE_SIZE": "65536"})
    cap = 65536 // 2 - HEADER
    line = dev.wait(r"partition 'hotreload' holds images of up to (\d+) bytes, less than its "
                    r"max_module_size of (\d+): larger uploads are refused; make the "
                    r"partition at least (\d+) bytes", stream="err")
    check(line.groups() == (str(cap), str(128 * 1024), str(size_for(128 * 1024))),
          f"a partition below the module's limit is said at start: {line.group(0)}")
    upload(dev, "/upload-and-reload", small1, 11, "small_1")
    check(fault.wait_confirmed(dev) is not None, "small_1 confirmed")
    upload(dev, "/upload", small2, None, "small_2 stored")
    code, _, doc = dev.request(dev.signed("/upload", big))
    check(code == 413 and f"does not fit partition 'hotreload' ({cap} bytes per image"
          in doc.get("error", "") and "make the partition larger" in doc.get("error", ""),
          f"{len(big)} bytes into the 64 KiB partition: 413 naming it: {code} {doc}")
    before = fault.check_storage(dev, {fault.sha(small1), fault.sha(small2)}, "before")
    check(sorted(i["sha256"] for i in before) == sorted(map(fault.sha, (small1, small2))),
          f"both slots hold an image before the restart: {before}")
    check(dev.stop() == 0, "clean stop")

    dev = fault.start(a, work, key, keyfile)
    want = size_for(128 * 1024)
    dev.wait(rf"storage .*hotreload.partition grown from 65536 to {want} bytes \(images of up "
             rf"to {want // 2 - HEADER} bytes\); its stored images are kept", stream="err")
    check(os.path.getsize(dev.partition()) == want,
          f"the partition file is {want} bytes: two images of 128 KiB")
    after = fault.check_storage(dev, {fault.sha(small1), fault.sha(small2)}, "grown")
    # The states may move on (the boot marks small_2 tried); slots, seqs and bytes may not.
    strip = lambda imgs: sorted((i["slot"], i["seq"], i["sha256"]) for i in imgs)
    check(strip(after) == strip(before), f"the same images in the same slots: {after}")
    check(dev.value() == 12 and fault.running(dev)[1] == fault.sha(small2),
          "the newest stored image (small_2) boots from the grown partition")
    check(not any("holds images of up to" in l for l in dev.errs),
          f"no partition warning once grown: {dev.errs}")
    upload(dev, "/upload-and-reload", big, 21, f"big_1 ({len(big)} bytes) after the growth")
    fault.check_storage(dev, {fault.sha(m) for m in (small1, small2, big)}, "big stored")
    check(dev.stop() == 0, "clean stop")


def console_upload(dev, body):
    """The serial console's answer to an upload command of `body` (no credential:
    a size refusal comes before it)."""
    mark = len(dev.lines)
    dev.proc.stdin.write(f"upload main {len(body)} {hashlib.sha256(body).hexdigest()}\n")
    dev.proc.stdin.flush()
    return dev.wait(r"^(error .*|ack .*)$", after=mark).group(1)


def module_limit(a):
    work = fault.workdir("size-limit")
    key, keyfile = fault.hrtest.raw_key(work, "key")
    small1, big = fault.module(a, "small_1"), fault.module(a, "big_1")
    limit = len(big) - 1
    dev = fault.start(a, work, key, keyfile, args=("--max-module-size", str(limit)))
    check(os.path.getsize(dev.partition()) == size_for(limit),
          f"a new partition is sized from max_module_size {limit}: {size_for(limit)} bytes")
    upload(dev, "/upload-and-reload", small1, 11, "small_1 under the limit")
    with open(dev.partition(), "rb") as f:
        stored = f.read()
    want = (f"module of {len(big)} bytes is over module 'main''s limit of {limit} bytes: raise "
            f"max_module_size in its hotreload_config_t (default HOTRELOAD_MAX_MODULE_SIZE)")
    code, _, doc = dev.request(dev.signed("/upload", big))
    check(code == 413 and doc.get("error") == want, f"HTTP: 413 '{want}': {code} {doc}")
    answer = console_upload(dev, big)
    check(answer == f"error too large: {want}", f"serial: 'error too large: {want}': {answer}")
    with open(dev.partition(), "rb") as f:
        check(f.read() == stored, "nothing erased or written by the refused uploads")
    check(dev.value() == 11, "small_1 still runs")
    check(dev.stop() == 0, "clean stop")

    dev = fault.start(a, work, key, keyfile, args=("--server-max", "4096"))
    code, _, doc = dev.request(dev.signed("/upload", small1))
    check(code == 413 and f"over the server's cap of 4096 bytes: raise max_module_size of "
          f"hotreload_server_config_t, or set it to 0" in doc.get("error", ""),
          f"a server cap is named as such: {code} {doc}")
    check(dev.stop() == 0, "clean stop")


def main():
    a = fault.args()
    grown(a)
    module_limit(a)
    return fault.hrtest.summary("fault_size")


if __name__ == "__main__":
    sys.exit(main())
