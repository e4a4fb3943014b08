/* Small scalars that RISC-V puts in .sdata/.sbss/.srodata, read and written often. */
#include <stdint.h>
char sd_c = 'x';
short sd_s = -7;
int sd_i = 100;
static int sd_static = 9;
long sd_l;
static uint8_t sd_flags;
const int sd_ro = 1234;
static const int64_t sd_ro64 = 0x0123456789abcdefLL;
float sd_f = 2.5f;
extern int fw_small_val;
extern uint8_t fw_small_flag;

int sd_tick(int d)
{
    sd_c++;
    sd_s = (short)(sd_s + d);
    sd_i += d * sd_ro;
    sd_static ^= d;
    sd_l += sd_static;
    sd_flags |= (uint8_t)(1u << (d & 7));
    fw_small_flag = sd_flags;
    fw_small_val += (int)sd_ro64;
    return sd_i + sd_flags + fw_small_val;
}

int *sd_addr(int k) { return k ? &sd_i : &sd_static; }
