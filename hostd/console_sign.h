/* hotd console's signing of reload, unload and confirm (console_sign.c). */
#ifndef HOTD_CONSOLE_SIGN_H
#define HOTD_CONSOLE_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"

struct console_sign {
    struct hotd_key key; /* BUILD/hotreload.key */
    bool have_key;
    char *pending;       /* the typed command waiting for the nonce */
};

void console_sign_init(struct console_sign *s, const char *build);
/* A typed line that must be signed first: kept (true), and the caller asks
 * for the nonce. False: send it as it is. */
bool console_sign_hold(struct console_sign *s, const char *line);
/* The nonce's answer: the kept command signed into out (0), or why not (-1). */
int console_sign_release(struct console_sign *s, const char *answer, char *out, size_t size);

#endif
