"""QEMU runs of the bare-metal boards' firmware for the tests in this folder.

A Board says how one board runs in QEMU (RV32: rv32-virt on qemu-system-riscv32's
virt machine; ARM: mps2-an385 on qemu-system-arm), as scripts/qemu-rv32 and
scripts/qemu-cortex-m run it. Qemu starts a firmware on a board: the UART on a
TCP socket (hotd connects there) with everything the firmware writes also
logged to a file, which a thread reads into self.out (an hrtest.Lines), so the
test sees the device's output while hotd holds the socket. Board.new_storage()
makes the file that keeps the stored modules across runs.
"""
import os
import socket
import subprocess
import threading
import time

import hrtest

class Board:
    """How a board runs in QEMU, and what the tests expect of it."""
    name = qemu = hello = ""
    code = (0, 0)             # where module code runs: [low, high)
    bad_ctor = ""             # how the guard names bad_ctor.c's fault
    crash = overflow = ""     # how the port reports fw_torture's unguarded crashes
    no_random = ""            # what the port says when run without its random source
    module_cflags = []        # what hotreload_add_module adds for the arch
    icount_shift = "0"        # -icount shift=N under which hr_board_icount() is exact

    def machine(self, work):
        """The machine's options; `work` holds any file a run needs."""
        raise NotImplementedError

    def storage(self, path):
        """The options that give the board `path` as its module storage."""
        raise NotImplementedError

    def new_storage(self, path):
        raise NotImplementedError

    def random(self, work):
        """The options that give the port its random source."""
        raise NotImplementedError

    def net(self, port):
        """Ethernet on user networking, the device's port 8080 forwarded."""
        raise NotImplementedError


def v1_line(board):
    """The example firmware's line while the board's example module runs."""
    return rf"^{board.hello} \| 6 \(op\) 7 = 13 \| count (\d+)$"


class Rv32(Board):
    name, qemu = "rv32-virt", "qemu-system-riscv32"
    hello = "Hello from the rv32 module"
    code = (0x40000000, 0x80000000)  # the instruction-bus alias of the heap pool
    bad_ctor = r"illegal instruction at pc 0x4[0-9a-f]{7}"
    crash = (r"fatal trap in supervisor mode: store page fault at pc 0x8[0-9a-f]{7} "
             r"\(mcause 15, mtval 0x0\)")
    overflow = r"fatal trap .*store page fault .*: stack overflow"
    no_random = (r"^rv32-virt: no random source: no virtio-rng device "
                 r"\(QEMU: -device virtio-rng-device\)$")
    module_cflags = ["-mno-relax"]
    # lui t0, 0x80000; jr t0: QEMU starts at the flash's first word when given
    # one; this jumps to the firmware QEMU loaded into RAM.
    BOOT_JUMP = bytes.fromhex("b7020080" "67800200")

    def machine(self, work):
        return ["-M", "virt", "-cpu", "rv32,a=off,f=off,d=off", "-m", "64M", "-bios", "none",
                # virtio devices with virtio 1.x registers, the only ones the port drives
                "-global", "virtio-mmio.force-legacy=false"]

    def storage(self, path):
        return ["-drive", f"if=pflash,unit=0,format=raw,file={path}"]

    def new_storage(self, path):
        """A fresh 32 MiB flash file: the boot jump, the rest never written."""
        with open(path, "wb") as f:
            f.write(self.BOOT_JUMP)
            f.truncate(32 << 20)

    def random(self, work):
        return ["-device", "virtio-rng-device"]

    def net(self, port):
        return ["-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:8080",
                "-device", "virtio-net-device,netdev=net0"]


