/* 64-bit arithmetic: libgcc helpers on 32-bit targets. */
#include <stdint.h>
uint64_t m_udiv(uint64_t a, uint64_t b) { return a / b; }
uint64_t m_umod(uint64_t a, uint64_t b) { return a % b; }
int64_t m_sdiv(int64_t a, int64_t b) { return a / b; }
int64_t m_smod(int64_t a, int64_t b) { return a % b; }
uint64_t m_mul(uint64_t a, uint64_t b) { return a * b; }
uint64_t m_shl(uint64_t a, unsigned s) { return a << (s & 63); }
uint64_t m_shr(uint64_t a, unsigned s) { return a >> (s & 63); }
int64_t m_sar(int64_t a, unsigned s) { return a >> (s & 63); }
uint32_t m_div32(uint32_t a, uint32_t b) { return a / b + a % b; }
int32_t m_sdiv32(int32_t a, int32_t b) { return a / b - a % b; }

static const uint64_t primes[] = {1000000007ULL, 998244353ULL, 0xffffffffffffffc5ULL};

uint64_t m_powmod(uint64_t b, uint64_t e, unsigned which)
{
    uint64_t m = primes[which % 3], r = 1;
    b %= m;
    while (e) {
        if (e & 1)
            r = (uint64_t)((r * b) % m);
        b = (b * b) % m;
        e >>= 1;
    }
    return r;
}

int m_clz(uint64_t x) { return x ? __builtin_clzll(x) : 64; }
