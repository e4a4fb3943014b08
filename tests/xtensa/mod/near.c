/* Built without -mlongcalls: calls between these functions stay direct
 * CALL0s, each in its own section (-ffunction-sections), so every one is a
 * SLOT0_OP relocation the loader applies. They only reach module code: the
 * firmware lies beyond CALL0's 512 KiB. */
#include "calc.h"

int32_t near_step(int32_t x);
int32_t near_twice(int32_t x);

/* A module global read through an L32R literal. */
int32_t near_bias = 7;

__attribute__((noinline)) int32_t near_step(int32_t x)
{
    return x * 3 + near_bias;
}

__attribute__((noinline)) int32_t near_twice(int32_t x)
{
    return near_step(near_step(x)) + 1;
}

int32_t calc_near(int32_t x)
{
    return near_twice(x) - near_step(x);
}
