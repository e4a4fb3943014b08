/* Semihosting on QEMU's Xtensa "sim" machine (-semihosting): SIMCALL with
 * the call number in a2 and arguments in a3..a5; the result comes back in
 * a2, an errno in a3. The numbers are those of the Tensilica ISS, which
 * QEMU follows. */
#include "sim.h"

#include <stdarg.h>
#include <stdint.h>

#include "fmt.h"

enum { SYS_EXIT = 1, SYS_WRITE = 4 };

static int32_t simcall(int32_t nr, int32_t a, int32_t b, int32_t c)
{
    register int32_t r2 __asm__("a2") = nr;
    register int32_t r3 __asm__("a3") = a;
    register int32_t r4 __asm__("a4") = b;
    register int32_t r5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(r2), "+r"(r3) : "r"(r4), "r"(r5) : "memory");
    return r2;
}

void sim_write(const char *buf, size_t len)
{
    while (len > 0) {
        int32_t n = simcall(SYS_WRITE, 1, (int32_t)(uintptr_t)buf, (int32_t)len);
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

void say(const char *fmt, ...)
{
    char line[320];
    va_list ap;
    va_start(ap, fmt);
    size_t n = hr_vfmt(line, sizeof line, fmt, ap);
    va_end(ap);
    sim_write(line, n < sizeof line ? n : sizeof line - 1);
}

void sim_exit(int status)
{
    simcall(SYS_EXIT, status, 0, 0);
    for (;;)
        ;
}
