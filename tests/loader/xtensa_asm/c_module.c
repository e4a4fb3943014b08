/* A C module as gcc builds it: literal pools (L32R), long calls (ASM_EXPAND),
 * local branches and jumps, data pointers (R_XTENSA_32), switch tables.
 * Imports sit in the ESP8266 flash window, as firmware functions would. */
/* hr-args: --sym ext_var=0x3ffe9000 --sym ext_fn=0x40210000 --sym ext_arr=0x3ffe9100 */
/* hr-case: O0 -O0 */
/* hr-case: Os -Os */
/* hr-case: text_literals -O2 -mtext-section-literals */
/* hr-case: sections -O2 -ffunction-sections -fdata-sections */
/* hr-case: pic -O2 -fPIC */
/* hr-case: debug -Os -g */
/* hr-case: call0 -O2 -mno-longcalls --sym ext_fn=0x40104000 */
/* hr-case: call0_far -O2 -mno-longcalls !error -mlongcalls */
extern int ext_var;
extern int ext_arr[];
extern int ext_fn(int);
static int counter = 5;
const char *const names[] = {"zero", "one", "two"};
int table[4] = {1, 2, 3, 4};
int *ptrs[3] = {&table[1], &ext_var, &ext_arr[7]};
static const char *(*hook)(int);

static __attribute__((noinline)) int helper(int x) { return x * 3 + counter; }

static const char *name_of(int i) { return i >= 0 && i < 3 ? names[i] : "many"; }

int pick(int k)
{
    switch (k) {
    case 0: return ext_fn(1);
    case 1: return helper(k) + 7;
    case 2: return table[3] * 9;
    case 3: return ext_var - 4;
    case 4: return *ptrs[2] + 1;
    case 5: return (int)(long)name_of(k);
    case 6: return counter << 3;
    default: return -1;
    }
}

int mod_fn(int a)
{
    counter++;
    hook = name_of;
    for (int i = 0; i < a; i++)
        table[i & 3] += ext_fn(i) + helper(i) + pick(i);
    return ext_var + table[a & 3] + hook(a)[0] + ext_arr[a];
}
