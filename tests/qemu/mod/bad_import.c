/* Imports a function the firmware does not have: the device cannot
 * resolve it and refuses the module at upload. */
#include "greet.h"

int fw_missing_function(int x);

const char *greeting(void)
{
    return "bad import";
}

int arithmetic(int a, int b)
{
    return fw_missing_function(a + b);
}

unsigned counter_next(void)
{
    return 0;
}
