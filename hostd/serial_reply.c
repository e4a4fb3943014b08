/* The serial console's reply stream (serial_reply.h). */
#define _POSIX_C_SOURCE 200809L
#include "serial_reply.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
double sl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

bool sl_starts_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    return !strncmp(s, word, n) && (s[n] == ' ' || s[n] == '\0');
}

/* The text after a reply's first word ("error: x" -> "x"). */
const char *sl_rest(const char *s, size_t word)
{
    return s[word] ? s + word + 1 : s + word;
}

static bool sl_is_reply(const char *s)
{
    return sl_starts_word(s, "ok") || sl_starts_word(s, "error") || sl_starts_word(s, "ack") ||
           sl_starts_word(s, "nak");
}

/* Take one complete line out of the buffer, if there is one. */
static bool sl_take_line(struct line *l, char *out, size_t size)
{
    char *nl = memchr(l->buf, '\n', l->len);
    if (!nl) {
        if (l->len == sizeof l->buf) { /* device output, not a reply: forget it */
            l->len = 0;
            l->skipping = true;
        }
        return false;
    }
    size_t n = (size_t)(nl - l->buf), rest = l->len - n - 1;
    bool skip = l->skipping;
    l->skipping = false;
    if (n && l->buf[n - 1] == '\r')
        n--;
    if (!skip)
        snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), l->buf);
    memmove(l->buf, nl + 1, rest);
    l->len = rest;
    return !skip;
}

/* The next reply line (ok/error/ack/nak) before `deadline`: 1, 0 on timeout,
 * -1 when the line closed or failed (l->err says how). */
int sl_next_reply(struct line *l, double deadline, char *out, size_t size)
{
    for (;;) {
        while (sl_take_line(l, out, size))
            if (sl_is_reply(out))
                return 1;
        double left = deadline - sl_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {l->fd, POLLIN, 0};
        int rc = poll(&p, 1, (int)left + 1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            continue; /* timeout: checked at the top */
        ssize_t n = read(l->fd, l->buf + l->len, sizeof l->buf - l->len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            snprintf(l->err, sizeof l->err, "%s", n ? strerror(errno) : "the line was closed");
            return -1;
        }
        l->len += (size_t)n;
    }
}

int sl_write_all(struct line *l, const void *data, size_t len)
{
    for (const char *p = data; len;) {
        ssize_t n = l->sock ? send(l->fd, p, len, MSG_NOSIGNAL) : write(l->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(l->err, sizeof l->err, "%s", strerror(errno));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Printable text only: device messages may quote names from a hostile ELF. */
void sl_set_message(struct hotd_push_result *r, const char *fmt, ...)
{
    /* Truncating a long answer to the result's size is intended. */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    for (char *c = r->message; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

/* Send a command line, then wait for its ok/error: 1 ok, 0 error (in
 * r->message), -1 no answer (r->message says so). `answer` gets the text
 * after "ok ". */
int sl_command(struct line *l, const char *cmd, double timeout_ms, char *answer,
                   size_t size, struct hotd_push_result *r)
{
    char buf[LINE_MAX_DEV + 2], reply[REPLY_MAX];
    snprintf(buf, sizeof buf, "%s\n", cmd);
    if (sl_write_all(l, buf, strlen(buf)) != 0)
        return sl_set_message(r, "write: %s", l->err), -1;
    double deadline = sl_now_ms() + timeout_ms;
    int rc, resent = 0;
    while ((rc = sl_next_reply(l, deadline, reply, sizeof reply)) == 1) {
        /* Our lines are short: this is about noise the device kept from
         * before (a damaged frame's bytes), and it has dropped it now. */
        if (!strncmp(reply, "error line longer than", 22) && !resent++) {
            if (sl_write_all(l, buf, strlen(buf)) != 0)
                return sl_set_message(r, "write: %s", l->err), -1;
            continue;
        }
        if (sl_starts_word(reply, "error")) {
            sl_set_message(r, "%s", sl_rest(reply, 5));
            return 0;
        }
        if (sl_starts_word(reply, "ok")) {
            if (answer)
                snprintf(answer, size, "%s", sl_rest(reply, 2));
            return 1;
        }
        /* a late ack/nak of something earlier: not this command's answer */
    }
    char what[160];
    snprintf(what, sizeof what, "no answer to '%.*s' in %.0f s", (int)strcspn(cmd, " "), cmd,
             timeout_ms / 1e3);
    sl_set_message(r, "%s", rc < 0 ? l->err : what);
    return -1;
}

