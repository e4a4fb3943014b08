/* hotd console signs what the user types that changes what runs (reload,
 * unload, confirm): the device takes them only signed, like an upload
 * (docs/serial.md). The command waits while the console asks the device
 * for its nonce, then goes out signed. */
#define _GNU_SOURCE
#include "console_sign.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void console_sign_init(struct console_sign *s, const char *build)
{
    char msg[256];
    memset(s, 0, sizeof *s);
    s->have_key = hotd_load_key(build, &s->key, msg, sizeof msg) == 0;
}

bool console_sign_hold(struct console_sign *s, const char *line)
{
    static const char *const changing[] = {"reload", "unload", "confirm"};
    size_t w = strcspn(line, " \t");
    bool change = false;
    for (size_t i = 0; i < 3; i++)
        change |= strlen(changing[i]) == w && !strncmp(line, changing[i], w);
    /* Without the build's key, or signed already: as typed (the device says
     * what is wrong). One at a time: the nonce answers in order. */
    if (!change || !s->have_key || strstr(line, " HR1 ") || s->pending)
        return false;
    s->pending = strdup(line);
    return s->pending != NULL;
}

int console_sign_release(struct console_sign *s, const char *answer, char *out, size_t size)
{
    char nonce[64];
    uint64_t last, used;
    int rc = -1;
    if (sscanf(answer, "ok %63s %" SCNu64, nonce, &last) != 2)
        snprintf(out, size, "the device's nonce answer '%.80s' is not 'ok NONCE COUNTER'", answer);
    else
        rc = hotd_sign_command(&s->key, s->pending, nonce, last, &used, out, size);
    free(s->pending);
    s->pending = NULL;
    return rc;
}
