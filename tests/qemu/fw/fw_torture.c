/* The stub torture firmware for the bare-metal boards in QEMU (rv32-virt,
 * mps2-an385): calls every function of the torture module
 * (tests/stubs/torture.c) by its own name, through the stubs `hotd stubs`
 * generated, and compares each result with the same source compiled in
 * under ref_ names. Then where module code runs and what the guard says
 * of faults there (rv32: the I/D split, module code runs at its
 * instruction-bus alias, running it at its data address or writing through
 * the alias traps; Cortex-M: code in SRAM with the Thumb bit, a call
 * without it and a bus error both fault), and 30 reloads that must give
 * back every byte of the heap.
 *
 * The module image comes in through QEMU's generic loader, written into
 * `hr_test_inbox` before the CPU starts (tests/qemu/torture_test.py). The
 * verdict is the QEMU exit status (test device) and the last UART line.
 * Two other inbox words make the firmware crash on purpose, unguarded, to
 * show what the port says about a fatal trap. */
#include <stdint.h>
#include <string.h>

#include "hotreload.h"
#include "hotreload/port.h"
#include "hotreload/loader.h"
#include "hotreload_board.h"
#include "torture.h"
#undef TNAME
#define TNAME(n) ref_##n
#include "torture.h"

#define INBOX_MAGIC 0x584f4e49u /* "INOX": a module image follows */
#define INBOX_FAULT 0x544c4146u /* "FALT": store through NULL, unguarded */
#define INBOX_DEEP 0x50454544u  /* "DEEP": recurse past the stack */
#define RELOADS 30
#if defined(__riscv)
#define IBUS_OFFSET 0x40000000u
#define CRASH_AT 0u /* NULL: unmapped */
#define ARCH HR_ARCH_RV32
#else
#define CRASH_AT 0x90000000u /* nothing there on mps2-an385: a bus error */
#define ARCH HR_ARCH_ARM
#endif

/* Not cleared at start (.noinit): QEMU's loader fills it. */
struct inbox {
    uint32_t magic;
    uint32_t size;
    uint8_t bytes[192 * 1024];
};
__attribute__((section(".noinit"), aligned(8))) struct inbox hr_test_inbox;

/* The module: `torture`, or on Arm also `torture_v6m`, the same source
 * built for the Cortex-M0+ (ARMv6-M stubs, run here on the M3). */
#ifndef TORTURE
#define TORTURE torture
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
extern const struct hotreload_symtab CAT(hotreload_symtab_, TORTURE);

static int passed, failed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            hr_board_printf("FAIL line %d: ", __LINE__);                                        \
            hr_board_printf(__VA_ARGS__);                                                       \
            hr_board_puts("\n");                                                                \
        }                                                                                      \
    } while (0)

/* What the module imports from the firmware. */
int fw_callback(int x)
{
    return x * 10 + 3;
}

static void *seen_return;
int fw_check_return(void *return_address)
{
    seen_return = return_address;
    return 42;
}

/* The caller whose return address t_where reports. */
int fw_call_where(void);
__attribute__((noinline)) int fw_call_where(void)
{
    int r = t_where();
    __asm__ volatile("" ::: "memory"); /* keep the call from becoming a tail jump */
    return r + 1;
}

static unsigned long unloaded_calls(void)
{
    static char buf[4096];
    static const char key[] = "\"unloaded_calls\":";
    size_t n = hotreload_status_json(buf, sizeof buf);
    for (size_t i = 0; n < sizeof buf && i + sizeof key - 1 < n; i++) {
        if (memcmp(buf + i, key, sizeof key - 1) != 0)
            continue;
        unsigned long v = 0;
        for (const char *p = buf + i + sizeof key - 1; *p >= '0' && *p <= '9'; p++)
            v = v * 10 + (unsigned long)(*p - '0');
        return v;
    }
    return (unsigned long)-1;
}

static void check_unloaded(void)
{
    unsigned long before = unloaded_calls();
    CHECK(t_sum10(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) == 0, "t_sum10 unloaded should return 0");
    CHECK(t_sum_fmt("%d %s", 1, "x") == 0, "t_sum_fmt unloaded should return 0");
    CHECK(t_callback(5) == 0, "t_callback unloaded should return 0");
    CHECK(t_get_op(1) == NULL, "t_get_op unloaded should return NULL");
    unsigned long after = unloaded_calls();
    CHECK(after == before + 4, "unloaded calls counted: %lu -> %lu", before, after);
}

