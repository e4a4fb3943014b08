/* loader_exec_x86_64: x86-64 modules loaded in-process and executed.
 *
 * Usage: loader_exec_x86_64 {pic|nopic|fardata}=MODULE.o ...
 *
 * This program is the firmware: linked -no-pie, it offers a few functions and
 * data objects (exec/fw_api.h) through its resolver. Its port (exec_port.c)
 * splits code like the ESP32-C3: the text region is a memfd mapped twice,
 * written through one view and executed from another, at a different
 * address. Data regions are plain read-write mappings. The "near" port
 * places regions within 2 GiB of the firmware (and below 2 GiB, so -fno-pic
 * code works); the "far" port places them more than 4 GiB away: a -fPIC
 * module must then reach the firmware through the loader's veneers and GOT,
 * and a -fno-pic module must be refused with HR_E_RANGE.
 *
 * Expected values come from the same module source built into this program
 * under other names (exec_ref.c), and from constants. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotreload/loader.h"

#include "exec_port.h"
#include "fw_api.h"
#define HR_MOD(name) ref_##name
#include "mod_api.h"

/* ---- the firmware ------------------------------------------------------- */

volatile int fw_counter;
const int fw_table[8] = {3, 1, 4, 1, 5, 9, 2, 6};
char fw_name[16] = "test-firmware";
static char fw_logbuf[512];
static int fw_log_calls;

int fw_add(int a, int b)
{
    return a + b;
}

long long fw_mul64(long long a, long long b)
{
    return a * b;
}

int fw_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(fw_logbuf, sizeof fw_logbuf, fmt, ap);
    va_end(ap);
    fw_log_calls++;
    return n;
}

static void *fw_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
static void *fw_memset(void *d, int c, size_t n) { return memset(d, c, n); }
static size_t fw_strlen(const char *s) { return strlen(s); }

struct fw_sym {
    const char *name;
    uintptr_t addr;
};

static const struct fw_sym fw_syms[] = {
    {"fw_add", (uintptr_t)fw_add},
    {"fw_log", (uintptr_t)fw_log},
    {"fw_mul64", (uintptr_t)fw_mul64},
    {"fw_counter", (uintptr_t)&fw_counter},
    {"fw_table", (uintptr_t)fw_table},
    {"fw_name", (uintptr_t)fw_name},
    {"memcpy", (uintptr_t)fw_memcpy},
    {"memset", (uintptr_t)fw_memset},
    {"strlen", (uintptr_t)fw_strlen},
};

static int fw_resolve(void *ctx, const char *name, hr_addr_t *addr)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof fw_syms / sizeof fw_syms[0]; i++)
        if (strcmp(fw_syms[i].name, name) == 0) {
            *addr = fw_syms[i].addr;
            return 0;
        }
    return -1;
}

/* ---- checks ---------------------------------------------------------------- */

static int g_passed, g_failed;
static const char *g_variant = "";

