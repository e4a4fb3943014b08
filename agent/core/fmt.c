#include "fmt.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, uint64_t v, unsigned base, bool neg, bool upper, int width,
                    char pad, bool alt)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (neg ? 1 : 0) + (alt ? 2 : 0);
    if (pad == ' ')
        for (; len < width; len++)
            put(o, ' ');
    if (neg)
        put(o, '-');
    if (alt) {
        put(o, '0');
        put(o, upper ? 'X' : 'x');
    }
    for (; len < width; len++)
        put(o, '0');
    while (n)
        put(o, tmp[--n]);
}

size_t hr_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        bool alt = false;
        char pad = ' ';
        int width = 0, lng = 0;
        if (*p == '#') {
            alt = true;
            p++;
        }
        if (*p == '0') {
            pad = '0';
            p++;
        }
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        while (*p == 'l') {
            lng++;
            p++;
        }
        if (*p == 'z') {
            lng = 3;
            p++;
        }
        switch (*p) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            while (*s)
                put(&o, *s++);
            break;
        }
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 'd': {
            int64_t v = lng == 0 ? va_arg(ap, int) : lng == 1 ? va_arg(ap, long)
                      : lng == 2 ? va_arg(ap, long long) : (int64_t)va_arg(ap, ptrdiff_t);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_num(&o, mag, 10, v < 0, false, width, pad, false);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng == 0 ? va_arg(ap, unsigned) : lng == 1 ? va_arg(ap, unsigned long)
                       : lng == 2 ? va_arg(ap, unsigned long long) : va_arg(ap, size_t);
            put_num(&o, v, *p == 'u' ? 10 : 16, false, *p == 'X', width, pad, alt && *p != 'u');
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            put(&o, '%');
            put(&o, *p);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len < size ? o.len : (size ? size - 1 : 0);
}

size_t hr_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = hr_vfmt(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

enum hr_status hr_fail(struct hr_error *err, enum hr_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        hr_vfmt(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}
