/* The reloadable library. Edit it while the simulated device runs: the
 * device prints the new behaviour after the next push. */
#include "greet.h"
#include "hotreload.h"

/* Kept across reloads: the count goes on where the previous version was. */
static unsigned HOTRELOAD_PERSIST count;

const char *greeting(void)
{
    return "Hello from the module";
}

int arithmetic(int a, int b)
{
    return a + b;
}

unsigned counter_next(void)
{
    return ++count;
}
