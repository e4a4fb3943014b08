/* hotd console's completion (readline): the first word is one of the
 * device's commands (or the console's own), later words the module's
 * symbol names, as the last `symbols` answer gave them. */
#define _GNU_SOURCE
#include "console_complete.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

static const char *const commands[] = {"help", "status", "reload", "unload", "symbols",
                                       "confirm", "nonce", "push", "quit", NULL};
static char *const *names;
static size_t nnames;
static bool completing_command;

void console_complete_names(char *const *syms, size_t n)
{
    names = syms;
    nnames = n;
}

static char *complete_name(const char *text, int state)
{
    static size_t i;
    const char *const *v = completing_command ? commands : (const char *const *)names;
    size_t n = completing_command ? sizeof commands / sizeof *commands - 1 : nnames;
    if (!state)
        i = 0;
    for (size_t len = strlen(text); i < n; i++)
        if (!strncmp(v[i], text, len))
            return strdup(v[i++]);
    return NULL;
}

char **console_complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    completing_command = start == 0;
    return rl_completion_matches(text, complete_name);
}
