/* A module that traps while it is constructed, KIND saying how:
 * 1 a store through NULL in a constructor (SIGSEGV), 2 an undefined
 * instruction in a constructor (SIGILL), 3 a division by zero in
 * .preinit_array (SIGFPE). The reload must fail; the old module stays. */
static volatile long *volatile nowhere;
static volatile int one = 1, zero;
volatile int trap_sink;

static void trap(void)
{
#if KIND == 1
    *nowhere = 1;
#elif KIND == 2
    __builtin_trap();
#else
    trap_sink = one / zero; /* not 1 / zero: GCC folds that into a compare */
#endif
}

#if KIND == 3
__attribute__((used, section(".preinit_array"))) static void (*const pre)(void) = trap;
#else
__attribute__((constructor)) static void ctor(void) { trap(); }
#endif

long mod_value(void) { return 90 + KIND; }
long mod_calls(void) { return 0; }
