/* hotd push over a serial line: the host side of the console's framed upload
 * (docs/serial.md). One device, one command at a time; the device's own
 * output shares the line and is skipped. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../agent/runtime/auth.h"
#include "../agent/runtime/sha256.h"
#include "client.h"
#include "hotreload/port.h"
#include "progress.h"
#include "serial.h"
#include "serial_reply.h"

#define FRAME_MAX 4096 /* the longest frame payload hotd sends, whatever is offered */
#define FRAME_DEFAULT 256 /* a device that offers no size takes this (docs/serial.md) */
#define FRAME_TIMEOUT_MS 1000   /* no ack/nak: the frame or its answer was lost */
#define FRAME_TRIES 5
#define WINDOW_MAX 16           /* frames in flight, whatever the device offers */
#define COMMAND_TIMEOUT_MS 3000 /* nonce, status: answered at once */
#define NONCE_TIMEOUT_MS 1000
#define STORE_TIMEOUT_MS 15000  /* erase before "ack 0"; checks before "ok stored" */
#define RELOAD_TIMEOUT_MS 15000 /* the device gives the application 10 s by default */

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
    double scale;   /* module bytes a byte on the wire stands for (compressed: > 1) */
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
    uint32_t crc = (uint32_t)crc32(0, f + 1, (uInt)(4 + n)); /* zlib's: docs/serial.md */
    for (int i = 0; i < 4; i++)
        f[5 + n + i] = (uint8_t)(crc >> (8 * i));
    sl_write_all(l, f, 5 + n + 4); /* a failed write shows as a missing ack */
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
    while ((rc = sl_next_reply(l, sl_now_ms() + QUIET_MS, reply, size)) == 1) {
        unsigned seq;
        if (sl_starts_word(reply, "error"))
            return sl_set_message(r, "%s", sl_rest(reply, 5)), -1;
        if (sl_starts_word(reply, "ok")) { /* all stored (its acks were lost): upload() reads it */
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
        return sl_set_message(r, "%s", l->err), -1;
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
            deadline = sl_now_ms() + timeout;
        }
        unsigned seq;
        int rc = sl_next_reply(l, deadline, reply, sizeof reply);
        if (rc < 0)
            return sl_set_message(r, "%s", l->err), -1;
        if (rc == 1 && sl_starts_word(reply, "error"))
            return sl_set_message(r, "%s", sl_rest(reply, 5)), -1;
        if (rc == 1 && sscanf(reply, "ack %u", &seq) == 1) {
            size_t k = base + (uint16_t)(seq - (uint16_t)base);
            if (k < next) { /* frames up to k are stored */
                base = k + 1;
                tries = 0;
                deadline = sl_now_ms() + timeout;
                size_t acked = (base - 1) * fsize;
                hotd_progress_draw(bar, (double)(acked < len ? acked : len) * fr->scale, NULL);
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
            sl_set_message(r, "the device asked for a frame never sent: %s", why);
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
            sl_set_message(r, "%s", what);
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

/* `nonce`: this boot's nonce, the last counter the device accepted, and
 * whether it takes compressed uploads. 0, or -1 with r->message. */
static int ask_nonce(struct line *l, struct hotd_push_result *r, char nonce[128], uint64_t *last,
                     bool *deflate)
{
    char answer[REPLY_MAX], word[16] = "";
    /* A console answers `nonce` at once: a short first wait. */
    int rc = sl_command(l, "nonce", NONCE_TIMEOUT_MS, answer, sizeof answer, r);
    if (rc < 0) {
        /* The device ignores commands while an upload (someone else's, or
         * ours cut short) is in progress: end it, and ask again. */
        sl_command(l, "abort", COMMAND_TIMEOUT_MS, NULL, 0, r);
        rc = sl_command(l, "nonce", COMMAND_TIMEOUT_MS, answer, sizeof answer, r);
    }
    if (rc <= 0)
        return -1;
    int n = sscanf(answer, "%127s %" SCNu64 " %15s", nonce, last, word);
    if (n < 2) {
        sl_set_message(r, "not a nonce answer: %s (is this a hotreload console?)", answer);
        return -1;
    }
    *deflate = n == 3 && !strcmp(word, "deflate");
    return 0;
}

/* The module as raw deflate with the device's small window (docs/serial.md),
 * in `*out` (malloc'ed); -1 when zlib fails (the module then goes as it is). */
static int squeeze(const void *img, size_t len, uint8_t **out, size_t *outlen)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -HR_INFLATE_WINDOW_BITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t room = deflateBound(&z, (uLong)len);
    *out = malloc(room);
    z.next_in = (Bytef *)img, z.avail_in = (uInt)len;
    z.next_out = *out, z.avail_out = (uInt)room;
    int rc = *out ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
    *outlen = room - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(*out);
        *out = NULL;
    }
    return rc == Z_STREAM_END ? 0 : -1;
}

/* The signed upload command; the frames carry `wire` (the module, or it
 * compressed). 0, or -1 with r->message. */
static int upload_command(const struct hotd_key *key, const char *module, const void *img,
                          size_t len, size_t wire, bool packed, const char *nonce,
                          uint64_t counter, char *cmd, size_t size, struct hotd_push_result *r)
{
    char target[96], auth[HR_AUTH_VALUE_MAX], sha_hex[65], how[40] = "";
    uint8_t sha[32];
    hr_sha256(img, len, sha);
    hr_hex(sha, 32, sha_hex);
    snprintf(target, sizeof target, "upload %s", module);
    if (hotd_sign(key, "SERIAL", target, nonce, counter, sha, auth) != 0) {
        sl_set_message(r, "cannot sign for module '%s'", module);
        return -1;
    }
    if (packed)
        snprintf(how, sizeof how, " deflate %zu", wire);
    snprintf(cmd, size, "upload %s %zu %s%s %s", module, len, sha_hex, how, auth);
    if (strlen(cmd) > LINE_MAX_DEV) {
        sl_set_message(r, "module name '%s' too long for the console", module);
        return -1;
    }
    /* "ack 0" (the slot is erased) is not an ok: wait for it by hand. */
    snprintf(cmd + strlen(cmd), size - strlen(cmd), "\n");
    return 0;
}

/* The command, "ack 0", the frames of `wire`, then the device's verdict:
 * 0 stored, -1 not (r->message). */
static int send_upload(struct line *l, const char *cmd, const uint8_t *wire, size_t wlen,
                       size_t len, struct hotd_progress *bar, struct hotd_push_result *r)
{
    char answer[REPLY_MAX];
    int rc;
    if (sl_write_all(l, cmd, strlen(cmd)) != 0)
        return sl_set_message(r, "write: %s", l->err), -1;
    double start = sl_now_ms(), deadline = start + STORE_TIMEOUT_MS;
    struct frames fr = {1, FRAME_DEFAULT, 0, (double)len / (double)wlen};
    while ((rc = sl_next_reply(l, deadline, answer, sizeof answer)) == 1 && !ack0(answer, &fr)) {
        if (sl_starts_word(answer, "error"))
            return sl_set_message(r, "%s", sl_rest(answer, 5)), -1;
    }
    if (rc <= 0)
        return sl_set_message(r, "%s", rc ? l->err : "no answer to 'upload'"), -1;
    if (l->baud) /* 8N1: ten bits a byte */
        fr.line_ms = fr.window * (fr.size + 9) * 10000.0 / l->baud;
    start = sl_now_ms();
    if (send_frames(l, wire, wlen, &fr, bar, r) != 0) {
        sl_write_all(l, "abort\n", 6); /* leave the device out of its upload */
        return -1;
    }
    double sent = sl_now_ms();
    r->upload_ms = sent - start;
    hotd_progress_draw(bar, (double)len, "every byte out: the device checks and stores it");
    deadline = sent + STORE_TIMEOUT_MS;
    while ((rc = sl_next_reply(l, deadline, answer, sizeof answer)) == 1) {
        if (sl_starts_word(answer, "error"))
            return sl_set_message(r, "%s", sl_rest(answer, 5)), -1;
        if (sl_starts_word(answer, "ok")) {
            sl_set_message(r, "%s", sl_rest(answer, 2));
            r->device_ms = sl_now_ms() - sent;
            return 0;
        }
    }
    return sl_set_message(r, "%s", rc ? l->err : "no answer after the last frame"), -1;
}

/* nonce, then a signed upload, compressed when the device takes that and it
 * saves more than a sixteenth: 0 stored, -1 not (r->message). */
static int upload(struct line *l, const struct hotd_key *key, const char *module,
                  const void *img, size_t len, struct hotd_progress *bar,
                  struct hotd_push_result *r, char nonce[128], uint64_t *counter)
{
    uint64_t last = 0;
    bool deflate = false;
    if (ask_nonce(l, r, nonce, &last, &deflate) != 0)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    char why[400], cmd[LINE_MAX_DEV + 64];
    if (hotd_sign_counter(nonce, last, now, counter, why, sizeof why) != 0) {
        sl_set_message(r, "%s", why);
        return -1;
    }
    uint8_t *packed = NULL;
    size_t plen = 0;
    if (deflate && l->compress && squeeze(img, len, &packed, &plen) == 0 &&
        plen > len - len / 16) {
        free(packed);
        packed = NULL;
    }
    const uint8_t *wire = packed ? packed : img;
    size_t wlen = packed ? plen : len;
    int rc = upload_command(key, module, img, len, wlen, packed != NULL, nonce, *counter, cmd,
                            sizeof cmd, r);
    if (rc == 0)
        rc = send_upload(l, cmd, wire, wlen, len, bar, r);
    r->compressed = packed ? plen : 0;
    free(packed);
    return rc;
}

int hotd_serial_push(const char *spec, unsigned baud, bool compress, const struct hotd_key *key,
                     const char *module, const void *img, size_t len, bool reload,
                     bool progress, struct hotd_push_result *r)
{
    memset(r, 0, sizeof *r);
    r->url = spec;
    r->attempts = 1;
    struct line *l = calloc(1, sizeof *l);
    if (!l) {
        sl_set_message(r, "%s", "out of memory");
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
    sl_write_all(l, "\n", 1);
    char answer[REPLY_MAX], cmd[LINE_MAX_DEV + 64], nonce[128];
    uint64_t counter = 0;
    module = module ? module : "main";
    struct hotd_progress bar;
    hotd_progress_start(&bar, (double)len, progress);
    l->compress = compress;
    int stored = upload(l, key, module, img, len, &bar, r, nonce, &counter);
    hotd_progress_end(&bar);
    if (stored == 0) {
        double t0 = sl_now_ms();
        r->ok = true;
        if (reload) {
            char words[96];
            snprintf(words, sizeof words, "reload %s", module);
            int rc = hotd_sign_command(key, words, nonce, counter, &counter, cmd, sizeof cmd);
            rc = rc ? (sl_set_message(r, "%s", cmd), -1)
                    : sl_command(l, cmd, RELOAD_TIMEOUT_MS, answer, sizeof answer, r);
            r->ok = rc == 1;
            if (r->ok)
                sl_set_message(r, "%s", !strncmp(answer, "reloaded ", 9) ? answer + 9 : answer);
        }
        r->device_ms += sl_now_ms() - t0;
        /* The sections' addresses, for gdb (like the HTTP push): optional. */
        struct hotd_push_result scratch;
        if (r->ok && reload && sl_command(l, "status", COMMAND_TIMEOUT_MS, answer, sizeof answer,
                                       &scratch) == 1 && strlen(answer) < sizeof r->status_json)
            memcpy(r->status_json, answer, strlen(answer) + 1);
    }
    if (!r->ok)
        advise(r);
    close(l->fd);
    free(l);
    return r->ok ? 0 : 1;
}
