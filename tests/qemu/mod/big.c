/* The example's module with 90 KB of constants: a large push over HTTP,
 * three in a row (http_test.py; scripts/bench qemu_http_push_90k). */
#include "greet.h"
#include "hotreload.h"

static unsigned HOTRELOAD_PERSIST count;
static const unsigned char bulk[90 * 1024] = {'B', 'i', 'g', 0};

const char *greeting(void)
{
    return (const char *)bulk;
}

int arithmetic(int a, int b)
{
    return a * b + bulk[sizeof bulk - 1];
}

unsigned counter_next(void)
{
    return ++count;
}
