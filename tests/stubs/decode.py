"""Symbolic execution of one generated stub (RISC-V rv32/rv64, Xtensa, ARM Thumb-2,
ARMv6-M Thumb).

A value is (base, offset): base None is a plain number; otherwise base is
("load", address-value, size), a word read from memory the stub cannot know.
A correct stub ends in a jump whose target is
    load(load(&hotreload_table_NAME) + i * ptr)
having written only its scratch registers. Any instruction not decoded
here (a stack adjustment, a store, a call) is an error.
"""


def sext(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def add(a, b, mask):
    if a[0] is not None and b[0] is not None:
        return None
    base = a[0] if a[0] is not None else b[0]
    return (base, (a[1] + b[1]) & mask)


def load(addr, size):
    return (("load", addr, size), 0)


def run_stub(arch, code, pc, read, table, off, ptr, scratch):
    """None if the stub jumps to table[off / ptr] properly, else what is wrong."""
    if code is None:
        return "stub bytes not found"
    if arch == "armv6m":
        return run_thumb1(code, pc, read, load((load((None, table), ptr)[0], off), ptr))
    xlen = 64 if arch == "rv64" else 32
    mask = (1 << xlen) - 1
    want = load((load((None, table), ptr)[0], off), ptr)
    step = (riscv_step if arch.startswith("rv") else thumb_step if arch == "arm"
            else xtensa_step)
    regs = {}
    pos = 0
    while pos < len(code):
        res = step(code, pos, pc + pos, regs, read, xlen, mask)
        if isinstance(res, str):
            return "at +%d: %s" % (pos, res)
        size, wrote, target = res
        if wrote is not None:
            if wrote not in scratch:
                return "at +%d: writes register %d (scratch: %s)" % (pos, wrote, sorted(scratch))
        pos += size
        if target is not None:
            if pos != len(code):
                return "%d bytes after the jump inside the stub's size" % (len(code) - pos)
            if target != want:
                return "jumps to %r, want %r" % (target, want)
            return None
    return "no jump"


def get(regs, r):
    if r == 0:
        return (None, 0)
    if r not in regs:
        raise KeyError(r)
    return regs[r]


def riscv_step(code, pos, pc, regs, read, xlen, mask):
    """(size, register written or None, jump target or None), or an error."""
    h = int.from_bytes(code[pos:pos + 2], "little")
    try:
        if h & 3 == 3:
            w = int.from_bytes(code[pos:pos + 4], "little")
            op, rd, f3 = w & 0x7F, (w >> 7) & 31, (w >> 12) & 7
            rs1, rs2, f7 = (w >> 15) & 31, (w >> 20) & 31, w >> 25
            imm_i = sext(w >> 20, 12)
            if op == 0x17:
                val = (None, (pc + sext(w & 0xFFFFF000, 32)) & mask)
            elif op == 0x37:
                val = (None, sext(w & 0xFFFFF000, 32) & mask)
            elif op == 0x03 and f3 in (2, 3):
                val = load(add(get(regs, rs1), (None, imm_i & mask), mask), 4 if f3 == 2 else 8)
            elif op == 0x13 and f3 == 0:
                val = add(get(regs, rs1), (None, imm_i & mask), mask)
            elif op == 0x1B and f3 == 0 and xlen == 64:
                v = get(regs, rs1)
                if v[0] is not None:
                    return "addiw on a loaded value"
                val = (None, sext(v[1] + imm_i, 32) & mask)
            elif op == 0x33 and f3 == 0 and f7 == 0:
                val = add(get(regs, rs1), get(regs, rs2), mask)
            elif op == 0x67 and f3 == 0:
                if rd != 0:
                    return "jalr with a link register: a call, not a jump"
                return 4, None, add(get(regs, rs1), (None, imm_i & mask), mask)
            else:
                return "unexpected instruction %08x" % w
            if val is None:
                return "adds two loaded values"
            regs[rd] = val
            return 4, rd, None
        op, f3 = h & 3, h >> 13
        rd, rs2 = (h >> 7) & 31, (h >> 2) & 31
        imm6 = sext(((h >> 12) & 1) << 5 | (h >> 2) & 31, 6)
        if op == 2 and f3 == 4:
            bit12 = (h >> 12) & 1
            if bit12 == 0 and rs2 == 0 and rd != 0:  # c.jr
                return 2, None, get(regs, rd)
            if bit12 == 0 and rs2 != 0:  # c.mv
                val = get(regs, rs2)
            elif bit12 == 1 and rs2 != 0:  # c.add
                val = add(get(regs, rd), get(regs, rs2), mask)
            else:
                return "c.jalr/c.ebreak %04x" % h
        elif op == 1 and f3 == 0:  # c.addi
            val = add(get(regs, rd), (None, imm6 & mask), mask)
        elif op == 1 and f3 == 2:  # c.li
            val = (None, imm6 & mask)
        elif op == 1 and f3 == 3 and rd != 2:  # c.lui (rd 2 is c.addi16sp)
            val = (None, (imm6 << 12) & mask)
        else:
            return "unexpected compressed instruction %04x" % h
        if val is None:
            return "adds two loaded values"
        regs[rd] = val
        return 2, rd, None
    except KeyError as e:
        return "reads register x%d before writing it" % e.args[0]


def xtensa_step(code, pos, pc, regs, read, xlen, mask):
    op0 = code[pos] & 15
    try:
        if op0 >= 8:  # narrow (density) instructions
            h = int.from_bytes(code[pos:pos + 2], "little")
            r, s, t = (h >> 12) & 15, (h >> 8) & 15, (h >> 4) & 15
            if op0 == 8:  # l32i.n
                regs[t] = load(add(get(regs, s), (None, r * 4), mask), 4)
                return 2, t, None
            return "unexpected narrow instruction %04x" % h
        w = int.from_bytes(code[pos:pos + 3], "little")
        r, s, t, imm8 = (w >> 12) & 15, (w >> 8) & 15, (w >> 4) & 15, w >> 16
        if op0 == 1:  # l32r: a literal, before the instruction
            addr = (((pc + 3) & ~3) + ((w >> 8 | ~0xFFFF) << 2)) & mask
            lit = read(addr, 4)
            if lit is None:
                return "l32r literal at %#x is not in the image" % addr
            regs[t] = (None, int.from_bytes(lit, "little"))
            return 3, t, None
        if op0 == 2 and r == 2:  # l32i
            regs[t] = load(add(get(regs, s), (None, imm8 * 4), mask), 4)
            return 3, t, None
        if op0 == 2 and r in (12, 13):  # addi, addmi
            k = sext(imm8, 8) << (8 if r == 13 else 0)
            val = add(get(regs, s), (None, k & mask), mask)
            if val is None:
                return "adds two loaded values"
            regs[t] = val
            return 3, t, None
        if op0 == 0 and (w & 0xFFF0FF) == 0x0000A0:  # jx
            return 3, None, get(regs, s)
        return "unexpected instruction %06x" % w
    except KeyError as e:
        return "reads register a%d before writing it" % e.args[0]


def thumb_expand_imm(imm12):
    """Thumb-2's modified immediate (ThumbExpandImm)."""
    if imm12 >> 10 == 0:
        b, kind = imm12 & 0xFF, (imm12 >> 8) & 3
        return [b, b << 16 | b, b << 24 | b << 8, b * 0x01010101][kind]
    v, rot = 0x80 | (imm12 & 0x7F), imm12 >> 7
    return ((v >> rot) | (v << (32 - rot))) & 0xFFFFFFFF


def thumb_step(code, pos, pc, regs, read, xlen, mask):
    """The few 32-bit Thumb-2 forms a stub may use: MOVW, MOVT, ADD.W (immediate),
    LDR.W (immediate, to a register or to pc: the jump)."""
    hi = int.from_bytes(code[pos:pos + 2], "little")
    if hi >> 11 not in (0x1D, 0x1E, 0x1F):
        return "unexpected 16-bit instruction %04x" % hi
    lo = int.from_bytes(code[pos + 2:pos + 4], "little")
    rn, rd = hi & 15, (lo >> 8) & 15
    imm16 = (hi & 15) << 12 | ((hi >> 10) & 1) << 11 | ((lo >> 12) & 7) << 8 | (lo & 0xFF)
    try:
        if hi & 0xFBF0 == 0xF240:  # movw
            val = (None, imm16)
        elif hi & 0xFBF0 == 0xF2C0:  # movt
            old = get(regs, rd)
            if old[0] is not None:
                return "movt over a loaded value"
            val = (None, (old[1] & 0xFFFF) | imm16 << 16)
        elif hi & 0xFBE0 == 0xF100 and rd != 15:  # add.w rd, rn, #imm
            imm = thumb_expand_imm(((hi >> 10) & 1) << 11 | ((lo >> 12) & 7) << 8 | (lo & 0xFF))
            val = add(get(regs, rn), (None, imm), mask)
        elif hi & 0xFFF0 == 0xF8D0:  # ldr.w rt, [rn, #imm12]
            rt = (lo >> 12) & 15
            target = load(add(get(regs, rn), (None, lo & 0xFFF), mask), 4)
            if rt == 15:
                return 4, None, target
            regs[rt] = target
            return 4, rt, None
        else:
            return "unexpected instruction %04x %04x" % (hi, lo)
    except KeyError as e:
        return "reads register r%d before writing it" % e.args[0]
    if val is None:
        return "adds two loaded values"
    regs[rd] = val
    return 4, rd, None


def run_thumb1(code, pc, read, want):
    """ARMv6-M: the stub may borrow registers on the stack, so it is run
    with a symbolic sp and stack, and judged at its jump: pc = want, sp and
    every register r0-r12 and lr as they were (nothing else is allowed)."""
    regs = {r: (("init", r), 0) for r in range(16)}
    stack = {}
    sp0 = regs[13]
    pos = 0
    while pos + 2 <= len(code):
        op = int.from_bytes(code[pos:pos + 2], "little")
        res = thumb1_step(op, pc + pos, regs, stack, read)
        if isinstance(res, str):
            return "at +%d: %s" % (pos, res)
        pos += 2
        if res is not None:  # the jump
            if res != want:
                return "jumps to %r, want %r" % (res, want)
            if regs[13] != sp0:
                return "sp not restored: %r" % (regs[13],)
            changed = [r for r in list(range(13)) + [14] if regs[r] != (("init", r), 0)]
            return "registers not restored: %s" % changed if changed else None
    return "no jump"


def thumb1_step(op, pc, regs, stack, read):
    """One 16-bit instruction of the v6-M stub form; None, the jump target,
    or what is wrong."""
    def sp_off(v):
        base, off = regs[13]
        return (base, (off + v) & 0xFFFFFFFF)

    if op & 0xFE00 == 0xB400:  # push {rlist}
        rl = [r for r in range(8) if op >> r & 1] + ([14] if op & 0x100 else [])
        regs[13] = sp_off(-4 * len(rl))
        for i, r in enumerate(rl):
            stack[sp_off(4 * i)] = regs[r]
        return None
    if op & 0xFE00 == 0xBC00:  # pop {rlist[, pc]}
        rl = [r for r in range(8) if op >> r & 1] + ([15] if op & 0x100 else [])
        vals = []
        for i, r in enumerate(rl):
            if sp_off(4 * i) not in stack:
                return "pops a word it did not push"
            vals.append((r, stack[sp_off(4 * i)]))
        regs[13] = sp_off(4 * len(rl))
        target = None
        for r, v in vals:
            if r == 15:
                target = v
            else:
                regs[r] = v
        return target
    if op & 0xF800 == 0x4800:  # ldr rt, [pc, #imm8*4]: a literal beside the stub
        addr = ((pc + 4) & ~3) + (op & 0xFF) * 4
        word = read(addr, 4)
        if word is None:
            return "literal at %#x not in the image" % addr
        regs[op >> 8 & 7] = (None, int.from_bytes(word, "little"))
        return None
    if op & 0xF800 == 0x6800:  # ldr rt, [rn, #imm5*4]
        rn, rt = op >> 3 & 7, op & 7
        b = regs[rn]
        regs[rt] = load((b[0], (b[1] + (op >> 6 & 31) * 4) & 0xFFFFFFFF), 4)
        return None
    if op & 0xFE00 == 0x5800:  # ldr rt, [rn, rm]
        rm, rn, rt = op >> 6 & 7, op >> 3 & 7, op & 7
        s = add(regs[rn], regs[rm], 0xFFFFFFFF)
        if s is None:
            return "adds two loaded values"
        regs[rt] = load(s, 4)
        return None
    if op & 0xF800 == 0x9000:  # str rt, [sp, #imm8*4]
        addr = sp_off((op & 0xFF) * 4)
        if addr not in stack:
            return "stores where it pushed nothing"
        stack[addr] = regs[op >> 8 & 7]
        return None
    return "unexpected instruction %04x" % op
