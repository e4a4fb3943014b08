/* The module the transport seeds upload (make_corpus.py). The fuzzing device
 * is the fuzz target's own process (x86-64, the posix port), which resolves
 * a module's imports among its own symbols, so this imports only the C
 * library. Uploads are only trial-loaded: it never runs. */
#include <stddef.h>

size_t strlen(const char *s);

static char greeting[32] = "hello from the module";
static long calls __attribute__((section(".hotreload.persist"), used));
const int mod_table[4] = {2, 3, 5, 7};

long mod_value(int i)
{
    calls++;
    return (long)strlen(greeting) * mod_table[i & 3] + calls;
}
