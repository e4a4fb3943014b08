/* Test module v1.c with a function in front of it: every function of v1.c
 * lands at another offset than in v1 (hotd console's test decodes their
 * addresses after a reload that moved them). */
__attribute__((used, noinline)) static long moved_padding(long x)
{
    long s = 0;
    for (long i = 0; i < x; i++)
        s += i * i ^ (s >> 3);
    return s;
}

#include "v1.c"
