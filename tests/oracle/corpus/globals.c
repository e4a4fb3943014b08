/* Globals and statics in data, bss, rodata and small data. */
#include <stdint.h>
int g_counter = 5;
int g_zero;
uint8_t g_small = 3;
uint16_t g_half;
static int s_state = 42;
static int s_bss;
static char s_buf[256];
long g_big[64] = {1, 2, 3};
const int g_ro[8] = {10, 20, 30, 40, 50, 60, 70, 80};
static const short s_ro[5] = {-1, -2, -3, -4, -5};
int64_t g_wide = 0x1122334455667788LL;
volatile int g_flag;

int globals_step(int i)
{
    static int calls;
    calls++;
    g_counter += g_ro[i & 7] + s_ro[i % 5];
    g_zero ^= i;
    g_small++;
    g_half = (uint16_t)(g_half + g_small);
    s_state = s_state * 3 + 1;
    s_bss += s_state;
    s_buf[i & 255] = (char)i;
    g_big[i & 63] += g_wide;
    g_flag = 1;
    return g_counter + g_zero + s_bss + s_buf[(i + 1) & 255] + calls;
}

int *globals_addr(int which)
{
    static int *const tab[] = {&g_counter, &g_zero, &s_state, &s_bss};
    return tab[which & 3];
}
