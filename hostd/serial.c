/* hotd push over a serial line: the host side of the console's framed upload
 * (docs/serial.md). One device, one command at a time; the device's own
 * output shares the line and is skipped. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../agent/runtime/auth.h"
#include "../agent/runtime/sha256.h"
#include "client.h"
#include "progress.h"
#include "serial.h"

#define FRAME_MAX 4096 /* the longest frame payload hotd sends, whatever is offered */
#define FRAME_DEFAULT 256 /* a device that offers no size takes this (docs/serial.md) */
#define LINE_MAX_DEV 320        /* HR_CONSOLE_LINE_MAX: the device's longest line */
#define FRAME_TIMEOUT_MS 1000   /* no ack/nak: the frame or its answer was lost */
#define FRAME_TRIES 5
#define WINDOW_MAX 16           /* frames in flight, whatever the device offers */
#define COMMAND_TIMEOUT_MS 3000 /* nonce, status: answered at once */
#define NONCE_TIMEOUT_MS 1000
#define STORE_TIMEOUT_MS 15000  /* erase before "ack 0"; checks before "ok stored" */
#define RELOAD_TIMEOUT_MS 15000 /* the device gives the application 10 s by default */
#define REPLY_MAX 17000         /* "ok <status JSON>" is the longest reply */

struct line {
    int fd;
    bool sock; /* send() without SIGPIPE when the peer went away */
    unsigned baud; /* the UART's rate, 8N1; 0 when unknown (a socket) */
    char buf[20000];
    size_t len;
    bool skipping; /* inside a line too long to be a reply: drop up to its end */
    char err[128]; /* why the line ended, once it did */
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static bool starts_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    return !strncmp(s, word, n) && (s[n] == ' ' || s[n] == '\0');
}

/* The text after a reply's first word ("error: x" -> "x"). */
static const char *rest(const char *s, size_t word)
{
    return s[word] ? s + word + 1 : s + word;
}

static bool is_reply(const char *s)
{
    return starts_word(s, "ok") || starts_word(s, "error") || starts_word(s, "ack") ||
           starts_word(s, "nak");
}

