/* Source of the loader's seed modules (make_corpus.py compiles it for every
 * architecture): a little of everything a relocator sees -- calls into the
 * firmware, a weak import the firmware lacks, data and rodata referring to
 * code and to each other, a jump table, 64-bit arithmetic, small data, a
 * persistent variable, a constructor and a destructor. Never executed. */
#define PERSIST __attribute__((section(".hotreload.persist"), used))

extern int fw_log(const char *fmt, ...);
extern long fw_triple(long x);
extern int fw_scale;
extern void missing_hook(int) __attribute__((weak));

struct op {
    const char *name;
    long (*fn)(long, long);
};

static long PERSIST kept;
static long counter;
static char scratch[64];
short small_table[4] = {1, 2, 3, 4};

static long op_add(long a, long b) { return a + b; }
static long op_mul(long a, long b) { return a * b; }
static long op_fw(long a, long b) { return fw_triple(a) - b * fw_scale; }

const struct op ops[] = {{"add", op_add}, {"mul", op_mul}, {"fw", op_fw}};
const struct op *const first_op = &ops[0];
long (*hook)(long, long) = op_fw;

long mod_apply(unsigned i, long a, long b)
{
    counter++;
    return ops[i % 3].fn(a, b) + small_table[i & 3];
}

int mod_classify(int x)
{
    switch (x) {
    case 0: return 10;
    case 1: return fw_log("one");
    case 2: return 31;
    case 3: return (int)kept;
    case 4: return 57;
    case 5: return scratch[x];
    case 6: return 91;
    default: return -1;
    }
}

unsigned long long mod_mix(unsigned long long a, unsigned long long b)
{
    return a / (b | 1) + (a << 7) % 1000003u;
}

const char *mod_name(unsigned i)
{
    if (missing_hook)
        missing_hook((int)i);
    return ops[i % 3].name;
}

__attribute__((constructor)) static void start(void)
{
    kept++;
    fw_log("module %s starts, %ld\n", first_op->name, hook(1, 2));
}

__attribute__((destructor)) static void stop(void)
{
    fw_log("stops after %ld calls\n", counter);
}
