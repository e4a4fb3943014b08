/* The example's module, edited: new text, new arithmetic, the same
 * persistent counter (so the count goes on across the reload). */
#include "greet.h"
#include "hotreload.h"

static unsigned HOTRELOAD_PERSIST count;

const char *greeting(void)
{
    return "Edited while running";
}

int arithmetic(int a, int b)
{
    return a * b;
}

unsigned counter_next(void)
{
    return ++count;
}
