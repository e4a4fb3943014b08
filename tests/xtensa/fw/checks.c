/* What the firmware expects of the calc module, and the firmware functions
 * the module calls back. Expected values are worked out here, by the
 * firmware's own code, or written out as constants. */
#include <string.h>

#include "calc.h"
#include "check.h"

extern char __modtext_start[], __modtext_end[], __moddata_start[], __moddata_end[];

static int in_module_text(const void *p)
{
    return (const char *)p >= __modtext_start && (const char *)p < __modtext_end;
}

static int in_module_data(const void *p)
{
    return (const char *)p >= __moddata_start && (const char *)p < __moddata_end;
}

/* ---- the firmware's side of the module's calls ---- */

int32_t fw_scale(int32_t x)
{
    return x * 100 + 7;
}

static const void *applied_op;

int32_t fw_apply(calc_op op, int32_t a, int32_t b)
{
    applied_op = (const void *)op;
    return op(a, b) + 1000;
}

static int64_t wide_seen[6];

int64_t fw_wide(int32_t a, int64_t b, int32_t c, int64_t d, int32_t e, int64_t f)
{
    int64_t args[6] = {a, b, c, d, e, f};
    memcpy(wide_seen, args, sizeof args);
    return (b - d) ^ (f + a + c + e);
}

static const char *note_what;
static int32_t note_value;

void fw_note(const char *what, int32_t value)
{
    note_what = what;
    note_value = value;
}

/* ---- checks ---- */

static const int32_t primes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53};

