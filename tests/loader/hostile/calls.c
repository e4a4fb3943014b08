/* A small module for the hostile-input test: calls (local and into the
 * firmware), a switch, a function-pointer table, strings. Compiled for every
 * architecture the toolchains allow; never executed. */
extern int fw_add(int a, int b);
extern int fw_log(const char *fmt, ...);
extern volatile int fw_counter;

int mod_entry(int x);
int mod_dispatch(int op, int a, int b);
int mod_classify(int x);

static int twice(int x) { return x * 2 + fw_counter; }
static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }

int (*mod_ops[])(int, int) = {op_add, op_sub, op_mul, fw_add};

int mod_dispatch(int op, int a, int b)
{
    return mod_ops[(unsigned)op % 4u](a, b);
}

int mod_classify(int x)
{
    switch (x) {
    case 0: return 11;
    case 1: return fw_add(x, 3);
    case 2: return 17;
    case 3: return twice(x);
    case 4: return 23;
    case 5: return 29;
    case 6: return fw_log("six");
    case 7: return 37;
    default: return -1;
    }
}

int mod_entry(int x)
{
    fw_counter++;
    fw_log("entry %d: %s\n", x, "hostile");
    return twice(fw_add(x, 1)) + mod_classify(x & 7);
}