class Arm(Board):
    name, qemu = "mps2-an385", "qemu-system-arm"
    hello = "Hello from the Cortex-M module"
    code = (0x20000000, 0x20400000)  # the heap pool in SSRAM2/3
    bad_ctor = r"UsageFault: undefined instruction at pc 0x20[0-9a-f]{6}"
    crash = (r"mps2-an385: fatal BusFault: precise data bus error at pc 0x[0-9a-f]+ "
             r"\(CFSR 0x8200, .*fault address 0x90000000\)")
    overflow = r"mps2-an385: fatal MemManage fault: .*: stack overflow"
    no_random = (r"^mps2-an385: no random source: no seed at \.entropy: start QEMU with "
                 r"-device loader,file=SEED,addr=0x203fffc0 ")
    module_cflags = ["-fno-unwind-tables", "-fno-asynchronous-unwind-tables"]
    icount_shift = "6"
    SEED_AT = 0x203fffc0  # the port's .entropy (agent/port/mps2-an385/link.ld)

    def machine(self, work):
        # semihosting: the firmware's exit status ends the run
        return ["-M", "mps2-an385", "-semihosting-config", "enable=on,target=native"]

    def storage(self, path):
        return ["-machine", "memory-backend=psram", "-object",
                f"memory-backend-file,id=psram,size=16M,mem-path={path},share=on"]

    def new_storage(self, path):
        """A fresh 16 MiB PSRAM file."""
        with open(path, "wb") as f:
            f.truncate(16 << 20)

    def random(self, work):
        seed = os.path.join(work, "seed.bin")
        with open(seed, "wb") as f:
            f.write(os.urandom(64))
        return ["-device", f"loader,file={seed},addr={self.SEED_AT:#x}"]

    def net(self, port):
        return ["-nic", f"user,hostfwd=tcp:127.0.0.1:{port}-:8080"]


RV32, ARM = Rv32(), Arm()
BOARDS = {b.name: b for b in (RV32, ARM)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Qemu:
    """The firmware `fw` in QEMU on `board`: UART on self.spec
    (tcp:127.0.0.1:PORT), logged to `log`; gdb stub on self.gdb_port when
    gdb=True; with net=True Ethernet on QEMU user networking, the device's port
    8080 forwarded from 127.0.0.1:self.http_port; with rng=False no random
    source (the port then accepts nothing signed)."""

    def __init__(self, qemu, fw, log, flash=None, gdb=False, extra=(), net=False, rng=True,
                 board=RV32):
        self.log = log
        open(log, "wb").close()
        for _ in range(5):  # a port taken between free_port() and QEMU: another one
            self.port = free_port()
            self.gdb_port = free_port() if gdb else None
            self.http_port = free_port() if net else None
            work = os.path.dirname(os.path.abspath(log))
            cmd = [qemu, *board.machine(work), "-display", "none", "-monitor", "none",
                   "-kernel", fw,
                   "-chardev", f"socket,id=uart,host=127.0.0.1,port={self.port},server=on,"
                               f"wait=off,nodelay=on,logfile={log}",
                   "-serial", "chardev:uart", *extra]
            if flash:
                cmd += board.storage(flash)
            if gdb:
                cmd += ["-gdb", f"tcp:127.0.0.1:{self.gdb_port}"]
            if net:
                cmd += board.net(self.http_port)
            if rng:
                cmd += board.random(work)
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.started = time.time()
            if self._listening():
                break
            self.proc.wait()
        else:
            raise RuntimeError(f"QEMU did not start: {self.proc.stdout.read().decode()}")
        self.spec = f"tcp:127.0.0.1:{self.port}"
        self.out = hrtest.Lines(alive=lambda: self.proc.poll() is None)
        self.lines = self.out.lines
        threading.Thread(target=self._tail, daemon=True).start()

    def _listening(self):
        end = time.time() + 20
        while time.time() < end and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def _tail(self):
        with open(self.log, "rb") as f:
            part = b""
            while True:
                data = f.readline()
                if not data:
                    if self.proc.poll() is not None:
                        return
                    time.sleep(0.02)
                    continue
                part += data
                if part.endswith(b"\n"):
                    self.out.add([part.decode(errors="replace").rstrip("\r\n")])
                    part = b""

    def wait(self, regex, timeout=20, after=0):
        """The match of the first line from `after` on matching regex."""
        return self.out.expect(regex, timeout, after, tail=8)[1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