static bool check_at(bool cond, int line, const char *fmt, ...)
{
    if (cond) {
        g_passed++;
        return true;
    }
    g_failed++;
    va_list ap;
    fprintf(stderr, "FAIL [%s] line %d: ", g_variant, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return false;
}
#define CHECK(cond, ...) check_at((cond), __LINE__, __VA_ARGS__)
/* Evaluates each operand once: they are often calls into the module. */
#define CHECK_EQ(got, want, what)                                                            \
    do {                                                                                     \
        long long got_ = (long long)(got), want_ = (long long)(want);                        \
        CHECK(got_ == want_, "%s: got %lld (%#llx), expected %lld (%#llx)", what, got_,      \
              (unsigned long long)got_, want_, (unsigned long long)want_);                   \
    } while (0)

struct loaded {
    struct hr_module *mod;
    uintptr_t text_addr, text_write;
    uint64_t text_size;
};

static void *export_addr(const struct hr_module *mod, const char *name, enum hr_export_kind kind)
{
    const struct hr_export_info *e = hr_module_lookup(mod, name);
    if (!CHECK(e != NULL, "export '%s' is missing", name))
        return NULL;
    if (!CHECK(e->kind == kind, "export '%s' has the wrong kind", name))
        return NULL;
    return (void *)(uintptr_t)e->addr;
}

static bool in_text(const struct loaded *l, uintptr_t p)
{
    return p >= l->text_addr && p < l->text_addr + l->text_size;
}

/* Find the text region from the sections: lowest and highest text address. */
static void find_text(struct loaded *l)
{
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    l->text_write = 0;
    for (size_t i = 0; i < hr_module_section_count(l->mod); i++) {
        const struct hr_section_info *s = hr_module_section(l->mod, i);
        if (s->kind != HR_REGION_TEXT)
            continue;
        if (s->addr < lo) {
            lo = (uintptr_t)s->addr;
            l->text_write = (uintptr_t)s->bytes;
        }
        if (s->addr + s->size > hi)
            hi = (uintptr_t)(s->addr + s->size);
    }
    l->text_addr = lo;
    l->text_size = hi > lo ? hi - lo : 0;
}

static bool has_section(const struct hr_module *mod, const char *name)
{
    for (size_t i = 0; i < hr_module_section_count(mod); i++)
        if (strcmp(hr_module_section(mod, i)->name, name) == 0)
            return true;
    return false;
}

#define FN(mod, name) ((__typeof__(&ref_##name))export_addr(mod, #name, HR_EXPORT_FUNC))

static const char *const needed_funcs[] = {
    "mod_reset", "mod_count", "mod_local_calls", "mod_fw_calls", "mod_switch", "mod_apply",
    "mod_get_op", "mod_sum_fw_table", "mod_bump_fw_counter", "mod_log", "mod_mix64",
    "mod_div64", "mod_pt_add", "mod_big_make", "mod_strings", "mod_bss_fill",
    "mod_greeting_ptr", "mod_fw_name", "mod_fw_mul",
};
static const char *const needed_data[] = {
    "mod_data_word", "mod_data_big", "mod_bss_arr", "mod_rodata_tab", "mod_greeting",
    "mod_fw_table_ptr", "mod_ops",
};

/* Run everything mod_main.c offers and compare with the reference. */
static void exercise(const struct loaded *l)
{
    const struct hr_module *mod = l->mod;
    bool all = true;
    for (size_t i = 0; i < sizeof needed_funcs / sizeof *needed_funcs; i++) {
        void *p = export_addr(mod, needed_funcs[i], HR_EXPORT_FUNC);
        all = all && p;
        if (p)
            CHECK(in_text(l, (uintptr_t)p), "%s at %p is not in the executable view", needed_funcs[i], p);
    }
    for (size_t i = 0; i < sizeof needed_data / sizeof *needed_data; i++)
        all = export_addr(mod, needed_data[i], HR_EXPORT_DATA) && all;
    if (!all)
        return;

    /* Initial data, straight from the load. */
    CHECK_EQ(*(int *)export_addr(mod, "mod_data_word", HR_EXPORT_DATA), 0x12345678, "mod_data_word");
    CHECK_EQ(*(long long *)export_addr(mod, "mod_data_big", HR_EXPORT_DATA), 0x1122334455667788LL,
             "mod_data_big");
    const int *bss = export_addr(mod, "mod_bss_arr", HR_EXPORT_DATA);
    int nonzero = 0;
    for (int i = 0; i < 16; i++)
        nonzero += bss[i] != 0;
    CHECK_EQ(nonzero, 0, "non-zero words in mod_bss_arr");
    const unsigned *rt = export_addr(mod, "mod_rodata_tab", HR_EXPORT_DATA);
    CHECK(rt[0] == 2 && rt[1] == 3 && rt[2] == 5 && rt[3] == 7 && rt[4] == 11, "mod_rodata_tab");
    const char *greeting = export_addr(mod, "mod_greeting", HR_EXPORT_DATA);
    CHECK(strcmp(greeting, "hello, module") == 0, "mod_greeting is \"%.20s\"", greeting);
    CHECK(*(const int *const *)export_addr(mod, "mod_fw_table_ptr", HR_EXPORT_DATA) == fw_table,
          "mod_fw_table_ptr does not point at fw_table");
    hr_op_fn *ops = export_addr(mod, "mod_ops", HR_EXPORT_DATA);
    for (int i = 0; i < 6; i++) {
        uintptr_t p = (uintptr_t)ops[i];
        if (i == 4)
            CHECK(ops[i] == fw_add, "mod_ops[4] is not fw_add");
        else
            CHECK(in_text(l, p) && p != l->text_write, "mod_ops[%d] = %#lx is not an execution "
                  "address (text at %#lx, written at %#lx)", i, (unsigned long)p,
                  (unsigned long)l->text_addr, (unsigned long)l->text_write);
        CHECK_EQ(ops[i](37, 5), ref_mod_ops[i](37, 5), "call through mod_ops[i]");
    }

    /* State: from a fresh load, s_calls = 0, s_seed = 7, local_static = 100. */
    int c1 = FN(mod, mod_count)(), c2 = FN(mod, mod_count)();
    CHECK_EQ(c1, 1000 + 7 + 103, "mod_count first call");
    CHECK_EQ(c2, 2000 + 7 + 106, "mod_count second call");
    FN(mod, mod_reset)();
    CHECK_EQ(FN(mod, mod_count)(), 1000 + 7 + 109, "mod_count after reset");

    for (int x = -3; x <= 20; x++)
        CHECK_EQ(FN(mod, mod_local_calls)(x), ref_mod_local_calls(x), "mod_local_calls");
    CHECK_EQ(FN(mod, mod_local_calls)(10), 10 * 11 + 7 + 55, "mod_local_calls(10)");
    for (int a = -50; a <= 50; a += 25)
        CHECK_EQ(FN(mod, mod_fw_calls)(a, a * 3 + 1), ref_mod_fw_calls(a, a * 3 + 1), "mod_fw_calls");
    CHECK_EQ(FN(mod, mod_fw_mul)(123456789, 1000003), ref_mod_fw_mul(123456789, 1000003),
             "mod_fw_mul");
    CHECK_EQ(FN(mod, mod_fw_mul)(-7, 1ll << 40), -7 * (1ll << 40) - 3 * (1ll << 40), "mod_fw_mul");
    CHECK(FN(mod, mod_fw_name)() == fw_name, "mod_fw_name does not return fw_name");
    for (int x = -2; x <= 14; x++)
        CHECK_EQ(FN(mod, mod_switch)(x), ref_mod_switch(x), "mod_switch");
    CHECK_EQ(FN(mod, mod_switch)(2), 310, "mod_switch(2)");
    CHECK_EQ(FN(mod, mod_switch)(11), 11, "mod_switch(11)");
    for (int op = 0; op < 8; op++)
        CHECK_EQ(FN(mod, mod_apply)(op, 1000 + op, 17), ref_mod_apply(op, 1000 + op, 17), "mod_apply");
    for (int i = 0; i < 8; i++) {
        hr_op_fn f = FN(mod, mod_get_op)(i), rf = ref_mod_get_op(i);
        if (i % 6 == 4 && i >= 4)
            CHECK(f == fw_add, "mod_get_op(%d) is not fw_add", i);
        else
            CHECK(in_text(l, (uintptr_t)f), "mod_get_op(%d) = %p is not an execution address", i,
                  (void *)(uintptr_t)f);
        CHECK_EQ(f(-9, 4), rf(-9, 4), "call through mod_get_op(i)");
    }
    int want_sum = 0;
    for (int i = 0; i < 8; i++)
        want_sum += fw_table[i] * (i + 1) + fw_table[7 - i];
    CHECK_EQ(FN(mod, mod_sum_fw_table)(), want_sum, "mod_sum_fw_table");
    fw_counter = 5;
    CHECK_EQ(FN(mod, mod_bump_fw_counter)(4), 9, "mod_bump_fw_counter");
    CHECK_EQ(fw_counter, 9, "fw_counter after mod_bump_fw_counter");

    char got[sizeof fw_logbuf];
    memset(fw_logbuf, 0, sizeof fw_logbuf);
    int calls = fw_log_calls;
    int n1 = FN(mod, mod_log)(2, -1234567890123ll, "xyz", 3.14159);
    memcpy(got, fw_logbuf, sizeof got);
    CHECK_EQ(fw_log_calls, calls + 1, "fw_log calls");
    const char *want_log = "a=2 b=-1234567890123 s=xyz w=two d=3.142 g=hello, module";
    CHECK(strcmp(got, want_log) == 0, "mod_log wrote \"%s\"", got);
    CHECK_EQ(n1, (int)strlen(want_log), "mod_log length");
    memset(fw_logbuf, 0, sizeof fw_logbuf);
    int n2 = ref_mod_log(7, 42, "", -0.5);
    memcpy(got, fw_logbuf, sizeof got);
    memset(fw_logbuf, 0, sizeof fw_logbuf);
    CHECK_EQ(FN(mod, mod_log)(7, 42, "", -0.5), n2, "mod_log length vs reference");
    CHECK(strcmp(got, fw_logbuf) == 0, "mod_log wrote \"%s\", reference \"%s\"", fw_logbuf, got);

    static const uint64_t pairs[][2] = {
        {0, 0}, {1, 2}, {0xffffffffffffffffull, 3}, {0x123456789abcdef0ull, 0xfedcba9876543210ull},
        {1ull << 63, 1}, {987654321987654321ull, 123456789ull},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        CHECK_EQ(FN(mod, mod_mix64)(pairs[i][0], pairs[i][1]), ref_mod_mix64(pairs[i][0], pairs[i][1]),
                 "mod_mix64");
        int64_t a = (int64_t)pairs[i][0], b = (int64_t)(pairs[i][1] | 1);
        if (!(a == INT64_MIN && b == -1))
            CHECK_EQ(FN(mod, mod_div64)(a, b), ref_mod_div64(a, b), "mod_div64");
    }
    CHECK_EQ(FN(mod, mod_div64)(-1000000000007ll, 13), -1000000000007ll / 13 * 1000 +
             -1000000000007ll % 13 + (-1000000000007ll >> 3), "mod_div64 constant");

    struct hr_pt p = FN(mod, mod_pt_add)((struct hr_pt){3, -4}, (struct hr_pt){100, 7});
    CHECK(p.x == 203 && p.y == -11, "mod_pt_add gave {%d, %d}", p.x, p.y);
    struct hr_big in = {1ll << 33, -5, 99, "abcdefghijk"};
    struct hr_big gb = FN(mod, mod_big_make)(0x1234, in), rb = ref_mod_big_make(0x1234, in);
    CHECK(gb.a == rb.a && gb.b == rb.b && gb.c == rb.c && memcmp(gb.tag, rb.tag, sizeof gb.tag) == 0,
          "mod_big_make differs from the reference");
    CHECK(memcmp(gb.tag, "mod:efghijk", 12) == 0, "mod_big_make tag \"%.12s\"", gb.tag);

    for (int n = 3; n <= 40; n += 9) {
        char a[48], b[48];
        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        CHECK_EQ(FN(mod, mod_strings)(a, n), ref_mod_strings(b, n), "mod_strings");
        CHECK(memcmp(a, b, sizeof a) == 0, "mod_strings buffer differs (n=%d)", n);
    }
    CHECK(FN(mod, mod_greeting_ptr)() == greeting, "mod_greeting_ptr");

    memset(ref_mod_bss_arr, 0, sizeof ref_mod_bss_arr);
    for (int seed = 1; seed <= 3; seed++)
        CHECK_EQ(FN(mod, mod_bss_fill)(seed * 7), ref_mod_bss_fill(seed * 7), "mod_bss_fill");
    CHECK(memcmp(bss, ref_mod_bss_arr, sizeof ref_mod_bss_arr) == 0, "mod_bss_arr contents");
}

static struct hr_module *load_file(const struct hr_port *port, const uint8_t *img, size_t n,
                                   struct hr_error *err)
{
    struct hr_load_config cfg = {.arch = HR_ARCH_X86_64, .port = port,
                                 .resolve = fw_resolve, .resolve_ctx = NULL};
    struct hr_module *mod = NULL;
    if (hr_module_load(&cfg, img, n, &mod, err) != HR_OK)
        return NULL;
    return mod;
}

static void check_balance(const struct xport *x)
{
    CHECK(x->allocs == x->frees && x->regions == x->region_frees,
          "%s port: %ld/%ld allocations and %ld/%ld regions given back", x->name, x->frees,
          x->allocs, x->region_frees, x->regions);
}

static uint64_t dist(uintptr_t a, uintptr_t b) { return a > b ? a - b : b - a; }

static void run_loaded(struct xport *x, const struct hr_port *port, const uint8_t *img, size_t n,
                       bool far)
{
    struct hr_error err;
    struct loaded l = {0};
    l.mod = load_file(port, img, n, &err);
    if (!CHECK(l.mod != NULL, "load: %s: %s", hr_status_name(err.status), err.msg))
        return;
    find_text(&l);
    CHECK(l.text_size > 0 && l.text_write != 0 && l.text_write != l.text_addr,
          "code is not split: executed at %#lx, written at %#lx", (unsigned long)l.text_addr,
          (unsigned long)l.text_write);
    CHECK(memcmp((const void *)l.text_addr, (const void *)l.text_write, l.text_size) == 0,
          "the executable view does not show the written code");
    uintptr_t fw = (uintptr_t)fw_add;
    if (far) {
        CHECK(dist(l.text_addr, fw) > 4 * GiB, "far port placed code only %#llx from the firmware",
              (unsigned long long)dist(l.text_addr, fw));
        CHECK(has_section(l.mod, ".hr.veneers"), "far -fPIC module has no veneers");
        CHECK(has_section(l.mod, ".hr.got"), "far -fPIC module has no GOT");
    } else {
        CHECK(dist(l.text_addr, fw) < GiB && l.text_addr + l.text_size < 2 * GiB,
              "near port placed code at %#lx", (unsigned long)l.text_addr);
    }
    exercise(&l);
    hr_module_free(l.mod);
    check_balance(x);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = len > 0 ? malloc((size_t)len) : NULL;
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

int main(int argc, char **argv)
{
    struct xport nearx = {.name = "near"}, farx = {.name = "far"};
    if (!near_port(&nearx) || !far_port(&farx)) {
        fprintf(stderr, "cannot reserve the port arenas: %s\n", strerror(errno));
        return 2;
    }
    struct hr_port nearp = make_port(&nearx), farp = make_port(&farx);
    printf("firmware at %p, near arena %p, far arena %p\n", (void *)(uintptr_t)fw_add,
           (void *)nearx.base, (void *)farx.base);
    if (argc < 2) {
        fprintf(stderr, "usage: %s {pic|nopic|fardata}=MODULE.o ...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "bad argument '%s'\n", argv[i]);
            return 2;
        }
        size_t kl = (size_t)(eq - argv[i]);
        bool pic = kl == 3 && strncmp(argv[i], "pic", 3) == 0;
        bool nopic = kl == 5 && strncmp(argv[i], "nopic", 5) == 0;
        bool fardata = kl == 7 && strncmp(argv[i], "fardata", 7) == 0;
        size_t n;
        uint8_t *img = read_file(eq + 1, &n);
        if (!img || !(pic || nopic || fardata)) {
            fprintf(stderr, "bad argument '%s'\n", argv[i]);
            return 2;
        }
        const char *base = strrchr(eq + 1, '/') ? strrchr(eq + 1, '/') + 1 : eq + 1;
        int before = g_passed + g_failed, failed = g_failed;
        char label[128];
        struct hr_error err;

        if (fardata) {
            snprintf(label, sizeof label, "%s near", base);
            g_variant = label;
            struct hr_module *mod = load_file(&nearp, img, n, &err);
            if (CHECK(mod != NULL, "load: %s", err.msg)) {
                int (*rd)(void) = (int (*)(void))export_addr(mod, "mod_read_counter", HR_EXPORT_FUNC);
                fw_counter = 4242;
                if (rd)
                    CHECK_EQ(rd(), 4242, "mod_read_counter");
                hr_module_free(mod);
            }
            check_balance(&nearx);
        } else {
            snprintf(label, sizeof label, "%s near", base);
            g_variant = label;
            run_loaded(&nearx, &nearp, img, n, false);
            /* One byte off its alignment the image is read byte by byte (the
             * one-load readers of elf.h need it aligned): the same behaviour. */
            uint8_t *odd = malloc(n + 1);
            if (odd) {
                memcpy(odd + 1, img, n);
                snprintf(label, sizeof label, "%s near, unaligned image", base);
                run_loaded(&nearx, &nearp, odd + 1, n, false);
                free(odd);
            }
        }
        snprintf(label, sizeof label, "%s far", base);
        g_variant = label;
        if (pic) {
            run_loaded(&farx, &farp, img, n, true);
        } else {
            /* Out of reach and not fixable by a veneer: refused, named. */
            struct hr_module *mod = load_file(&farp, img, n, &err);
            CHECK(mod == NULL && err.status == HR_E_RANGE, "far -fno-pic module: expected "
                  "HR_E_RANGE, got %s: %s", hr_status_name(err.status), err.msg);
            CHECK(strstr(err.msg, "R_X86_64_") && strstr(err.msg, "against '"),
                  "far -fno-pic refusal does not name the relocation and symbol: %s", err.msg);
            if (fardata)
                CHECK(strstr(err.msg, "R_X86_64_PC32") && strstr(err.msg, "'fw_counter'"),
                      "far data refusal: %s", err.msg);
            printf("  %s refused: %s\n", label, err.msg);
            hr_module_free(mod);
            check_balance(&farx);
        }
        printf("  %s: %d checks, %d failed\n", base, g_passed + g_failed - before, g_failed - failed);
        free(img);
    }
    printf("exec_x86_64: %d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
