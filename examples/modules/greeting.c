/* A tiny module to try `hotd relocate` on (see examples/README.md). */
extern int printf(const char *fmt, ...);
extern unsigned fw_ticks;

static unsigned calls;

const char *greeting(void)
{
    return "hello from the module";
}

unsigned greet(const char *who)
{
    calls++;
    printf("%s, %s (tick %u)\n", greeting(), who, fw_ticks);
    return calls;
}
