/* NAME_stubs.S, what `hotd stubs` and `hotd link` write for the firmware:
 * one frameless stub per module function, in each architecture's form
 * (stubs.c says what a stub must keep; the forms say how each does). */
#include <stdbool.h>
#include <stdio.h>

#include "stubs.h"

static void x86_64_stub(FILE *f, const char *table, size_t i)
{
    /* r11: scratch in the SysV ABI, never an argument (PLT stubs use it too).
     * The table pointer is read PC-relative: fine in PIE and non-PIE. */
    fprintf(f, "\tmovq\t%s(%%rip), %%r11\n", table);
    fprintf(f, "\tjmpq\t*%zu(%%r11)\n", 8 * i);
}

static void riscv_stub(FILE *f, const char *table, size_t i, int ptr)
{
    const char *ld = ptr == 8 ? "ld" : "lw";
    size_t off = i * (size_t)ptr;
    fprintf(f, "1:\tauipc\tt1, %%pcrel_hi(%s)\n", table);
    fprintf(f, "\t%s\tt1, %%pcrel_lo(1b)(t1)\n", ld);
    if (off <= 2047) {
        fprintf(f, "\t%s\tt1, %zu(t1)\n", ld, off);
    } else {
        /* Past a 12-bit offset the index needs a second temporary: t2, which
         * no argument uses either (the psABI's PLT header clobbers it too). */
        long hi = (long)((off + 0x800) >> 12), lo = (long)off - (hi << 12);
        fprintf(f, "\tlui\tt2, %ld\n\tadd\tt1, t1, t2\n\t%s\tt1, %ld(t1)\n", hi, ld, lo);
    }
    fprintf(f, "\tjr\tt1\n");
}

static void xtensa_stub(FILE *f, const char *reg, size_t i)
{
    size_t off = 4 * i;
    fprintf(f, "\tl32r\t%s, .Lhr_table\n", reg);
    fprintf(f, "\tl32i\t%s, %s, 0\n", reg, reg);
    /* l32i reaches 1020 bytes; addmi adds a multiple of 256 up to 32512. */
    while (off > 1020) {
        size_t step = off & ~(size_t)0xff;
        if (step > 32512)
            step = 32512;
        fprintf(f, "\taddmi\t%s, %s, %zu\n", reg, reg, step);
        off -= step;
    }
    fprintf(f, "\tl32i\t%s, %s, %zu\n", reg, reg, off);
    fprintf(f, "\tjx\t%s\n", reg);
}

static void arm_stub(FILE *f, const char *table, size_t i)
{
    size_t off = 4 * i;
    fprintf(f, "\tmovw\tip, #:lower16:%s\n\tmovt\tip, #:upper16:%s\n", table, table);
    fprintf(f, "\tldr\tip, [ip]\n");
    /* ldr.w reaches 4095 bytes; the rest first (a contiguous run of bits:
     * always one Thumb-2 modified immediate). */
    if (off > 4095) {
        fprintf(f, "\tadd\tip, ip, #%zu\n", off & ~(size_t)0xfff);
        off &= 0xfff;
    }
    fprintf(f, "\tldr\tpc, [ip, #%zu]\n", off);
}

/* ARMv6-M (Cortex-M0/M0+/M1) has no MOVW/MOVT, no LDR to ip and no
 * register+offset form past r7: r0-r2 are borrowed and given back. The
 * target goes where r2 was pushed, and POP loads it into pc (Thumb state:
 * bit 0 of the entry) while r0 and r1 come back; r2 was never touched. */
static void arm_v6m_stub(FILE *f, const char *table, size_t i)
{
    fprintf(f, "\tpush\t{r0, r1, r2}\n\tldr\tr0, 1f\n\tldr\tr0, [r0]\n"
               "\tldr\tr1, 2f\n\tldr\tr0, [r0, r1]\n\tstr\tr0, [sp, #8]\n"
               "\tpop\t{r0, r1, pc}\n\t.p2align 2\n1:\t.4byte\t%s\n2:\t.4byte\t%zu\n",
            table, 4 * i);
}

static const char *const v6m_note =
    " * ARMv6-M (this module's build attributes: Cortex-M0/M0+/M1): no MOVW,\n"
    " * MOVT or LDR into ip, so a stub borrows r0-r2 on the stack, loads the\n"
    " * table through a literal beside it, writes the entry over r2's slot and\n"
    " * pops r0, r1 and pc: every register and sp as the caller left them.\n";

