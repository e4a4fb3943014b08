/* The module gdb follows (tests/gdb/follow_test.py), first shape. The second
 * shape (../v2/counter.c) puts a function where this comment block is, so
 * every function moves while the lines keep their numbers: a breakpoint on
 * counter.c:LINE means the same statement in both. VERSION comes from the
 * build: every image the test loads is a different build.
 *
 *
 *
 */
extern long fw_triple(long x);

long counter_version = VERSION;   /* module globals the test prints */
long counter_total;
static long counter_calls;

long counter_step(long x)
{
    long scaled = x * VERSION;    /* shape one: x times the version */
    counter_calls++;
    counter_total += scaled;
    return scaled + counter_calls;
}

long counter_report(long x)
{
    long tripled = fw_triple(x);
    return tripled + counter_total;   /* follow_test: report line */
}
