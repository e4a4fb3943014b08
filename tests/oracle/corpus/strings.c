/* String literals, string tables, char arrays. */
#include <stddef.h>
extern int fw_puts(const char *s);
extern size_t fw_strlen(const char *s);
extern void *fw_memcpy(void *d, const void *s, size_t n);

static const char *const names[] = {"zero", "one", "two", "three", "four", "five", "six"};
const char greeting[] = "hello, module world";
static char scratch[64] = "scratch";
const char *g_msg = "a pointer in data";

const char *strings_name(unsigned i) { return i < 7 ? names[i] : "many"; }

size_t strings_run(void)
{
    size_t n = 0;
    for (unsigned i = 0; i < 8; i++)
        n += fw_strlen(strings_name(i));
    fw_puts(greeting);
    fw_puts("world");
    fw_puts(g_msg);
    fw_memcpy(scratch, "copied", 7);
    fw_puts(scratch);
    return n + fw_strlen("this is a longer string literal used once\n");
}

int strings_cmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}
