#!/usr/bin/python3
"""Sequences of uploads, reloads, confirmations, restarts and SIGKILLs
against the confirmed image (issue 13: two uploads after a confirmed one
left two never-tried images and erased the confirmed one).
1. The data-loss sequence, deterministic, once with a clean stop and once
   with SIGKILL: small_1 uploaded-and-reloaded and confirmed; small_2 and
   big_1 uploaded (no reload); restart. A module loads, small_1 or a newer
   upload, and small_1's image is still in the partition, confirmed. Then the
   new modules never prove good (--confirm-ms 0, killed after each boot):
   every boot still loads a module, and the device ends up on small_1.
2. Random sequences of upload, upload-and-reload, reload, wait-confirm,
   kill and restart. The test keeps a model: every upload (seq -> SHA-256)
   and the newest image seen confirmed in storage (from /status, and from
   the partition once the device is down). After every restart a module
   loads and it is the newest confirmed image or one uploaded after it.
   Every image in the partition is intact after every step.

Replay a failure with --seed N (printed first)."""
import random
import signal
import sys
import time

import fault
from fault import check

VALUES = {"small_1": 11, "small_2": 12, "big_1": 21, "big_2": 22, "big_3": 23}
STEPS = 200
CONFIRM_MS = 150  # the random part's confirm delay: short, so waiting for it is cheap
NEVER = ("--confirm-ms", "0")  # a module that never proves good: never confirmed
WEIGHTS = {"upload": 4, "upload-and-reload": 3, "reload": 1, "wait-confirm": 3,
           "kill": 2, "restart": 1}


class Modules:
    """The test modules: bytes, SHA-256 and the value the firmware prints."""

    def __init__(self, a):
        self.body = {n: fault.module(a, n) for n in VALUES}
        self.sha = {n: fault.sha(b) for n, b in self.body.items()}
        self.name = {s: n for n, s in self.sha.items()}
        self.value = {self.sha[n]: v for n, v in VALUES.items()}

    def label(self, seq, sha):
        return f"image {seq} ({self.name.get(sha, sha and sha[:12])})"


def upload(dev, mods, target, name, what):
    """A signed upload of module `name`: the seq it was stored as (None on failure)."""
    code, _, doc = dev.request(dev.signed(target, mods.body[name]))
    stored = dev.main().get("stored") or {}
    ok = check(code == 200 and doc.get("sha256") == mods.sha[name],
               f"{what}: {target} of {name} answers 200 with its SHA-256: {code} {doc}")
    return stored.get("seq") if ok else None


def confirmed_slots(dev):
    """{seq: sha256} of the images the partition holds CONFIRMED."""
    return {i["seq"]: i["sha256"] for i in fault.slots(dev.partition())
            if i["state"] == "confirmed" and i["intact"]}


def boots_a_module(dev, mods, what):
    """A module loads at start and the firmware prints its value: its (seq, sha)."""
    line = fault.boot_line(dev)
    check(line == "module loaded", f"{what}: a module loads at boot: {line!r}")
    seq, sha = fault.running(dev)
    if line == "module loaded":
        check(dev.value() == mods.value.get(sha), f"{what}: the firmware prints the value of "
              f"{mods.label(seq, sha)}: {mods.value.get(sha)}")
    return seq, sha


# -- 1. the data-loss sequence ---------------------------------------------

