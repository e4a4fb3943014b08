/* The calc module, versions 1 and 2 (CALC_VERSION): the same functions with
 * other results, as an edited and rebuilt module would be. Built with
 * -mlongcalls: calls to the firmware and across sections go through L32R
 * literals (R_XTENSA_32 in .literal, SLOT0_OP on the L32R, ASM_EXPAND on
 * the CALLX0). */
#include <stdarg.h>

#include "calc.h"

#ifndef CALC_VERSION
#define CALC_VERSION 1
#endif

/* Initialised data, bss and constant tables: the module's own memory. */
static int32_t total = 100 * CALC_VERSION;
static int32_t calls;
static const int32_t primes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53};
static const char *const names[] = {"calc v1", "calc v2"};

int32_t calc_version(void)
{
    return CALC_VERSION;
}

/* a2..a7 in registers, a8..a9 (here: a6..a9) on the caller's stack. */
int32_t calc_sum10(int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5,
                   int32_t a6, int32_t a7, int32_t a8, int32_t a9)
{
    int32_t w = CALC_VERSION == 1 ? 1 : -1;
    return a0 + 2 * a1 + 3 * a2 + 4 * a3 + 5 * a4 + 6 * a5 + 7 * a6 + 8 * a7 + 9 * a8 +
           w * 10 * a9;
}

/* 64-bit arguments take even register pairs and 8-byte stack slots; the
 * result comes back in a2:a3. Half the work is the firmware's (fw_wide),
 * reached with the same kind of argument list. */
int64_t calc_mix(int8_t a, int64_t b, int32_t c, int64_t d, int16_t e, int64_t f)
{
    int64_t mine = (int64_t)a * 1000000007LL + (b ^ d) - (int64_t)c * e + (f >> 3);
    return mine + CALC_VERSION * fw_wide(a, b, c, d, e, f);
}

/* 64-bit multiply and divide: __muldi3 and __udivdi3 come from the
 * firmware (lx106 has no 64-bit helpers in Debian's libgcc). */
uint64_t calc_muldiv(uint64_t a, uint32_t b, uint32_t c)
{
    return a * b / c + CALC_VERSION - 1;
}

int32_t calc_vsum(int32_t n, ...)
{
    va_list ap;
    int32_t s = 0;
    va_start(ap, n);
    for (int32_t i = 0; i < n; i++)
        s += (i + CALC_VERSION) * va_arg(ap, int32_t);
    va_end(ap);
    return s;
}

struct calc_quad calc_quad(int32_t x)
{
    struct calc_quad q = {x, x * CALC_VERSION, -x, x ^ 0x5a5a};
    return q;
}

struct calc_big calc_big(int32_t seed)
{
    struct calc_big b;
    for (int i = 0; i < 7; i++)
        b.v[i] = seed * (i + 1) + primes[i + CALC_VERSION];
    return b;
}

/* Module code the firmware only reaches through a pointer. */
static int32_t op_sub(int32_t a, int32_t b)
{
    return a - b;
}

static int32_t op_mulmix(int32_t a, int32_t b)
{
    return a * b + CALC_VERSION;
}

/* Function pointers in initialised data: R_XTENSA_32 against .text. */
static calc_op const ops[] = {op_sub, op_mulmix};
static calc_op hook = op_mulmix;

int32_t calc_callback(int32_t x)
{
    calls++;
    /* Into the firmware, which calls back into the module. */
    int32_t r = fw_scale(x) + fw_apply(hook, x, 3);
#if CALC_VERSION == 2
    fw_note("calc_callback", r);
#endif
    return r;
}

calc_op calc_get_op(int32_t which)
{
    return which >= 0 && which < 2 ? ops[which] : 0;
}

int32_t calc_count(int32_t step)
{
    total += step;
    return total * 1000 + calls;
}

int32_t calc_table(uint32_t i)
{
    return primes[i % 16] * (CALC_VERSION == 1 ? 1 : primes[i % 16]);
}

/* Every case computes something else: a jump table, code addresses in
 * .rodata (R_XTENSA_32 against .text). */
int32_t calc_switch(int32_t x, int32_t y)
{
    switch (x) {
    case 0: return y * 11 + CALC_VERSION;
    case 1: return y - 23;
    case 2: return y ^ 0x3700;
    case 3: return (y << 3) + CALC_VERSION;
    case 4: return -y;
    case 5: return y / 7;
    case 6: return y >> 2;
    case 7: return y * y * CALC_VERSION;
    default: return -1;
    }
}

__attribute__((noinline)) void *calc_caller(void)
{
    return __builtin_return_address(0);
}

const char *calc_name(void)
{
    return names[CALC_VERSION - 1];
}
