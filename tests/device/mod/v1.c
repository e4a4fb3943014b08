/* Test module, version 1. */
#include "hotreload.h"

extern long fw_triple(long x);
extern int fw_scale;
extern int fw_fini_calls;

static long HOTRELOAD_PERSIST kept; /* survives reloads */
static long fresh;                  /* starts over with every load */
long mod_version = VALUE;           /* exported data */

/* Runs when this module is retired (replaced or unloaded). */
__attribute__((destructor)) static void retire(void)
{
    fw_fini_calls++;
}

long mod_value(void)
{
    return VALUE;
}

long mod_calls(void)
{
    kept++;
    fresh++;
    return kept * 1000 + fresh + 0 * fw_triple(fw_scale);
}