def two_uploads_after_confirmed(a, mods, sig):
    """small_1 confirmed, small_2 and big_1 uploaded, restart by `sig`, then
    restarts where the new modules never get confirmed."""
    how = "clean stop" if sig == signal.SIGTERM else "SIGKILL"
    work = fault.workdir("seq")
    key, keyfile = fault.hrtest.raw_key(work, "key")
    dev = fault.start(a, work, key, keyfile)
    upload(dev, mods, "/upload-and-reload", "small_1", how)
    check(fault.wait_confirmed(dev) is not None, f"{how}: small_1 runs, confirmed")
    for name in ("small_2", "big_1"):
        upload(dev, mods, "/upload", name, f"{how}: after small_1")
    check(dev.value() == 11, f"{how}: small_1 (value 11) still runs after the uploads")
    kept(dev, mods, f"{how}: after the two uploads")
    code = dev.stop(sig)
    check(sig == signal.SIGKILL or code == 0, f"{how}: the device stops: {code}")

    newer = {mods.sha[n] for n in ("small_1", "small_2", "big_1")}
    dev = fault.start(a, work, key, keyfile, args=NEVER)
    for boot in range(1, 4):
        what = f"{how}, boot {boot} (new modules never confirmed)"
        seq, sha = boots_a_module(dev, mods, what)
        check(sha in newer, f"{what}: it runs small_1 or a newer upload: {mods.label(seq, sha)}")
        kept(dev, mods, what)
        if sha == mods.sha["small_1"] or sha is None:
            break
        dev.stop(signal.SIGKILL)
        dev = fault.start(a, work, key, keyfile, args=NEVER)
    check(sha == mods.sha["small_1"], f"{how}: the device falls back to the confirmed small_1 "
          f"once the new modules fail: {mods.label(seq, sha)}")
    check(dev.err.saw(r"module 'main': image \d+ was never confirmed .*going back"),
          f"{how}: the fallback is not said in the log: {dev.errs[-5:]}")
    check(dev.stop() == 0, f"{how}: the device stops cleanly at the end")


def kept(dev, mods, what):
    """The partition's images are intact, and small_1's is one of them, confirmed."""
    images = fault.check_storage(dev, set(mods.name), what)
    states = [(i["seq"], mods.name.get(i["sha256"]), i["state"]) for i in images]
    check(mods.sha["small_1"] in confirmed_slots(dev).values(),
          f"{what}: the partition still holds small_1's image, confirmed: {states}")


# -- 2. random sequences ---------------------------------------------------

class Model:
    """What the device should hold, by image seq: every upload and the
    newest image seen confirmed in storage."""

    def __init__(self):
        self.uploads = {}  # seq -> sha256
        self.confirmed = (0, None)  # (seq, sha256)

    def saw_confirmed(self, seq, sha):
        if seq is not None and seq > self.confirmed[0]:
            self.confirmed = (seq, sha)

    def observe(self, dev):
        """From /status: the running image counts as confirmed once storage
        says so too (the newest stored image is it, state confirmed). A
        confirmed flag alone is not enough: a module confirmed after a newer
        upload is confirmed in RAM only, and a restart need not keep it."""
        st = dev.main()
        img, stored = st.get("image") or {}, st.get("stored") or {}
        if img.get("confirmed") and stored.get("seq") == img.get("seq") \
                and stored.get("state") == "confirmed":
            self.saw_confirmed(img["seq"], img["sha256"])

    def allowed(self, seq, sha):
        """The newest confirmed image, or an image uploaded after it."""
        cseq, csha = self.confirmed
        return seq is not None and ((seq, sha) == (cseq, csha)
                                    or (seq > cseq and self.uploads.get(seq) == sha))


