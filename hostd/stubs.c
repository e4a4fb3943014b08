/* hotd stubs: the firmware's side of a module, generated from the compiled
 * module: the stubs the firmware calls, the symbol table they jump through,
 * the list of firmware symbols the module imports, the list of exports.
 *
 * A stub is a frameless tail jump: it loads the module's table pointer,
 * loads entry i and jumps there, writing only a register the calling
 * convention lets a callee clobber before it starts (x86-64 r11, RISC-V t1,
 * Xtensa call0 a8, Xtensa windowed a9). Arguments in registers and on the
 * stack, varargs, return values and the return address reach the module
 * function as the caller left them, and no frame of the stub's appears in
 * a backtrace. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfsyms.h"
#include "hotd.h"
#include "options.h"
#include "stubs.h"

enum { NAME, ARCH, OUT_DIR, AT_LINK, STAMP };
static const struct hotd_opt options[] = {
    [NAME] = {"name", 0, "NAME", "the module's name (a C identifier)"},
    [ARCH] = {"arch", 0, "ARCH", "x86_64, rv32, rv64, xtensa (call0, lx106),\n"
                                 "xtensa-windowed (ESP32/S3) or arm (Cortex-M: Thumb-2;\n"
                                 "ARMv6-M stubs for a module built for the M0/M0+)"},
    [OUT_DIR] = {"out-dir", 0, "DIR", "where the files go"},
    [AT_LINK] = {"at-link", 0, NULL, "write only NAME_imports.ld and NAME_functions.txt:\n"
                                     "`hotd link` makes the stubs when the firmware links,\n"
                                     "for the functions the firmware calls"},
    [STAMP] = {"stamp", 0, "FILE", "afterwards, create FILE or set its time to now (the\n"
                                   "build's record that this step ran, though no file\n"
                                   "may have changed): no process of its own for it"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "stubs",
    .max_operands = 1,
    .opts = options,
    .usage =
    "usage: hotd stubs MODULE.o --name NAME --arch ARCH --out-dir DIR\n"
    "\n"
    "Reads a compiled module (ET_REL, as 'ld -r' produces) and writes into DIR:\n"
    "  NAME_stubs.S     one frameless stub per exported function, jumping through\n"
    "                   hotreload_table_NAME (link into the firmware)\n"
    "  NAME_symtab.c    the tables and hotreload_symtab_NAME (compile into the firmware)\n"
    "  NAME_imports.ld  EXTERN(...) of every firmware symbol the module imports\n"
    "                   (an implicit linker script for the firmware link)\n"
    "  NAME_exports.txt the functions that have a stub, one per line, in slot order\n"
    "  NAME_functions.txt (--at-link) every function the module exports\n"
    "A file whose content did not change is not rewritten (its mtime stays).\n",
};


static const struct arch_info {
    const char *name;
    unsigned machine;
    int elfclass;
    const char *machine_name;
} arches[] = {
    [X86_64] = {"x86_64", EM_X86_64, ELFCLASS64, "x86-64"},
    [RV32] = {"rv32", EM_RISCV, ELFCLASS32, "RISC-V"},
    [RV64] = {"rv64", EM_RISCV, ELFCLASS64, "RISC-V"},
    [XTENSA] = {"xtensa", EM_XTENSA, ELFCLASS32, "Xtensa"},
    [XTENSA_WIN] = {"xtensa-windowed", EM_XTENSA, ELFCLASS32, "Xtensa"},
    [ARM] = {"arm", EM_ARM, ELFCLASS32, "ARM"},
};
#define NARCH (sizeof arches / sizeof arches[0])

static const char *machine_name(unsigned machine)
{
    for (size_t i = 0; i < NARCH; i++)
        if (arches[i].machine == machine)
            return arches[i].machine_name;
    return "another machine";
}

/* Names go verbatim into assembly, C strings and linker scripts. */
static int plain_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '$'))
            return 0;
    return 1;
}

/* ---- NAME_stubs.S ---------------------------------------------------- */

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

