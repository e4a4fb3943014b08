/* Varargs: a module function taking `...`, passing va_list to the firmware. */
#include <stdarg.h>
#include <stdint.h>
extern int fw_vprintf(const char *fmt, va_list ap);
extern int fw_vsnprintf(char *buf, unsigned n, const char *fmt, va_list ap);
extern void fw_write(const char *s, unsigned n);

static char line[128];

int va_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fw_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int va_format(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = fw_vsnprintf(line, sizeof line, fmt, ap);
    fw_write(line, (unsigned)n);
    n += fw_vprintf(fmt, ap2);
    va_end(ap2);
    va_end(ap);
    return n;
}

int64_t va_sum(int count, ...)
{
    va_list ap;
    int64_t s = 0;
    va_start(ap, count);
    for (int i = 0; i < count; i++)
        s += i & 1 ? va_arg(ap, int64_t) : va_arg(ap, int);
    va_end(ap);
    return s;
}

int va_demo(void)
{
    return va_log("%d %s %ld\n", 1, "two", 3L) + (int)va_sum(4, 1, (int64_t)2, 3, (int64_t)4) +
           va_format("%u-%x", 7u, 0xbeefu);
}
