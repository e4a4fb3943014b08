/* The stub torture firmware (x86-64, executed): calls every function of the
 * torture module by its own name, through the stubs `hotd stubs` generated,
 * and compares each result with the same source compiled into the firmware
 * under ref_ names (torture_ref.c). Before the module is loaded the same
 * calls must land in the unloaded handlers.
 *
 *   fw_torture torture.img */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotreload.h"
#include "torture.h"
#undef TNAME
#define TNAME(n) ref_##n
#include "torture.h"

extern const struct hotreload_symtab hotreload_symtab_torture;

static int passed, failed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            printf("FAIL line %d: ", __LINE__);                                                \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
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

/* The caller whose return address t_where reports: non-static and
 * exported, so dladdr can name the function an address lies in. */
int fw_call_where(void);
__attribute__((noinline)) int fw_call_where(void)
{
    int r = t_where();
    __asm__ volatile("" ::: "memory"); /* keep the call from becoming a tail jump */
    return r + 1;
}

static unsigned long unloaded_calls(void)
{
    char buf[8192];
    hotreload_status_json(buf, sizeof buf);
    const char *p = strstr(buf, "\"unloaded_calls\":");
    return p ? strtoul(p + strlen("\"unloaded_calls\":"), NULL, 10) : 0;
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
    long s = t_sum10(1, -2, 3, -4, 5, -6, 7, -8, 9, 1L << 40);
    CHECK(s == ref_t_sum10(1, -2, 3, -4, 5, -6, 7, -8, 9, 1L << 40), "t_sum10 = %ld", s);

    double m = t_mixed(1, 0.5, 2, 1.25, 3, -2.5, 4, 3.75, 5, 1e3, 6, -0.125, 7, 2.0, 8, 9.5,
                       1.5f, 100.25);
    double mr = ref_t_mixed(1, 0.5, 2, 1.25, 3, -2.5, 4, 3.75, 5, 1e3, 6, -0.125, 7, 2.0, 8,
                            9.5, 1.5f, 100.25);
    CHECK(m == mr && m != 0, "t_mixed = %g, want %g", m, mr);

    const char *fmt = "a%d b%l c%u d%f e%s f%d g%f h%d i%d j%d k%s";
    int f = t_sum_fmt(fmt, -7, 1L << 40, 0xfedcba9876543210ull, 3.25, "stub", 11, -1.5, 1, 2,
                      3, "end");
    int fr = ref_t_sum_fmt(fmt, -7, 1L << 40, 0xfedcba9876543210ull, 3.25, "stub", 11, -1.5, 1,
                           2, 3, "end");
    CHECK(f == fr && f != 0, "t_sum_fmt = %d, want %d", f, fr);

    struct t_big b = t_big_make(1234567890123LL, 77, 2.5);
    struct t_big br = ref_t_big_make(1234567890123LL, 77, 2.5);
    CHECK(b.a == br.a && b.b == br.b && b.c == br.c && b.d == br.d,
          "t_big_make = {%lld, %d, %g, %lld}", (long long)b.a, b.b, b.c, (long long)b.d);

    struct t_small sm = t_small_make(-3, 9), smr = ref_t_small_make(-3, 9);
    CHECK(sm.x == smr.x && sm.y == smr.y, "t_small_make = {%d, %d}", sm.x, sm.y);

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

    seen_return = NULL;
    CHECK(fw_call_where() == 43, "t_where through fw_call_where");
    Dl_info info;
    int named = seen_return && dladdr(seen_return, &info) && info.dli_sname;
    CHECK(named && !strcmp(info.dli_sname, "fw_call_where") &&
              (char *)seen_return > (char *)(uintptr_t)fw_call_where,
          "t_where's return address %p lies in %s, want fw_call_where (a stub frame?)",
          seen_return, named ? info.dli_sname : "?");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fw_torture torture.img\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = "torture";
    cfg.partition = "stubs_torture";
    cfg.symtab = &hotreload_symtab_torture;
    hotreload_load(&cfg); /* registers the module; nothing stored yet is fine */
    check_unloaded();

    FILE *fp = fopen(argv[1], "rb");
    static char img[1 << 20];
    size_t size = fp ? fread(img, 1, sizeof img, fp) : 0;
    if (fp)
        fclose(fp);
    hotreload_err_t err = size ? hotreload_load_from_buffer(&cfg, img, size) : -1;
    CHECK(err == HOTRELOAD_OK, "load %s: %s", argv[1], size ? hotreload_last_error() : "empty");
    if (err == HOTRELOAD_OK) {
        check_loaded();
        CHECK(hotreload_unload(&cfg) == HOTRELOAD_OK, "unload");
        check_unloaded();
    }
    printf("stubs_x86_64: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
