/* Loads, but its constructor executes an illegal instruction: the reload
 * fails under the trap guard and the running module stays. */
#include "greet.h"

__attribute__((constructor)) static void init(void)
{
#if defined(__thumb__)
    __asm__ volatile("udf #0"); /* permanently undefined */
#else
    __asm__ volatile(".word 0"); /* all-zero: an illegal instruction */
#endif
}

const char *greeting(void)
{
    return "bad constructor";
}

int arithmetic(int a, int b)
{
    return a - b;
}

unsigned counter_next(void)
{
    return 0;
}
