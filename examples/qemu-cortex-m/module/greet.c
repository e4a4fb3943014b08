/* The reloadable library. Edit it while the firmware runs in QEMU, rebuild,
 * push: the firmware prints the new behaviour on its UART. */
#include "greet.h"
#include "hotreload.h"

/* Kept across reloads: the count goes on where the previous version was. */
static unsigned HOTRELOAD_PERSIST count;

const char *greeting(void)
{
    return "Hello from the Cortex-M module";
}

int arithmetic(int a, int b)
{
    return a + b;
}

unsigned counter_next(void)
{
    return ++count;
}
