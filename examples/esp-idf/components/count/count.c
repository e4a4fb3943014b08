#include "count.h"
#include "hotreload.h"

/* Kept across reloads: copied into the new module. */
static int total HOTRELOAD_PERSIST;

int count_next(void)
{
    total += 1;
    return total;
}