static void gen_stubs(FILE *f, enum arch arch, const char *name, const struct modsyms *m)
{
    char table[256];
    snprintf(table, sizeof table, "hotreload_table_%s", name);
    bool v6m = arch == ARM && (m->arm_cpu_arch == 11 || m->arm_cpu_arch == 12);
    fprintf(f, "/* Generated by `hotd stubs` for %s: do not edit.\n *\n"
               " * One frameless stub per function of module '%s': stub i loads the\n"
               " * table pointer %s and jumps to entry i, %s.\n",
            arches[arch].name, name, table,
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

/* ---- NAME_symtab.c --------------------------------------------------- */

static void gen_symtab(FILE *f, const char *name, const struct modsyms *m)
{
    size_t n = m->nexports;
    fprintf(f, "/* Generated by `hotd stubs`: do not edit.\n *\n"
               " * The symbol table of module '%s': slot names, the handlers that\n"
               " * report calls while no module is loaded, two tables used in turn by\n"
               " * reloads, and hotreload_table_%s, the pointer the stubs read. */\n"
               "#include \"hotreload.h\"\n\n",
            name, name);
    fprintf(f, "extern const hotreload_fn_t *volatile hotreload_table_%s;\n"
               "extern const struct hotreload_symtab hotreload_symtab_%s;\n\n", name, name);
    if (n == 0) {
        /* No function to call: no arrays (a zero-length array is not C). */
        fprintf(f, "const hotreload_fn_t *volatile hotreload_table_%s = NULL;\n"
                   "const struct hotreload_symtab hotreload_symtab_%s = "
                   "{0, NULL, NULL, &hotreload_table_%s, {NULL, NULL}};\n",
                name, name, name);
        return;
    }
    fprintf(f, "static const char *const names[%zu] = {\n", n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "    \"%s\",\n", m->exports[i]);
    fprintf(f, "};\n\n/* Reached through a stub whatever the function's signature: they\n"
               " * take nothing and return 0 (the caller reads what it reads). */\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "static long hr_unloaded_%zu(void)\n{\n"
                   "    hotreload_unloaded_call(&hotreload_symtab_%s, %zu);\n"
                   "    return 0;\n}\n", i, name, i);
    fprintf(f, "\nstatic const hotreload_fn_t unloaded[%zu] = {\n", n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "    (hotreload_fn_t)hr_unloaded_%zu,\n", i);
    fprintf(f, "};\n\nstatic hotreload_fn_t tab_a[%zu], tab_b[%zu];\n\n", n, n);
    fprintf(f, "const hotreload_fn_t *volatile hotreload_table_%s = unloaded;\n", name);
    fprintf(f, "const struct hotreload_symtab hotreload_symtab_%s = {\n"
               "    %zu, names, unloaded, &hotreload_table_%s, {tab_a, tab_b}};\n",
            name, n, name);
}

/* ---- NAME_imports.ld, NAME_exports.txt ------------------------------- */

static void gen_imports(FILE *f, const char *name, const struct modsyms *m)
{
    fprintf(f, "/* Generated by `hotd stubs`: do not edit.\n"
               " * The firmware symbols module '%s' imports. Given to the firmware link\n"
               " * as an implicit linker script: EXTERN keeps each one (and pulls it from\n"
               " * an archive) even when the firmware itself does not use it. */\n",
            name);
    if (m->nimports == 0) {
        fprintf(f, "/* (no imports) */\n");
        return;
    }
    fprintf(f, "EXTERN(\n");
    for (size_t i = 0; i < m->nimports; i++)
        fprintf(f, plain_name(m->imports[i]) ? "    %s\n" : "    \"%s\"\n", m->imports[i]);
    fprintf(f, ")\n");
}

static void gen_exports(FILE *f, const struct modsyms *m)
{
    for (size_t i = 0; i < m->nexports; i++)
        fprintf(f, "%s\n", m->exports[i]);
}

/* ---- the command ----------------------------------------------------- */

static int check_module(const char *path, enum arch arch, const struct modsyms *m)
{
    const struct arch_info *a = &arches[arch];
    if (m->machine != a->machine) {
        fprintf(stderr, "hotd stubs: %s: built for %s (e_machine %u), but --arch %s needs %s "
                "(e_machine %u)\n", path, machine_name(m->machine), m->machine, a->name,
                a->machine_name, a->machine);
        return -1;
    }
    if (m->elfclass != a->elfclass) {
        fprintf(stderr, "hotd stubs: %s: an ELF%d object, but --arch %s needs ELF%d\n", path,
                m->elfclass == ELFCLASS64 ? 64 : 32, a->name, a->elfclass == ELFCLASS64 ? 64 : 32);
        return -1;
    }
    if ((arch == XTENSA && m->xtensa_abi == 0) || (arch == XTENSA_WIN && m->xtensa_abi == 1)) {
        fprintf(stderr, "hotd stubs: %s: built for the Xtensa %s ABI (.xtensa.info ABI=%d), "
                "but --arch is %s\n", path, m->xtensa_abi ? "call0" : "windowed",
                m->xtensa_abi, a->name);
        return -1;
    }
    for (size_t i = 0; i < m->nexports; i++)
        if (!plain_name(m->exports[i])) {
            fprintf(stderr, "hotd stubs: %s: exported function '%s': only letters, digits, "
                    "'_', '.' and '$' can name a stub\n", path, m->exports[i]);
            return -1;
        }
    for (size_t i = 0; i < m->nimports; i++)
        if (strchr(m->imports[i], '"')) {
            fprintf(stderr, "hotd stubs: %s: import '%s' cannot be named in a linker script\n",
                    path, m->imports[i]);
            return -1;
        }
    return 0;
}

int stubs_write(const char *cmd, enum arch arch, const char *name, const char *dir,
                const struct modsyms *all, const struct modsyms *stubbed, unsigned files,
                int *written)
{
    static const char *const suffix[] = {"_stubs.S", "_symtab.c", "_imports.ld", "_exports.txt",
                                         "_functions.txt"};
    const struct modsyms *m = stubbed ? stubbed : all;
    for (int k = 0; k < 5; k++) {
        if (!(files & (1u << k)))
            continue;
        char *buf = NULL, file[128], msg[512];
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
            fprintf(stderr, "hotd %s: out of memory\n", cmd);
            return -1;
        }
        if (k == 0)
            gen_stubs(f, arch, name, m);
        else if (k == 1)
            gen_symtab(f, name, m);
        else if (k == 2)
            gen_imports(f, name, all);
        else
            gen_exports(f, k == 3 ? m : all);
        snprintf(file, sizeof file, "%s%s", name, suffix[k]);
        int w = -1;
        if (fclose(f) != 0)
            snprintf(msg, sizeof msg, "%s: out of memory", file);
        else
            w = write_if_changed(dir, file, buf, len, msg, sizeof msg);
        free(buf);
        if (w < 0) {
            fprintf(stderr, "hotd %s: %s\n", cmd, msg);
            return -1;
        }
        *written += w > 0;
    }
    return 0;
}

int stubs_arch(const char *cmd, const char *name)
{
    for (size_t arch = 0; arch < NARCH; arch++)
        if (!strcmp(arches[arch].name, name))
            return (int)arch;
    fprintf(stderr, "hotd %s: unknown --arch '%s' (x86_64, rv32, rv64, xtensa, "
            "xtensa-windowed, arm)\n", cmd, name);
    return -1;
}

int stubs_read_module(const char *cmd, const char *path, enum arch arch, struct modsyms *m)
{
    char msg[512];
    if (modsyms_read(path, m, msg, sizeof msg) != 0) {
        fprintf(stderr, "hotd %s: %s\n", cmd, msg);
        return -1;
    }
    /* hotreload_* functions are the runtime's business (hooks, markers),
     * never called through a stub. */
    size_t kept = 0;
    for (size_t i = 0; i < m->nexports; i++) {
        if (strncmp(m->exports[i], "hotreload_", 10) == 0)
            free(m->exports[i]);
        else
            m->exports[kept++] = m->exports[i];
    }
    m->nexports = kept;
    if (check_module(path, arch, m) != 0) {
        modsyms_free(m);
        return -1;
    }
    return 0;
}

/* `touch FILE`: created if need be, its times set to now. */
static int touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int rc = futimens(fd, NULL);
    close(fd);
    return rc;
}

int cmd_stubs(int argc, char **argv)
{
    const char *name = NULL, *arch_name = NULL, *dir = NULL, *stamp = NULL;
    bool at_link = false;
    struct hotd_args a = {.cmd = &command};
    for (int o; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        switch (o) {
        case NAME: name = a.value; break;
        case ARCH: arch_name = a.value; break;
        case OUT_DIR: dir = a.value; break;
        case AT_LINK: at_link = true; break;
        case STAMP: stamp = a.value; break;
        default: return hotd_args_exit(o);
        }
    }
    if (a.noperands != 1 || !name || !arch_name || !dir)
        return hotd_usage_error(&command, "MODULE.o, --name, --arch and --out-dir are required");
    const char *in = a.operands[0];
    int arch = stubs_arch("stubs", arch_name);
    if (arch < 0)
        return 1;
    /* The name becomes part of C identifiers: hotreload_table_NAME. */
    if (!plain_name(name) || strchr(name, '.') || strchr(name, '$') || strlen(name) > 64) {
        fprintf(stderr, "hotd stubs: --name '%s': a C identifier is needed (letters, digits, "
                "'_'; at most 64)\n", name);
        return 1;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "hotd stubs: --out-dir %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "hotd stubs: --out-dir %s: not a directory\n", dir);
        return 1;
    }
    struct modsyms m;
    if (stubs_read_module("stubs", in, (enum arch)arch, &m) != 0)
        return 1;
    unsigned files = at_link ? STUBS_IMPORTS | STUBS_FUNCTIONS
                             : STUBS_ASM | STUBS_SYMTAB | STUBS_IMPORTS | STUBS_EXPORTS;
    int written = 0;
    int rc = stubs_write("stubs", (enum arch)arch, name, dir, &m, NULL, files, &written) ? 1 : 0;
    if (rc == 0 && stamp && touch(stamp) != 0) {
        fprintf(stderr, "hotd stubs: --stamp %s: %s\n", stamp, strerror(errno));
        rc = 1;
    }
    if (rc == 0)
        printf("hotd stubs: module '%s' (%s): %zu functions, %zu imports; %d of %d files "
               "updated in %s\n", name, arches[arch].name, m.nexports, m.nimports, written,
               at_link ? 2 : 4, dir);
    modsyms_free(&m);
    return rc;
}
