/* The module that loader_exec_x86_64 loads and runs, built at -O0/-O2/-Os,
 * -fPIC and -fno-pic. The same source is compiled into the test under other
 * names (exec_ref.c) to give the expected results. */
#include "fw_api.h"
#include "mod_api.h"

/* ---- data, bss, rodata ---- */
int HR_MOD(mod_data_word) = 0x12345678;
long long HR_MOD(mod_data_big) = 0x1122334455667788LL;
int HR_MOD(mod_bss_arr)[16];
const unsigned HR_MOD(mod_rodata_tab)[5] = {2, 3, 5, 7, 11};
const char HR_MOD(mod_greeting)[] = "hello, module";
const int *HR_MOD(mod_fw_table_ptr) = fw_table; /* pointer to firmware data */

static int s_calls;     /* bss */
static int s_seed = 7;  /* data */
static const char *const s_words[] = {"zero", "one", "two", "three"};

void HR_MOD(mod_reset)(void)
{
    s_calls = 0;
}

int HR_MOD(mod_count)(void)
{
    static int local_static = 100;
    local_static += 3;
    return ++s_calls * 1000 + s_seed + local_static;
}

/* ---- local calls ---- */
static int helper_mul(int a, int b)
{
    return a * b + s_seed;
}

__attribute__((noinline)) static int fib(int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int HR_MOD(mod_local_calls)(int x)
{
    return helper_mul(x, x + 1) + fib(x & 15);
}

/* ---- firmware calls ---- */
int HR_MOD(mod_fw_calls)(int a, int b)
{
    return fw_add(a, b) * 3 + fw_add(b, -7);
}

long long HR_MOD(mod_fw_mul)(long long a, long long b)
{
    return fw_mul64(a, b) - fw_mul64(b, 3);
}

const char *HR_MOD(mod_fw_name)(void)
{
    return fw_name;
}

/* ---- a switch dense enough for a jump table ---- */
int HR_MOD(mod_switch)(int x)
{
    switch (x) {
    case 0: return 101;
    case 1: return 207;
    case 2: return 303 + s_seed;
    case 3: return 419;
    case 4: return 523;
    case 5: return fw_add(x, 600);
    case 6: return 733;
    case 7: return 811;
    case 8: return 929;
    case 9: return 1031;
    case 10: return 1153;
    case 11: return (int)HR_MOD(mod_rodata_tab)[4];
    default: return -x;
    }
}

/* ---- a function-pointer table in data ---- */
static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }
static int op_xor(int a, int b) { return a ^ b; }
static int op_chain(int a, int b) { return helper_mul(a, b) + fib(5); }

hr_op_fn HR_MOD(mod_ops)[6] = {op_add, op_sub, op_mul, op_xor, fw_add, op_chain};

int HR_MOD(mod_apply)(int op, int a, int b)
{
    return HR_MOD(mod_ops)[(unsigned)op % 6u](a, b);
}

hr_op_fn HR_MOD(mod_get_op)(int i)
{
    static const hr_op_fn local[4] = {op_xor, op_mul, op_sub, op_add};
    return i < 4 ? local[i & 3] : HR_MOD(mod_ops)[(unsigned)i % 6u];
}

/* ---- pointers to firmware data ---- */
int HR_MOD(mod_sum_fw_table)(void)
{
    int s = 0;
    for (int i = 0; i < 8; i++)
        s += HR_MOD(mod_fw_table_ptr)[i] * (i + 1) + fw_table[7 - i];
    return s;
}

int HR_MOD(mod_bump_fw_counter)(int n)
{
    for (int i = 0; i < n; i++)
        fw_counter++;
    return fw_counter;
}

/* ---- varargs into the firmware ---- */
int HR_MOD(mod_log)(int a, long long b, const char *s, double d)
{
    return fw_log("a=%d b=%lld s=%s w=%s d=%.3f g=%s", a, b, s, s_words[a & 3], d,
                  HR_MOD(mod_greeting));
}

/* ---- 64-bit arithmetic ---- */
uint64_t HR_MOD(mod_mix64)(uint64_t a, uint64_t b)
{
    uint64_t x = a * 0x9e3779b97f4a7c15ull + (b << 17) + (b >> 13);
    x ^= x >> 29;
    x = (x << 23) | (x >> 41);
    return x + a / (b | 1) + a % ((b & 0xffff) | 3);
}

int64_t HR_MOD(mod_div64)(int64_t a, int64_t b)
{
    if (b == 0)
        return -1;
    /* Wrapping (unsigned) arithmetic: no overflow for any input. */
    return (int64_t)((uint64_t)(a / b) * 1000u + (uint64_t)(a % b) + (uint64_t)(a >> 3));
}

/* ---- structs by value ---- */
struct hr_pt HR_MOD(mod_pt_add)(struct hr_pt a, struct hr_pt b)
{
    struct hr_pt r = {a.x + b.x * 2, a.y - b.y};
    return r;
}

struct hr_big HR_MOD(mod_big_make)(long long seed, struct hr_big in)
{
    struct hr_big r = in;
    r.a += seed;
    r.b ^= seed << 8;
    r.c = in.a * in.b - seed;
    memcpy(r.tag, "mod:", 4);
    return r;
}

/* ---- strings ---- */
int HR_MOD(mod_strings)(char *dst, int n)
{
    size_t len = strlen(HR_MOD(mod_greeting));
    memset(dst, '#', (size_t)n);
    if ((size_t)n > len)
        memcpy(dst, HR_MOD(mod_greeting), len + 1);
    return (int)strlen(dst) + (int)strlen(s_words[n & 3]);
}

const char *HR_MOD(mod_greeting_ptr)(void)
{
    return HR_MOD(mod_greeting);
}

/* ---- bss ---- */
int HR_MOD(mod_bss_fill)(int seed)
{
    int s = 0;
    for (int i = 0; i < 16; i++) {
        HR_MOD(mod_bss_arr)[i] += seed * i;
        s += HR_MOD(mod_bss_arr)[i];
    }
    return s;
}
