/* The few <string.h> functions the loader core and the runtime use, for
 * targets built without a C library (bare-metal RISC-V, the Xtensa test
 * firmware). memcpy and memset move words where both sides allow it: a load
 * copies and clears every section of the module, four times fewer
 * instructions than a byte loop. gcc may turn a loop back into a call to the
 * function being defined unless told not to (-fno-builtin /
 * -fno-tree-loop-distribute-patterns, which the ports compiling this file
 * pass). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A word that may alias any object, as a C library's own copy loops do. */
typedef uint32_t __attribute__((may_alias)) word;

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((((uintptr_t)d ^ (uintptr_t)s) & 3) == 0) {
        for (; n && ((uintptr_t)d & 3); n--)
            *d++ = *s++;
        for (; n >= 16; n -= 16, d += 16, s += 16) { /* four words a turn */
            word a = ((const word *)s)[0], b = ((const word *)s)[1];
            word c = ((const word *)s)[2], e = ((const word *)s)[3];
            ((word *)d)[0] = a, ((word *)d)[1] = b, ((word *)d)[2] = c, ((word *)d)[3] = e;
        }
        for (; n >= 4; n -= 4, d += 4, s += 4)
            *(word *)d = *(const word *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    for (; n && ((uintptr_t)d & 3); n--)
        *d++ = (unsigned char)c;
    word w = (unsigned char)c * 0x01010101u;
    for (; n >= 16; n -= 16, d += 16)
        ((word *)d)[0] = w, ((word *)d)[1] = w, ((word *)d)[2] = w, ((word *)d)[3] = w;
    for (; n >= 4; n -= 4, d += 4)
        *(word *)d = w;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

void *memchr(const void *p, int c, size_t n)
{
    const unsigned char *s = p;
    for (; n; n--, s++)
        if (*s == (unsigned char)c)
            return (void *)s;
    return NULL;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

size_t strcspn(const char *s, const char *reject)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (strchr(reject, s[n]))
            break;
    return n;
}