static void check_args(int v)
{
    static const int32_t a[10] = {3, -5, 7, 11, -13, 17, 19, -23, 29, 31};
    int32_t want = 0;
    for (int i = 0; i < 10; i++)
        want += (i < 9 ? i + 1 : (v == 1 ? 10 : -10)) * a[i];
    int32_t got = calc_sum10(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
    CHECK(got == want, "calc_sum10 = %d, want %d", (int)got, (int)want);
    got = calc_sum10(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    CHECK(got == (v == 1 ? 385 : 185), "calc_sum10(1..10) = %d", (int)got);

    got = calc_vsum(5, 10, 20, 30, 40, 50);
    CHECK(got == (v == 1 ? 550 : 700), "calc_vsum(5 args) = %d", (int)got);
    got = calc_vsum(12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    CHECK(got == (v == 1 ? 650 : 728), "calc_vsum(12 args) = %d", (int)got);
}

static void check_wide(int v)
{
    const int8_t a = -7;
    const int64_t b = 0x0123456789abcdefLL, d = -0x00dcba9876543210LL;
    const int64_t f = 0x0fedcba987654321LL;
    const int32_t c = -100000;
    const int16_t e = -3000;
    int64_t mine = (int64_t)a * 1000000007LL + (b ^ d) - (int64_t)c * e + (f >> 3);
    int64_t theirs = (b - d) ^ (f + a + c + e);
    int64_t got = calc_mix(a, b, c, d, e, f);
    CHECK(got == mine + v * theirs, "calc_mix = %#llx, want %#llx", (unsigned long long)got,
          (unsigned long long)(mine + v * theirs));
    CHECK(wide_seen[0] == a && wide_seen[1] == b && wide_seen[2] == c && wide_seen[3] == d &&
              wide_seen[4] == e && wide_seen[5] == f,
          "fw_wide saw %lld %#llx %lld %#llx %lld %#llx", (long long)wide_seen[0],
          (unsigned long long)wide_seen[1], (long long)wide_seen[2],
          (unsigned long long)wide_seen[3], (long long)wide_seen[4],
          (unsigned long long)wide_seen[5]);

    uint64_t m = calc_muldiv(1ull << 40, 3, 2);
    CHECK(m == 0x18000000000ull + (uint64_t)(v - 1), "calc_muldiv(2^40, 3, 2) = %#llx",
          (unsigned long long)m);
    m = calc_muldiv(0x123456789abcull, 1000003, 7);
    CHECK(m == 0x123456789abcull * 1000003 / 7 + (uint64_t)(v - 1), "calc_muldiv = %llu",
          (unsigned long long)m);
}

static void check_structs(int v)
{
    struct calc_quad q = calc_quad(1234);
    CHECK(q.a == 1234 && q.b == 1234 * v && q.c == -1234 && q.d == (1234 ^ 0x5a5a),
          "calc_quad = {%d, %d, %d, %d}", (int)q.a, (int)q.b, (int)q.c, (int)q.d);
    struct calc_big big = calc_big(5);
    int ok = 1;
    for (int i = 0; i < 7; i++)
        ok &= big.v[i] == 5 * (i + 1) + primes[i + v];
    CHECK(ok, "calc_big(5) = {%d, %d, ..., %d}", (int)big.v[0], (int)big.v[1], (int)big.v[6]);
}

static void check_pointers(int v)
{
    note_what = NULL;
    int32_t r = calc_callback(6);
    CHECK(r == 607 + 1018 + v, "calc_callback(6) = %d", (int)r);
    CHECK(in_module_text(applied_op), "fw_apply got %#x, not module code",
          (unsigned)(uintptr_t)applied_op);
    if (v == 2)
        CHECK(note_what && !strcmp(note_what, "calc_callback") && note_value == r &&
                  in_module_data(note_what),
              "fw_note saw '%s' = %d", note_what ? note_what : "(nothing)", (int)note_value);
    else
        CHECK(note_what == NULL, "version 1 does not call fw_note");

    calc_op sub = calc_get_op(0), mul = calc_get_op(1);
    CHECK(in_module_text((const void *)sub) && in_module_text((const void *)mul),
          "calc_get_op: %#x %#x", (unsigned)(uintptr_t)sub, (unsigned)(uintptr_t)mul);
    if (sub && mul)
        CHECK(sub(9, 4) == 5 && mul(9, 4) == 36 + v, "ops: %d %d", (int)sub(9, 4),
              (int)mul(9, 4));
    CHECK(calc_get_op(2) == NULL, "calc_get_op(2) is NULL");

    const char *name = calc_name();
    CHECK(in_module_data(name) && !strcmp(name, v == 1 ? "calc v1" : "calc v2"),
          "calc_name = '%s'", name);
}

static void check_tables(int v)
{
    for (uint32_t i = 0; i < 18; i++) {
        int32_t p = primes[i % 16], want = v == 1 ? p : p * p;
        CHECK(calc_table(i) == want, "calc_table(%u) = %d, want %d", (unsigned)i,
              (int)calc_table(i), (int)want);
    }
    static const int32_t sw[10] = {-1, 11000, 977, 13544, 8000, -1000, 142, 250, 1000000, -1};
    for (int32_t x = -1; x <= 8; x++) {
        int32_t want = sw[x + 1];
        if (x == 0 || x == 3)
            want += v;
        if (x == 7)
            want *= v;
        CHECK(calc_switch(x, 1000) == want, "calc_switch(%d, 1000) = %d, want %d", (int)x,
              (int)calc_switch(x, 1000), (int)want);
    }
}

static void check_state(void)
{
    int32_t base = calc_count(0);
    CHECK(calc_count(5) == base + 5000, "calc_count(5) after %d", (int)base);
    CHECK(calc_count(-10) == base - 5000, "calc_count(-10) after %d", (int)base);
    calc_callback(1);
    CHECK(calc_count(5) == base + 1, "calc_count counts calc_callback's calls");
}

static void check_asm(void)
{
    static const int32_t in[][3] = {
        {5, 5, 105}, {3, 9, 200}, {-1, 5, 200}, {0, -2, 300},
        {7, 2, 401}, {8, 2, 400}, {5, -3, 500},
    };
    for (unsigned i = 0; i < sizeof in / sizeof in[0]; i++)
        CHECK(calc_branch(in[i][0], in[i][1]) == in[i][2], "calc_branch(%d, %d) = %d, want %d",
              (int)in[i][0], (int)in[i][1], (int)calc_branch(in[i][0], in[i][1]),
              (int)in[i][2]);
    CHECK(calc_near(5) == 52 && calc_near(-4) == -2, "calc_near = %d %d", (int)calc_near(5),
          (int)calc_near(-4));
}

/* Through a frameless stub the module sees this function's return point. */
__attribute__((noinline)) static int caller_is_me(void)
{
    const char *ra = calc_caller();
    __asm__ volatile("" ::: "memory");
    return ra > (const char *)caller_is_me && ra < (const char *)caller_is_me + 64;
}

void check_calc(int v)
{
    CHECK(calc_version() == v, "calc_version = %d, want %d", (int)calc_version(), v);
    check_args(v);
    check_wide(v);
    check_structs(v);
    check_pointers(v);
    check_tables(v);
    check_state();
    check_asm();
    CHECK(caller_is_me(), "calc_caller's return address is not its caller's");
}

void check_fresh(int v)
{
    CHECK(calc_count(0) == 100 * v * 1000, "fresh calc_count(0) = %d", (int)calc_count(0));
}
