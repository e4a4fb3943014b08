/* Error messages without libc's stdio: the core also runs freestanding. */
#ifndef HR_FMT_H
#define HR_FMT_H

#include <stdarg.h>
#include <stddef.h>

#include "hotreload/loader.h"

/* A small vsnprintf: %s %c %d %u %x %X with l/ll/z modifiers, '#' and
 * zero-padded widths. Always NUL-terminates; returns the length written. */
size_t hr_vfmt(char *buf, size_t size, const char *fmt, va_list ap);
size_t hr_fmt(char *buf, size_t size, const char *fmt, ...);

/* Fill `err` (if not NULL) and return `status`. */
enum hr_status hr_fail(struct hr_error *err, enum hr_status status, const char *fmt, ...);

#endif
