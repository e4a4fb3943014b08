/* The stub torture module: every function is reached through a stub, and
 * each one's result depends on every argument, so one disturbed register
 * or stack slot shows. Freestanding: no libc. */
#include <stdarg.h>
#include <stdint.h>

#include "torture.h"

/* Each argument weighted by its position: a swap or a shift changes the sum. */
long TNAME(t_sum10)(long a0, long a1, long a2, long a3, long a4, long a5, long a6, long a7,
                    long a8, long a9)
{
    return a0 * 1 + a1 * 3 + a2 * 5 + a3 * 7 + a4 * 11 + a5 * 13 + a6 * 17 + a7 * 19 +
           a8 * 23 + a9 * 29;
}

/* More doubles than x86-64 has argument xmm registers, more ints than
 * integer argument registers: both spill to the stack, interleaved. */
double TNAME(t_mixed)(int i0, double d0, int i1, double d1, int i2, double d2, int i3,
                      double d3, int i4, double d4, int i5, double d5, int i6, double d6,
                      int i7, double d7, float f8, double d9)
{
    double s = 0;
    s += i0 * 1.0 + d0 * 2.0 + i1 * 3.0 + d1 * 4.0 + i2 * 5.0 + d2 * 6.0;
    s += i3 * 7.0 + d3 * 8.0 + i4 * 9.0 + d4 * 10.0 + i5 * 11.0 + d5 * 12.0;
    s += i6 * 13.0 + d6 * 14.0 + i7 * 15.0 + d7 * 16.0 + (double)f8 * 17.0 + d9 * 18.0;
    return s;
}

/* A printf-like walk: %d int, %l long, %u uint64_t, %f double, %s string;
 * anything else counts as a literal character. */
int TNAME(t_sum_fmt)(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uint32_t h = 2166136261u, k = 1;
    for (const char *p = fmt; *p; p++, k++) {
        uint64_t v;
        if (*p != '%' || !p[1]) {
            v = (unsigned char)*p;
        } else {
            switch (*++p) {
            case 'd': v = (uint64_t)(int64_t)va_arg(ap, int); break;
            case 'l': v = (uint64_t)va_arg(ap, long); break;
            case 'u': v = va_arg(ap, uint64_t); break;
            case 'f': v = (uint64_t)(int64_t)(va_arg(ap, double) * 1000.0); break;
            case 's':
                v = 0;
                for (const char *s = va_arg(ap, const char *); *s; s++)
                    v = v * 31 + (unsigned char)*s;
                break;
            default: v = (unsigned char)*p; break;
            }
        }
        h = (h ^ (uint32_t)v ^ (uint32_t)(v >> 32)) * 16777619u + k;
    }
    va_end(ap);
    return (int)(h & 0x7fffffff);
}

struct t_big TNAME(t_big_make)(int64_t seed, int32_t b, double c)
{
    struct t_big r = {seed * 3 + 1, b ^ 0x5a5a, c * 0.5 + 1.0, seed - b};
    return r;
}

struct t_small TNAME(t_small_make)(int32_t x, int32_t y)
{
    struct t_small r = {x * 7 - y, y * 5 + x};
    return r;
}

/* Both halves of a 64-bit result must survive (a0:a1 on rv32, edx:eax never). */
uint64_t TNAME(t_u64)(uint32_t hi, uint32_t lo, unsigned shift)
{
    uint64_t v = ((uint64_t)hi << 32) | lo;
    return (v << (shift & 31)) ^ (v >> (shift & 15)) ^ 0x8000000000000001ull;
}

/* Back into the firmware, and on. */
int TNAME(t_callback)(int x)
{
    return fw_callback(x + 1) * 2 + 1;
}

static long op_add(long a, long b) { return a + b * 2; }
static long op_mul(long a, long b) { return a * b - 3; }

/* A pointer to module code, called by the firmware without any stub. */
t_op_fn TNAME(t_get_op)(int which)
{
    return which ? op_mul : op_add;
}

/* The firmware checks that this return address lies in the function that
 * called through the stub: a stub that called instead of jumping, or that
 * pushed anything, would show here. */
int TNAME(t_where)(void)
{
    return fw_check_return(__builtin_return_address(0));
}
