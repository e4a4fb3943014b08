/* Its constructor traps: the reload must fail and the old module stay. */
static volatile long *volatile nowhere;
__attribute__((constructor)) static void boom(void) { *nowhere = 1; }
long mod_value(void) { return 99; }
long mod_calls(void) { return 0; }
