/* The serial console: line commands and a framed, binary-safe upload over
 * any byte stream (stdin on posix, a UART elsewhere). The protocol is in
 * docs/serial.md.
 *
 * Transport-agnostic and thread-free: the port feeds received bytes with
 * hr_console_feed, ticks the clock with hr_console_tick (every 100 ms or so:
 * frame and upload timeouts are measured at ticks), and gets each reply
 * line, '\n' included, in one call of `write` -- so a port writing it with
 * one write() never splits a reply. Commands that wait for the
 * application's safe point (reload, unload) block the caller up to
 * reload_timeout_ms: feed the console from its own thread, not from the
 * application's loop. */
#ifndef HR_CONSOLE_H
#define HR_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotreload/transport.h"

#define HR_CONSOLE_LINE_MAX 320   /* longest command line (an upload with an HR2 credential) */
#ifndef HR_CONSOLE_FRAME_MAX
#define HR_CONSOLE_FRAME_MAX 1024 /* the console's frame buffer: longest payload it can offer */
#endif
#define HR_CONSOLE_FRAME_DEFAULT 256 /* what a host sends unless the device offers more */
#define HR_CONSOLE_FRAME_START 0x7e
#ifndef HR_CONSOLE_OUT_MAX
#define HR_CONSOLE_OUT_MAX 4096   /* longest reply line (the status JSON) */
#endif

struct hr_console_config {
    void (*write)(void *ctx, const char *data, size_t len);
    void *ctx;
    const uint8_t *auth_key;      /* HMAC-SHA-256 key shared with hotd (HR1) */
    size_t auth_key_len;
    const uint8_t *auth_pubkey;   /* 65-byte P-256 public key: set, HR2 only */
    bool auth_disabled;           /* uploads without credentials (local experiments) */
    bool trusted;                 /* reload, unload, confirm without a credential */
    size_t max_module_size;       /* 0: each module's own; else also a cap on uploads */
    uint32_t reload_timeout_ms;   /* reload/unload wait this long for a safe point */
    uint32_t frame_timeout_ms;    /* a started frame must be complete within this */
    uint32_t upload_timeout_ms;   /* an upload with no byte for this long is aborted */
    /* Frames the host may send before the first is acknowledged ("ack 0
     * window N"): the port's receive path must hold this many frames (`frame`
     * + 9 bytes each) while one is written to storage, or lose none (flow
     * control). 1 is stop-and-wait. */
    uint8_t window;
    /* The longest frame payload offered ("ack 0 window N frame F"), up to
     * HR_CONSOLE_FRAME_MAX. Longer frames spend less of the line on headers,
     * CRCs and acks (256: 3.4 %, 1024: 0.9 %) but need `window` times as much
     * receive buffer; a line with a small FIFO and no flow control keeps 256. */
    uint16_t frame;
};

#define HR_CONSOLE_CONFIG_DEFAULT()                                                            \
    {                                                                                          \
        .write = NULL, .ctx = NULL, .auth_key = NULL, .auth_key_len = 0,    \
        .auth_pubkey = NULL,                       \
        .auth_disabled = false, .trusted = false, .max_module_size = 0,                        \
        .reload_timeout_ms = 10000,                                                            \
        .frame_timeout_ms = 500, .upload_timeout_ms = 10000, .window = 4,                      \
        .frame = HR_CONSOLE_FRAME_DEFAULT                                                      \
    }

struct hr_console {
    struct hr_console_config cfg;
    char line[HR_CONSOLE_LINE_MAX + 1];
    size_t line_len;
    bool line_long;               /* the current line overflowed: refuse it */
    /* The upload in progress (up != NULL). */
    struct hr_upload *up;
    struct hr_upload_answer ans;  /* the session's answer (too big for the stack of a task) */
    char module[33];
    uint32_t length, received;
    uint16_t next_seq;            /* the frame wanted next; 0 was the command */
    uint8_t frame[4 + HR_CONSOLE_FRAME_MAX + 4];
    size_t frame_len, frame_need; /* frame_need 0: between frames */
    bool resyncing;               /* false starts found by resync() draw no nak */
    uint64_t now, frame_at, rx_at;
    char out[HR_CONSOLE_OUT_MAX];
};

void hr_console_init(struct hr_console *c, const struct hr_console_config *cfg);
/* Take what a server configuration says about uploads (key, opt-out, size
 * limit, reload timeout; NULL: nothing) into a console configuration. */
void hr_console_config_from(struct hr_console_config *cfg,
                            const hotreload_server_config_t *server);
/* Bytes from the line, any amount, any content. */
void hr_console_feed(struct hr_console *c, const void *data, size_t len);
/* The time now: expires a stalled frame (nak) or upload (error). */
void hr_console_tick(struct hr_console *c, uint64_t now_ms);
/* The line went away: drop an upload in progress (stored images untouched). */
void hr_console_close(struct hr_console *c);

/* CRC-32 (IEEE 802.3, as zlib's crc32) of the frame header and payload. */
uint32_t hr_crc32(const void *data, size_t len);

#endif
