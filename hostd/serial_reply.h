/* The serial console's reply stream, as hotd's serial push reads it
 * (docs/serial.md): lines of the device's own output skipped, replies
 * ("ok", "error", "ack", "nak") taken one at a time, commands sent and
 * answered. serial.c builds the upload on it. */
#ifndef HOTD_SERIAL_REPLY_H
#define HOTD_SERIAL_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"

#define LINE_MAX_DEV 320        /* HR_CONSOLE_LINE_MAX: the device's longest line */
#define REPLY_MAX 17000         /* "ok <status JSON>" is the longest reply */

struct line {
    int fd;
    bool sock; /* send() without SIGPIPE when the peer went away */
    unsigned baud; /* the UART's rate, 8N1; 0 when unknown (a socket) */
    bool compress; /* send the module compressed when the device takes it */
    char buf[20000];
    size_t len;
    bool skipping; /* inside a line too long to be a reply: drop up to its end */
    char err[128]; /* why the line ended, once it did */
};

/* Milliseconds on the monotonic clock. */
double sl_now_ms(void);
/* Does `s` start with the word `word` (then a space or its end)? */
bool sl_starts_word(const char *s, const char *word);
/* The text after a reply's first word, `word` characters long. */
const char *sl_rest(const char *s, size_t word);
/* The next reply line before `deadline` (ms): 1, 0 at the deadline, -1 when
 * the line ended (l->err says why). */
int sl_next_reply(struct line *l, double deadline, char *out, size_t size);
/* 0, or -1 with l->err. */
int sl_write_all(struct line *l, const void *data, size_t len);
/* r->message, printable characters only. */
__attribute__((format(printf, 2, 3))) void sl_set_message(struct hotd_push_result *r,
                                                          const char *fmt, ...);
/* Send a command line, then wait for its ok/error: 1 ok, 0 error (in
 * r->message), -1 no answer (r->message says so). `answer` gets the text
 * after "ok ". */
int sl_command(struct line *l, const char *cmd, double timeout_ms, char *answer, size_t size,
               struct hotd_push_result *r);

#endif