static const char *const arch_notes[] = {
    [X86_64] = " * x86-64: r11 is the scratch register (SysV ABI: not an argument, not\n"
               " * preserved), so every argument register, %al of a varargs call, the\n"
               " * stack arguments and the return address stay as the caller left them.\n",
    [RV32] = " * RISC-V: t1 is a temporary that carries no argument (t2 too, used only\n"
             " * past slot 511). Relaxation is off inside the stubs: each keeps its\n"
             " * auipc/load pair, a fixed layout the tests and the debugger can check.\n",
    [RV64] = " * RISC-V: t1 is a temporary that carries no argument (t2 too, used only\n"
             " * past slot 255). Relaxation is off inside the stubs: each keeps its\n"
             " * auipc/load pair, a fixed layout the tests and the debugger can check.\n",
    [XTENSA] = " * Xtensa call0 ABI: a8 is a caller-saved temporary that carries no\n"
               " * argument (a2..a7). The table's address is a literal placed before the\n"
               " * code, with or without -mtext-section-literals.\n",
    [XTENSA_WIN] =
        " * Xtensa windowed ABI (ESP32/S3): a stub runs before the target's ENTRY,\n"
        " * in the caller's register window. GCC calls with CALL8 only, so the\n"
        " * return address is in the caller's a8 and the arguments in a10..a15;\n"
        " * a9 becomes the callee's stack pointer, written by ENTRY from a1, so\n"
        " * its value at the call is dead: the stub uses a9. Not valid for CALL4\n"
        " * (a9 would be an argument) or CALL12 (a9 would be live in the caller).\n",
    [ARM] = " * ARM Thumb-2 (Cortex-M3 and later): ip (r12) is the register the AAPCS\n"
            " * gives veneers; r0-r3, the stack arguments and lr stay as the caller left\n"
            " * them. The table's address is built with movw/movt (no literal pool:\n"
            " * fine with -mpure-code); loading the entry into pc branches to it in\n"
            " * Thumb state (bit 0 of a function's address).\n",
};

void stubs_gen_asm(FILE *f, enum arch arch, const char *arch_name, const char *name,
                   const struct modsyms *m)
{
    char table[256];
    snprintf(table, sizeof table, "hotreload_table_%s", name);
    bool v6m = arch == ARM && (m->arm_cpu_arch == 11 || m->arm_cpu_arch == 12);
    fprintf(f, "/* Generated by `hotd stubs` for %s: do not edit.\n *\n"
               " * One frameless stub per function of module '%s': stub i loads the\n"
               " * table pointer %s and jumps to entry i, %s.\n",
            arch_name, name, table,
            v6m ? "with every\n * register and the stack as the caller left them"
                : "without\n * touching the stack or any register but a scratch one");
    fprintf(f, " *\n%s */\n\n", v6m ? v6m_note : arch_notes[arch]);
    /* ARM's assembler reads '@' as a comment: section and symbol types take '%'. */
    const char *at = arch == ARM ? "%" : "@";
    if (arch == ARM)
        fprintf(f, "\t.syntax unified\n\t.thumb\n");
    fprintf(f, "\t.section .text.hotreload_stubs,\"ax\",%sprogbits\n", at);
    fprintf(f, ".Lhr_stubs_start:\n");
    if (m->nexports && (arch == RV32 || arch == RV64))
        fprintf(f, "\t.option push\n\t.option norelax\n");
    if (m->nexports && (arch == XTENSA || arch == XTENSA_WIN))
        /* One literal for all stubs, ahead of them: L32R only reaches back. */
        fprintf(f, "\t.literal_position\n\t.literal .Lhr_table, %s\n", table);
    for (size_t i = 0; i < m->nexports; i++) {
        const char *fn = m->exports[i];
        fprintf(f, "\n\t.globl\t%s\n\t.type\t%s, %sfunction\n", fn, fn, at);
        fprintf(f, arch == X86_64 ? "\t.p2align 4\n" : arch <= RV64 || arch == ARM
                                                         ? "\t.p2align 2\n" : "\t.align\t4\n");
        if (arch == ARM)
            fprintf(f, "\t.thumb_func\n");
        fprintf(f, "%s:\t/* slot %zu */\n", fn, i);
        if (arch == X86_64)
            x86_64_stub(f, table, i);
        else if (arch == RV32 || arch == RV64)
            riscv_stub(f, table, i, arch == RV64 ? 8 : 4);
        else if (arch == ARM && v6m)
            arm_v6m_stub(f, table, i);
        else if (arch == ARM)
            arm_stub(f, table, i);
        else
            xtensa_stub(f, arch == XTENSA ? "a8" : "a9", i);
        fprintf(f, "\t.size\t%s, .-%s\n", fn, fn);
    }
    if (m->nexports && (arch == RV32 || arch == RV64))
        fprintf(f, "\t.option pop\n");
    /* Where the stubs are, for the gdb helper: a stub carries the name of the
     * module function it reaches, and a breakpoint on that name must stop in
     * the module, not once more in the stub. Data, not a code label, so that
     * no extra name shows up in backtraces. Form 1 holds offsets from each
     * field, final at link time (no dynamic relocation in a PIE firmware,
     * readable from the ELF before it runs); Xtensa's assembler has no such
     * difference across sections, so form 2 holds the (32-bit) addresses. */
    bool pcrel = arch != XTENSA && arch != XTENSA_WIN;
    fprintf(f, "\n.Lhr_stubs_end:\n\t.section .rodata.hotreload_stubs,\"a\"\n"
               "\t.globl\thotreload_stubs_%s\n\t.type\thotreload_stubs_%s, %sobject\n"
               "\t.p2align 2\nhotreload_stubs_%s:\n\t.4byte\t%d\n"
               "\t.4byte\t.Lhr_stubs_start%s\n\t.4byte\t.Lhr_stubs_end%s\n"
               "\t.size\thotreload_stubs_%s, .-hotreload_stubs_%s\n",
            name, name, at, name, pcrel ? 1 : 2, pcrel ? " - ." : "", pcrel ? " - ." : "",
            name, name);
    /* Stubs need no executable stack; without this note ld assumes they do. */
    fprintf(f, "\n\t.section .note.GNU-stack,\"\",%sprogbits\n", at);
}