static void check_loaded(void)
{
    long s = t_sum10(1, -2, 3, -4, 5, -6, 7, -8, 9, 100000);
    CHECK(s == ref_t_sum10(1, -2, 3, -4, 5, -6, 7, -8, 9, 100000), "t_sum10 = %ld", s);

    /* Doubles on a soft-float target: libgcc helpers the module imports. */
    double m = t_mixed(1, 0.5, 2, 1.25, 3, -2.5, 4, 3.75, 5, 1e3, 6, -0.125, 7, 2.0, 8, 9.5,
                       1.5f, 100.25);
    double mr = ref_t_mixed(1, 0.5, 2, 1.25, 3, -2.5, 4, 3.75, 5, 1e3, 6, -0.125, 7, 2.0, 8,
                            9.5, 1.5f, 100.25);
    CHECK(m == mr && m != 0, "t_mixed = %ld, want %ld", (long)m, (long)mr);

    const char *fmt = "a%d b%l c%u d%f e%s f%d g%f h%d i%d j%d k%s";
    int f = t_sum_fmt(fmt, -7, 123456789L, 0xfedcba9876543210ull, 3.25, "stub", 11, -1.5, 1, 2,
                      3, "end");
    int fr = ref_t_sum_fmt(fmt, -7, 123456789L, 0xfedcba9876543210ull, 3.25, "stub", 11, -1.5,
                           1, 2, 3, "end");
    CHECK(f == fr && f != 0, "t_sum_fmt = %d, want %d", f, fr);

    struct t_big b = t_big_make(1234567890123LL, 77, 2.5);
    struct t_big br = ref_t_big_make(1234567890123LL, 77, 2.5);
    CHECK(b.a == br.a && b.b == br.b && b.c == br.c && b.d == br.d, "t_big_make = {%lld, %d}",
          (long long)b.a, (int)b.b);

    struct t_small sm = t_small_make(-3, 9), smr = ref_t_small_make(-3, 9);
    CHECK(sm.x == smr.x && sm.y == smr.y, "t_small_make = {%d, %d}", (int)sm.x, (int)sm.y);

    uint64_t u = t_u64(0x89abcdefu, 0x01234567u, 5);
    CHECK(u == ref_t_u64(0x89abcdefu, 0x01234567u, 5) && (u >> 32) != 0, "t_u64 = %#llx",
          (unsigned long long)u);

    int c = t_callback(4);
    CHECK(c == ref_t_callback(4) && c == (5 * 10 + 3) * 2 + 1, "t_callback = %d", c);

    for (int which = 0; which < 2; which++) {
        t_op_fn op = t_get_op(which), opr = ref_t_get_op(which);
        CHECK(op != NULL && op != opr, "t_get_op(%d) returns module code", which);
        if (op)
            CHECK(op(6, 7) == opr(6, 7), "t_get_op(%d)(6, 7) = %ld", which, op(6, 7));
    }

    /* A stub that called instead of jumping, or pushed anything, would
     * show as a return address outside fw_call_where (in the stub). */
    seen_return = NULL;
    CHECK(fw_call_where() == 43, "t_where through fw_call_where");
    uintptr_t ra = (uintptr_t)seen_return, fn = (uintptr_t)fw_call_where;
    CHECK(ra > fn && ra < fn + 32, "t_where's return address %#lx is not in fw_call_where (%#lx)",
          (unsigned long)ra, (unsigned long)fn);
}

/* --- where module code runs, and faults there ---------------------------- */

struct probe {
    uintptr_t addr;
    long result;
};

static void call_at(void *arg)
{
    struct probe *p = arg;
    p->result = ((t_op_fn)p->addr)(6, 7);
}

static void write_at(void *arg)
{
    struct probe *p = arg;
    *(volatile uint32_t *)p->addr = 0;
}

static void harmless(void *arg)
{
    ((struct probe *)arg)->result = 1;
}

