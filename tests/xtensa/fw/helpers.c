/* Integer helpers GCC calls on lx106 (no divide instruction, no 32x32->64
 * multiply) that Debian's lx106 libgcc lacks. The loader core needs some,
 * and modules import them from the firmware like any other function.
 * Plain shift-and-subtract: nothing here is on a hot path. Each works in
 * 32-bit pieces so GCC never turns it into a call to itself. */
#include <stdint.h>

uint32_t __udivsi3(uint32_t n, uint32_t d);
uint32_t __umodsi3(uint32_t n, uint32_t d);
int32_t __divsi3(int32_t n, int32_t d);
uint64_t __muldi3(uint64_t a, uint64_t b);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);

/* Division by zero returns all ones, as no caller here divides by zero. */
static uint32_t udivmod32(uint32_t n, uint32_t d, uint32_t *rem)
{
    uint32_t q = 0, r = 0;
    if (d == 0) {
        *rem = n;
        return UINT32_MAX;
    }
    for (int i = 31; i >= 0; i--) {
        r = r << 1 | (n >> i & 1);
        if (r >= d) {
            r -= d;
            q |= 1u << i;
        }
    }
    *rem = r;
    return q;
}

static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
    uint64_t q = 0, r = 0;
    if (d == 0) {
        *rem = n;
        return UINT64_MAX;
    }
    for (int i = 63; i >= 0; i--) {
        r = r << 1 | (n >> i & 1);
        if (r >= d) {
            r -= d;
            q |= (uint64_t)1 << i;
        }
    }
    *rem = r;
    return q;
}

uint32_t __udivsi3(uint32_t n, uint32_t d)
{
    uint32_t r;
    return udivmod32(n, d, &r);
}

uint32_t __umodsi3(uint32_t n, uint32_t d)
{
    uint32_t r;
    udivmod32(n, d, &r);
    return r;
}

/* C division truncates toward zero: divide magnitudes, then fix the sign. */
int32_t __divsi3(int32_t n, int32_t d)
{
    uint32_t r, un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
    uint32_t ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    uint32_t q = udivmod32(un, ud, &r);
    return (int32_t)((n < 0) != (d < 0) ? 0u - q : q);
}

/* 16x16 products fit 32 bits, so MULL alone builds the 64-bit product. */
static uint64_t mul32x32(uint32_t a, uint32_t b)
{
    uint32_t al = a & 0xffff, ah = a >> 16, bl = b & 0xffff, bh = b >> 16;
    uint32_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint32_t mid = (ll >> 16) + (lh & 0xffff) + (hl & 0xffff);
    uint32_t lo = (ll & 0xffff) | mid << 16;
    uint32_t hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
    return (uint64_t)hi << 32 | lo;
}

/* The low 64 bits of a product are the same signed or unsigned. */
uint64_t __muldi3(uint64_t a, uint64_t b)
{
    uint32_t alo = (uint32_t)a, ahi = (uint32_t)(a >> 32);
    uint32_t blo = (uint32_t)b, bhi = (uint32_t)(b >> 32);
    uint64_t p = mul32x32(alo, blo);
    uint32_t hi = (uint32_t)(p >> 32) + alo * bhi + ahi * blo;
    return (uint64_t)hi << 32 | (uint32_t)p;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
    uint64_t r;
    return udivmod64(n, d, &r);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
    uint64_t r;
    udivmod64(n, d, &r);
    return r;
}

static uint64_t mag64(int64_t v)
{
    return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

int64_t __divdi3(int64_t n, int64_t d)
{
    uint64_t r, q = udivmod64(mag64(n), mag64(d), &r);
    return (int64_t)((n < 0) != (d < 0) ? 0 - q : q);
}

/* The remainder takes the dividend's sign. */
int64_t __moddi3(int64_t n, int64_t d)
{
    uint64_t r;
    udivmod64(mag64(n), mag64(d), &r);
    return (int64_t)(n < 0 ? 0 - r : r);
}
