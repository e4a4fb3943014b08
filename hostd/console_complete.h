/* hotd console's readline completion (console_complete.c). */
#ifndef HOTD_CONSOLE_COMPLETE_H
#define HOTD_CONSOLE_COMPLETE_H

#include <stdbool.h>
#include <stddef.h>

/* The module's symbol names to complete from (kept by the caller). */
void console_complete_names(char *const *syms, size_t n);
/* readline's attempted-completion function. */
char **console_complete(const char *text, int start, int end);

#endif