static int contains(const char *s, const char *part)
{
    size_t n = strlen(part);
    for (; *s; s++)
        if (!strncmp(s, part, n))
            return 1;
    return 0;
}

#if defined(__riscv)
static void check_split(void)
{
    const struct hr_platform *pf = hr_platform_get();
    char why[200];
    uintptr_t code = (uintptr_t)t_get_op(1);
    CHECK(code >= IBUS_OFFSET && code < 2 * IBUS_OFFSET,
          "module code at %#lx, not in the instruction-bus alias", (unsigned long)code);
    /* The alias reads as the data view it mirrors. */
    CHECK(!memcmp((const void *)code, (const void *)(code + IBUS_OFFSET), 8),
          "the alias and the data view of module code differ");

    struct probe p = {code, 0};
    CHECK(pf->guarded_call(pf->ctx, call_at, &p, why, sizeof why) == 0 && p.result == 39,
          "module code through its alias: %ld", p.result);

    p.addr = code + IBUS_OFFSET;
    int trapped = pf->guarded_call(pf->ctx, call_at, &p, why, sizeof why);
    CHECK(trapped && contains(why, "instruction page fault") &&
              contains(why, "code run at its data address"),
          "running module code at its data address: trapped=%d, %s", trapped, trapped ? why : "");

    p.addr = code;
    trapped = pf->guarded_call(pf->ctx, write_at, &p, why, sizeof why);
    CHECK(trapped && contains(why, "store page fault") &&
              contains(why, "instruction-bus alias"),
          "writing through the alias: trapped=%d, %s", trapped, trapped ? why : "");

    /* The guard is left as it was: a plain call afterwards, a nested miss. */
    p.result = 0;
    CHECK(pf->guarded_call(pf->ctx, harmless, &p, why, sizeof why) == 0 && p.result == 1,
          "a call that does not trap");
    CHECK(t_sum10(1, 1, 1, 1, 1, 1, 1, 1, 1, 1) == ref_t_sum10(1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
          "calls after the traps");
}

#else
static void check_split(void)
{
    const struct hr_platform *pf = hr_platform_get();
    char why[200];
    uintptr_t code = (uintptr_t)t_get_op(1);
    CHECK((code & 1) && code >= 0x20000000u && code < 0x20400000u,
          "module code at %#lx: a Thumb address in SRAM", (unsigned long)code);
    struct probe p = {code, 0};
    CHECK(pf->guarded_call(pf->ctx, call_at, &p, why, sizeof why) == 0 && p.result == 39,
          "module code through a pointer: %ld", p.result);

    p.addr = code & ~(uintptr_t)1;
    int trapped = pf->guarded_call(pf->ctx, call_at, &p, why, sizeof why);
    CHECK(trapped && contains(why, "UsageFault: invalid state"),
          "calling module code without the Thumb bit: trapped=%d, %s", trapped,
          trapped ? why : "");

    p.addr = CRASH_AT;
    trapped = pf->guarded_call(pf->ctx, write_at, &p, why, sizeof why);
    CHECK(trapped && contains(why, "BusFault: precise data bus error") &&
              contains(why, "fault address 0x90000000"),
          "a store where nothing is: trapped=%d, %s", trapped, trapped ? why : "");

    p.result = 0;
    CHECK(pf->guarded_call(pf->ctx, harmless, &p, why, sizeof why) == 0 && p.result == 1,
          "a call that does not fault");
    CHECK(t_sum10(1, 1, 1, 1, 1, 1, 1, 1, 1, 1) == ref_t_sum10(1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
          "calls after the faults");
}
#endif

/* hr_module_load and hr_module_free alone, as the runtime calls them. */
static uint32_t core_load_cost(const struct inbox *in)
{
    const struct hr_platform *pf = hr_platform_get();
    struct hr_load_config lc = {.arch = ARCH, .port = pf->mem,
                                .resolve = NULL, .resolve_ctx = NULL};
    struct hr_module *mod;
    struct hr_error e;
    uint32_t start = hr_board_icount();
    enum hr_status st = hr_module_load(&lc, in->bytes, in->size, &mod, &e);
    uint32_t cost = hr_board_icount() - start;
    CHECK(st == HR_OK, "hr_module_load: %s", e.msg);
    if (st == HR_OK)
        hr_module_free(mod);
    return cost;
}

/* Each frame keeps 1 KiB live, so the stack runs out after some 30 calls.
 * The asm after the call keeps gcc from turning the recursion into a loop. */
__attribute__((noinline)) static uint32_t deep(uint32_t n)
{
    volatile uint8_t frame[1024];
    frame[n & 1023] = (uint8_t)n;
    uint32_t r = deep(n + 1);
    __asm__ volatile("" : "+r"(r)::"memory");
    return r + frame[(n * 7) & 1023];
}

static void crash(uint32_t how)
{
    if (how == INBOX_FAULT)
        *(volatile uint32_t *)(uintptr_t)(hr_test_inbox.size + CRASH_AT) = 1; /* size is 0 */
    else
        hr_board_printf("%lu\n", (unsigned long)deep(0));
}

int main(void)
{
    if (hr_test_inbox.magic == INBOX_FAULT || hr_test_inbox.magic == INBOX_DEEP)
        crash(hr_test_inbox.magic);
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = STR(TORTURE);
    cfg.partition = STR(TORTURE);
    cfg.symtab = &CAT(hotreload_symtab_, TORTURE);
    hotreload_load(&cfg); /* registers the module; nothing stored yet is fine */
    check_unloaded();

    const struct inbox *in = &hr_test_inbox;
    if (in->magic != INBOX_MAGIC || in->size == 0 || in->size > sizeof in->bytes) {
        hr_board_printf("stubs_%s: no module image in hr_test_inbox (QEMU's -device loader "
                        "puts it there: see tests/qemu/torture_test.py)\n", hr_board_name);
        return 2;
    }
    struct hr_board_heap_stats h0, h1;
    hr_board_heap_stats(&h0);
    uint32_t core = core_load_cost(in);
    uint32_t i0 = hr_board_icount();
    hotreload_err_t err = hotreload_load_from_buffer(&cfg, in->bytes, in->size);
    uint32_t i1 = hr_board_icount();
    CHECK(err == HOTRELOAD_OK, "load: %s", hotreload_last_error());
    if (err == HOTRELOAD_OK) {
        /* Exact when QEMU runs with -icount (hotreload_board.h). */
        hr_board_printf("load of %u bytes: loader core %lu insn, whole load %lu insn\n",
                       (unsigned)in->size, (unsigned long)core, (unsigned long)(i1 - i0));
        check_loaded();
        check_split();
        CHECK(hotreload_unload(&cfg) == HOTRELOAD_OK, "unload");
        check_unloaded();
    }

    /* Reloads replace the module each time: every byte comes back. */
    for (int i = 0; i < RELOADS && err == HOTRELOAD_OK; i++) {
        err = hotreload_load_from_buffer(&cfg, in->bytes, in->size);
        CHECK(err == HOTRELOAD_OK, "reload %d: %s", i, hotreload_last_error());
        CHECK(t_callback(i) == ref_t_callback(i), "t_callback after reload %d", i);
    }
    hr_board_heap_stats(&h1);
    CHECK(h1.blocks > h0.blocks, "a loaded module holds heap blocks");
    if (err == HOTRELOAD_OK)
        CHECK(hotreload_unload(&cfg) == HOTRELOAD_OK, "unload after the reloads");
    hr_board_heap_stats(&h1);
    CHECK(h1.free == h0.free && h1.largest == h0.largest && h1.blocks == h0.blocks,
          "heap after %d reloads: %lu free (largest %lu, %lu blocks), before: %lu (%lu, %lu)",
          RELOADS, (unsigned long)h1.free, (unsigned long)h1.largest, (unsigned long)h1.blocks,
          (unsigned long)h0.free, (unsigned long)h0.largest, (unsigned long)h0.blocks);
    hr_board_printf("heap: %lu of %lu bytes free after %d reloads, at least %lu free throughout; "
                   "stack: %lu bytes used\n",
                   (unsigned long)h1.free, (unsigned long)h1.size, RELOADS,
                   (unsigned long)h1.low_free, (unsigned long)hr_board_stack_used());
    hr_board_printf("stubs_%s: %d passed, %d failed\n", hr_board_name, passed, failed);
    return failed ? 1 : 0;
}
