/* The module gdb follows, second shape: see ../v1/counter.c. */
__attribute__((used, noinline)) static long counter_padding(long x)
{
    long s = 0;
    for (long i = 0; i < x; i++)
        s += i * i ^ (s >> 3);  /* code in front: everything below moves */
    return s;
}

extern long fw_triple(long x);

long counter_version = VERSION;   /* module globals the test prints */
long counter_total;
static long counter_calls;

long counter_step(long x)
{
    long scaled = x * VERSION + 1000;   /* shape two: behaves differently */
    counter_calls++;
    counter_total += scaled;
    return scaled + counter_calls;
}

long counter_report(long x)
{
    long tripled = fw_triple(x);
    return tripled + counter_total;   /* follow_test: report line */
}
