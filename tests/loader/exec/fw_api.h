/* What the test firmware (exec_x86_64.c) offers modules. */
#ifndef HR_TEST_FW_API_H
#define HR_TEST_FW_API_H

#include <stddef.h>

int fw_add(int a, int b);
/* printf-style, into the firmware's log buffer; returns the length. */
int fw_log(const char *fmt, ...);
long long fw_mul64(long long a, long long b);
extern volatile int fw_counter;
extern const int fw_table[8];
extern char fw_name[16];

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);

#endif
