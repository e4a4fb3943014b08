/* The function the stub benchmark calls: built as the module (called through
 * the stub `hotd stubs` generates) and, renamed, into the firmware (called
 * directly). Tiny on purpose: what is left to measure is the call itself. */
#ifndef STUB_TARGET
#define STUB_TARGET bench_stub_target
#endif

long STUB_TARGET(long x);
__attribute__((noinline)) long STUB_TARGET(long x)
{
    return x * 3 + 1;
}
