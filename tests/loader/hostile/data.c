/* A small module for the hostile-input test: data in every region kind
 * (data, bss, rodata), pointers between them and into the firmware, 64-bit
 * arithmetic. Compiled for every architecture; never executed. */
extern const int fw_table[8];
extern int fw_add(int a, int b);

struct rec {
    const char *name;
    const int *ptr;
    long long big;
};

long long mod_mix(long long a, long long b);
int mod_sum(void);
const char *mod_name(unsigned i);

static int counter = 42;
static int scratch[64];
const int *mod_fw_table = fw_table;
static const char *const names[] = {"alpha", "beta", "gamma", "delta"};
struct rec mod_recs[2] = {
    {"first", &counter, 0x123456789abcdefLL},
    {"second", scratch + 3, -7},
};
long long mod_acc;

long long mod_mix(long long a, long long b)
{
    mod_acc += a * b + (a / (b | 1)) + (a % (b | 1));
    return mod_acc ^ (long long)((unsigned long long)a >> 7);
}

int mod_sum(void)
{
    int s = counter;
    for (int i = 0; i < 8; i++)
        s = fw_add(s, mod_fw_table[i]) + scratch[i];
    scratch[s & 63] = s;
    return s + *mod_recs[1].ptr;
}

const char *mod_name(unsigned i)
{
    return names[i & 3];
}