/* Take one complete line out of the buffer, if there is one. */
static bool take_line(struct line *l, char *out, size_t size)
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
static int next_reply(struct line *l, double deadline, char *out, size_t size)
{
    for (;;) {
        while (take_line(l, out, size))
            if (is_reply(out))
                return 1;
        double left = deadline - now_ms();
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

static int write_all(struct line *l, const void *data, size_t len)
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
__attribute__((format(printf, 2, 3))) static void set_message(struct hotd_push_result *r,
                                                              const char *fmt, ...)
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
static int command(struct line *l, const char *cmd, double timeout_ms, char *answer,
                   size_t size, struct hotd_push_result *r)
{
    char buf[LINE_MAX_DEV + 2], reply[REPLY_MAX];
    snprintf(buf, sizeof buf, "%s\n", cmd);
    if (write_all(l, buf, strlen(buf)) != 0)
        return set_message(r, "write: %s", l->err), -1;
    double deadline = now_ms() + timeout_ms;
    int rc, resent = 0;
    while ((rc = next_reply(l, deadline, reply, sizeof reply)) == 1) {
        /* Our lines are short: this is about noise the device kept from
         * before (a damaged frame's bytes), and it has dropped it now. */
        if (!strncmp(reply, "error line longer than", 22) && !resent++) {
            if (write_all(l, buf, strlen(buf)) != 0)
                return set_message(r, "write: %s", l->err), -1;
            continue;
        }
        if (starts_word(reply, "error")) {
            set_message(r, "%s", rest(reply, 5));
            return 0;
        }
        if (starts_word(reply, "ok")) {
            if (answer)
                snprintf(answer, size, "%s", rest(reply, 2));
            return 1;
        }
        /* a late ack/nak of something earlier: not this command's answer */
    }
    char what[160];
    snprintf(what, sizeof what, "no answer to '%.*s' in %.0f s", (int)strcspn(cmd, " "), cmd,
             timeout_ms / 1e3);
    set_message(r, "%s", rc < 0 ? l->err : what);
    return -1;
}

static void advise(struct hotd_push_result *r)
{
    const char *m = r->message, *a = "";
    if (strstr(m, "firmware"))
        a = "rebuild and reflash the firmware (the module was built for another one)";
    else if (strstr(m, "signature checks are paused"))
        a = "the device paused its signature checks after wrong signatures: push again when "
            "the pause it names is over";
    else if (strstr(m, "authentication") && strstr(m, "stale"))
        a = "another client took the request counter first: push again";
    else if (strstr(m, "authentication"))
        a = HOTD_KEY_ADVICE;
    else if (!strncmp(m, "too large", 9))
        a = "the module is over the device's size limit";
    else if (!strncmp(m, "module would not load", 21))
        a = "fix the module: see the error above";
    else if (!strncmp(m, "timed out", 9))
        a = "the application did not reach hotreload_poll() in time; the module is stored "
            "and will load at its next safe point";
    else if (strstr(m, "no answer") || strstr(m, "closed"))
        a = "is the device running, and is this its console?";
    snprintf(r->advice, sizeof r->advice, "%s", a);
}

/* What the device offered in "ack 0 window N frame F". */
struct frames {
    unsigned window, size;
    double line_ms; /* how long a window of frames takes on the wire (0: unknown) */
};

static void send_frame(struct line *l, size_t k, const uint8_t *img, size_t len, size_t fsize)
{
    uint8_t f[1 + 4 + FRAME_MAX + 4];
    size_t off = (k - 1) * fsize, n = len - off < fsize ? len - off : fsize;
    uint16_t seq = (uint16_t)k;
    f[0] = 0x7e;
    f[1] = (uint8_t)seq, f[2] = (uint8_t)(seq >> 8);
    f[3] = (uint8_t)n, f[4] = (uint8_t)(n >> 8);
    memcpy(f + 5, img + off, n);
    uint32_t crc = hotd_crc32(f + 1, 4 + n);
    for (int i = 0; i < 4; i++)
        f[5 + n + i] = (uint8_t)(crc >> (8 * i));
    write_all(l, f, 5 + n + 4); /* a failed write shows as a missing ack */
}

/* The device's answers to the frames in flight, until the line has been
 * quiet for QUIET_MS: after a nak or a time-out, the frames sent behind the
 * bad one draw naks of their own, which must not send the host back again.
 * Returns the frame the device asks for next (an ack of N means N+1; a nak
 * names it), or 0 when it said nothing; -1 on an error (r->message). */
#define QUIET_MS 150
static long settle(struct line *l, size_t base, size_t next, size_t nframes, char *reply,
                   size_t size, struct hotd_push_result *r)
{
    long want = 0;
    int rc;
    while ((rc = next_reply(l, now_ms() + QUIET_MS, reply, size)) == 1) {
        unsigned seq;
        if (starts_word(reply, "error"))
            return set_message(r, "%s", rest(reply, 5)), -1;
        if (starts_word(reply, "ok")) { /* all stored (its acks were lost): upload() reads it */
            size_t n = strlen(reply);
            if (n + 1 + l->len <= sizeof l->buf) {
                memmove(l->buf + n + 1, l->buf, l->len);
                memcpy(l->buf, reply, n);
                l->buf[n] = '\n';
                l->len += n + 1;
            }
            return (long)nframes + 1;
        }
        /* Frame numbers from the 16-bit sequence, within what was sent. */
        if (sscanf(reply, "ack %u", &seq) == 1) {
            size_t k = base + (uint16_t)(seq - (uint16_t)base);
            if (k < next)
                want = (long)k + 1;
        } else if (sscanf(reply, "nak %u", &seq) == 1) {
            size_t k = base + (uint16_t)(seq - (uint16_t)base);
            if (k <= next)
                want = (long)k;
        }
    }
    if (rc < 0)
        return set_message(r, "%s", l->err), -1;
    return want;
}

/* The frames, from the one after "ack 0" to the ack of the last: up to
 * `window` frames in flight (the device says how many it can take), going
 * back to the frame the device asks for after a nak or a time-out. 0, or -1
 * with r->message. */
static int send_frames(struct line *l, const uint8_t *img, size_t len, const struct frames *fr,
                       struct hotd_progress *bar, struct hotd_push_result *r)
{
    size_t fsize = fr->size, nframes = (len + fsize - 1) / fsize;
    unsigned window = fr->window;
    /* An answer is late once the frames ahead of it had time to go out. */
    double timeout = FRAME_TIMEOUT_MS + fr->line_ms;
    size_t base = 1, next = 1; /* the oldest frame not acknowledged; the next to send */
    unsigned tries = 0;
    char reply[REPLY_MAX] = "";
    double deadline = 0;
    while (base <= nframes) {
        while (next <= nframes && next < base + window) {
            send_frame(l, next++, img, len, fsize);
            deadline = now_ms() + timeout;
        }
        unsigned seq;
        int rc = next_reply(l, deadline, reply, sizeof reply);
        if (rc < 0)
            return set_message(r, "%s", l->err), -1;
        if (rc == 1 && starts_word(reply, "error"))
            return set_message(r, "%s", rest(reply, 5)), -1;
        if (rc == 1 && sscanf(reply, "ack %u", &seq) == 1) {
            size_t k = base + (uint16_t)(seq - (uint16_t)base);
            if (k < next) { /* frames up to k are stored */
                base = k + 1;
                tries = 0;
                deadline = now_ms() + timeout;
                size_t acked = (base - 1) * fsize;
                hotd_progress_draw(bar, (double)(acked < len ? acked : len), NULL);
            }
            continue; /* otherwise an ack repeated for a frame sent twice */
        }
        if (rc == 1 && strncmp(reply, "nak ", 4) != 0)
            continue;
        /* A nak, or nothing in time: let the frames in flight be answered,
         * then resend from the one the device wants. */
        char why[REPLY_MAX];
        snprintf(why, sizeof why, "%s", rc == 1 ? reply : "");
        long want = settle(l, base, next, nframes, reply, sizeof reply, r);
        if (want < 0)
            return -1;
        if (rc == 1 && !want) {
            size_t k = base + (uint16_t)(atoi(why + 4) - (uint16_t)base);
            want = k <= next ? (long)k : 0;
        }
        if (want && (size_t)want > nframes + 1) {
            set_message(r, "the device asked for a frame never sent: %s", why);
            return -1;
        }
        if (want > (long)base) {
            base = (size_t)want; /* acks were lost, not frames */
            tries = 0;
        }
        if (++tries > FRAME_TRIES) {
            char what[160];
            snprintf(what, sizeof what, "frame %zu of %zu not acknowledged after %d tries", base,
                     nframes, FRAME_TRIES);
            if (why[0])
                snprintf(what + strlen(what), sizeof what - strlen(what), " (%.60s)", why);
            set_message(r, "%s", what);
            return -1;
        }
        next = base;
    }
    return 0;
}

/* "ack 0 window N frame F": the slot is erased and frames may come, N at a
 * time, of up to F bytes. An older device says "ack 0 window N" (frames of
 * 256 bytes), the oldest "ack 0" (one at a time). */
static bool ack0(const char *answer, struct frames *fr)
{
    unsigned window = 1, size = FRAME_DEFAULT;
    if (strcmp(answer, "ack 0") != 0 &&
        sscanf(answer, "ack 0 window %u frame %u", &window, &size) < 1)
        return false;
    fr->window = window < 1 ? 1 : window > WINDOW_MAX ? WINDOW_MAX : window;
    fr->size = size < 1 ? 1 : size > FRAME_MAX ? FRAME_MAX : size;
    return true;
}

/* nonce, then a signed upload: 0 stored, -1 not (r->message). */
static int upload(struct line *l, const struct hotd_key *key, const char *module,
                  const void *img, size_t len, struct hotd_progress *bar,
                  struct hotd_push_result *r, char nonce[128], uint64_t *counter)
{
    char answer[REPLY_MAX], target[96], auth[HR_AUTH_VALUE_MAX], cmd[LINE_MAX_DEV + 64];
    char sha_hex[65];
    uint8_t sha[32];
    uint64_t last = 0;
    /* A console answers `nonce` at once: a short first wait. */
    int rc = command(l, "nonce", NONCE_TIMEOUT_MS, answer, sizeof answer, r);
    if (rc < 0) {
        /* The device ignores commands while an upload (someone else's, or
         * ours cut short) is in progress: end it, and ask again. */
        command(l, "abort", COMMAND_TIMEOUT_MS, NULL, 0, r);
        rc = command(l, "nonce", COMMAND_TIMEOUT_MS, answer, sizeof answer, r);
    }
    if (rc <= 0)
        return -1;
    if (sscanf(answer, "%127s %" SCNu64, nonce, &last) != 2) {
        set_message(r, "not a nonce answer: %s (is this a hotreload console?)", answer);
        return -1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    char why[400];
    if (hotd_sign_counter(nonce, last, now, counter, why, sizeof why) != 0) {
        set_message(r, "%s", why);
        return -1;
    }
    hr_sha256(img, len, sha);
    hr_hex(sha, 32, sha_hex);
    snprintf(target, sizeof target, "upload %s", module);
    if (hotd_sign(key, "SERIAL", target, nonce, *counter, sha, auth) != 0) {
        set_message(r, "cannot sign for module '%s'", module);
        return -1;
    }
    snprintf(cmd, sizeof cmd, "upload %s %zu %s %s", module, len, sha_hex, auth);
    if (strlen(cmd) > LINE_MAX_DEV) {
        set_message(r, "module name '%s' too long for the console", module);
        return -1;
    }
    /* "ack 0" (the slot is erased) is not an ok: wait for it by hand. */
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), "\n");
    if (write_all(l, cmd, strlen(cmd)) != 0)
        return set_message(r, "write: %s", l->err), -1;
    double start = now_ms(), deadline = start + STORE_TIMEOUT_MS;
    struct frames fr = {1, FRAME_DEFAULT, 0};
    while ((rc = next_reply(l, deadline, answer, sizeof answer)) == 1 && !ack0(answer, &fr)) {
        if (starts_word(answer, "error"))
            return set_message(r, "%s", rest(answer, 5)), -1;
    }
    if (rc <= 0)
        return set_message(r, "%s", rc ? l->err : "no answer to 'upload'"), -1;
    if (l->baud) /* 8N1: ten bits a byte */
        fr.line_ms = fr.window * (fr.size + 9) * 10000.0 / l->baud;
    start = now_ms();
    if (send_frames(l, img, len, &fr, bar, r) != 0) {
        write_all(l, "abort\n", 6); /* leave the device out of its upload */
        return -1;
    }
    double sent = now_ms();
    r->upload_ms = sent - start;
    hotd_progress_draw(bar, (double)len, "every byte out: the device checks and stores it");
    deadline = sent + STORE_TIMEOUT_MS;
    while ((rc = next_reply(l, deadline, answer, sizeof answer)) == 1) {
        if (starts_word(answer, "error"))
            return set_message(r, "%s", rest(answer, 5)), -1;
        if (starts_word(answer, "ok")) {
            set_message(r, "%s", rest(answer, 2));
            r->device_ms = now_ms() - sent;
            return 0;
        }
    }
    return set_message(r, "%s", rc ? l->err : "no answer after the last frame"), -1;
}

int hotd_serial_push(const char *spec, unsigned baud, const struct hotd_key *key,
                     const char *module, const void *img, size_t len, bool reload,
                     bool progress, struct hotd_push_result *r)
{
    memset(r, 0, sizeof *r);
    r->url = spec;
    r->attempts = 1;
    struct line *l = calloc(1, sizeof *l);
    if (!l) {
        set_message(r, "%s", "out of memory");
        return 1;
    }
    /* The console holding the line relays our bytes as they are. */
    l->fd = hotd_console_connect(spec);
    l->sock = l->fd >= 0 || !strncmp(spec, "tcp:", 4);
    l->baud = strncmp(spec, "tcp:", 4) ? baud : 0;
    if (l->fd < 0)
        l->fd = hotd_serial_open(spec, baud, r->message, sizeof r->message);
    if (l->fd < 0) {
        if (!strstr(r->message, "baud rate"))
            snprintf(r->advice, sizeof r->advice, "is the device's console at %s?", spec);
        free(l);
        return 1;
    }
    /* A blank line gets no answer, and ends whatever a previous client left
     * half-typed. */
    write_all(l, "\n", 1);
    char answer[REPLY_MAX], cmd[LINE_MAX_DEV + 64], nonce[128];
    uint64_t counter = 0;
    module = module ? module : "main";
    struct hotd_progress bar;
    hotd_progress_start(&bar, (double)len, progress);
    int stored = upload(l, key, module, img, len, &bar, r, nonce, &counter);
    hotd_progress_end(&bar);
    if (stored == 0) {
        double t0 = now_ms();
        r->ok = true;
        if (reload) {
            char words[96];
            snprintf(words, sizeof words, "reload %s", module);
            int rc = hotd_sign_command(key, words, nonce, counter, &counter, cmd, sizeof cmd);
            rc = rc ? (set_message(r, "%s", cmd), -1)
                    : command(l, cmd, RELOAD_TIMEOUT_MS, answer, sizeof answer, r);
            r->ok = rc == 1;
            if (r->ok)
                set_message(r, "%s", !strncmp(answer, "reloaded ", 9) ? answer + 9 : answer);
        }
        r->device_ms += now_ms() - t0;
        /* The sections' addresses, for gdb (like the HTTP push): optional. */
        struct hotd_push_result scratch;
        if (r->ok && reload && command(l, "status", COMMAND_TIMEOUT_MS, answer, sizeof answer,
                                       &scratch) == 1 && strlen(answer) < sizeof r->status_json)
            memcpy(r->status_json, answer, strlen(answer) + 1);
    }
    if (!r->ok)
        advise(r);
    close(l->fd);
    free(l);
    return r->ok ? 0 : 1;
}