class Run:
    """One random sequence on one storage folder."""

    def __init__(self, a, mods, rng):
        self.a, self.mods, self.rng, self.model = a, mods, rng, Model()
        # How the restarts ended, to see that the sequences reach each case.
        self.booted = {"a newer upload": 0, "the newest confirmed image": 0,
                       "the newest confirmed image past a newer upload": 0}
        self.work = fault.workdir("seq-random")
        self.key, self.keyfile = fault.hrtest.raw_key(self.work, "key")
        self.dev = self.start()

    def start(self):
        return fault.start(self.a, self.work, self.key, self.keyfile,
                           args=("--confirm-ms", str(CONFIRM_MS)))

    def pick(self):
        # Small modules mostly: a 64 KiB one costs more to send and to hash.
        return self.rng.choice(["small_1", "small_2"] if self.rng.random() < 0.8
                               else ["big_1", "big_2", "big_3"])

    def upload(self, target, what):
        name = self.pick()
        seq = upload(self.dev, self.mods, target, name, what)
        # Images are told apart by seq (a module may be uploaded again), so
        # each upload must be numbered above every earlier one.
        last = max(self.model.uploads, default=0)
        if check(seq is not None and seq > last, f"{what}: {name} is stored as image {seq}, "
                 f"above the last upload {last}"):
            self.model.uploads[seq] = self.mods.sha[name]

    def step(self, kind, what):
        if kind in ("upload", "upload-and-reload"):
            self.upload("/" + kind, what)
        elif kind == "reload":
            code, _, doc = self.dev.request(self.dev.signed("/reload"))
            check(code == 200, f"{what}: /reload answers 200: {code} {doc}")
        elif kind == "wait-confirm":
            check(wait_running_confirmed(self.dev), f"{what}: the running module is confirmed")
        else:
            return self.restart(signal.SIGKILL if kind == "kill" else signal.SIGTERM, what)
        self.model.observe(self.dev)
        return True

    def restart(self, sig, what):
        """Stop (or kill), learn what storage confirmed until then, start, check."""
        code = self.dev.stop(sig)
        check(sig == signal.SIGKILL or code == 0, f"{what}: the device stops: {code}")
        for seq, sha in confirmed_slots(self.dev).items():
            self.model.saw_confirmed(seq, sha)
        self.dev = self.start()
        before = fault.hrtest.failed
        seq, sha = boots_a_module(self.dev, self.mods, what)
        cseq, csha = self.model.confirmed
        check(self.model.allowed(seq, sha), f"{what}: it runs {self.mods.label(seq, sha)}: the "
              f"newest confirmed {self.mods.label(cseq, csha)} or an image uploaded after it")
        if seq is not None and seq != cseq:
            self.booted["a newer upload"] += 1
        elif seq is not None:
            past = " past a newer upload" if max(self.model.uploads) > cseq else ""
            self.booted["the newest confirmed image" + past] += 1
        self.model.observe(self.dev)
        return fault.hrtest.failed == before


def wait_running_confirmed(dev):
    """Until /status says the running module is confirmed (the firmware's
    confirm delay, CONFIRM_MS, after it was loaded)."""
    end = time.time() + CONFIRM_MS / 1000 + 5
    while time.time() < end:
        if (dev.main().get("image") or {}).get("confirmed"):
            return True
        time.sleep(0.02)
    return False


def random_sequence(a, mods, rng):
    """STEPS random steps from a first module confirmed. Stops at the first
    restart that breaks the model: what follows would only repeat it. The
    seed replays the steps; when a module gets confirmed depends on timing."""
    run = Run(a, mods, rng)
    run.upload("/upload-and-reload", "start")
    check(wait_running_confirmed(run.dev), "start: the first module is confirmed")
    run.model.observe(run.dev)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    for i in range(1, STEPS + 1):
        kind = rng.choices(kinds, weights)[0]
        what = f"step {i}/{STEPS} {kind}"
        print(f"{what} (newest confirmed: {mods.label(*run.model.confirmed)})", flush=True)
        ok = run.step(kind, what)
        fault.check_storage(run.dev, set(mods.name), what)
        if not ok:
            print(f"random sequence: stopped at step {i} (replay: --seed {a.seed})", flush=True)
            break
    print("random sequence: the restarts booted " +
          ", ".join(f"{k} {n} times" for k, n in run.booted.items()), flush=True)
    check(run.dev.stop() == 0, "random sequence: the device stops cleanly at the end")


def main():
    a = fault.args()
    print(f"sequence_test: seed {a.seed} (replay: --seed {a.seed})", flush=True)
    mods = Modules(a)
    started = time.time()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        two_uploads_after_confirmed(a, mods, sig)
    print(f"sequence_test: data-loss sequences took {time.time() - started:.1f} s", flush=True)
    random_sequence(a, mods, random.Random(a.seed))
    print(f"sequence_test: {time.time() - started:.1f} s in all", flush=True)
    return fault.hrtest.summary("fault_sequence")


if __name__ == "__main__":
    sys.exit(main())
