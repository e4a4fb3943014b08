/* The serial console (see console.h and docs/serial.md). Every command ends
 * with one line starting "ok" or "error"; during an upload each frame gets
 * "ack <seq>" or "nak <seq> <reason>". Other lines the host sees are either
 * the text of a multi-line answer (indented) or the device's own output. */
#include <string.h>

#include "../core/fmt.h"
#include "auth.h"
#include "hotreload/console.h"
#include "hotreload.h"
#include "sha256.h"

static const char help_text[] =
    "  help                     this text\n"
    "  status                   ok <status JSON>\n"
    "  reload [module] [HR2 …]  reload from storage at the next safe point\n"
    "  unload [module] [HR2 …]  unload at the next safe point\n"
    "  symbols [module]         exported symbols: <name> <address> func|data\n"
    "  confirm [HR2 …]          the running modules are good\n"
    "                           (HR2 counter=<n>, sig=<hex>, or HR1 … mac=<hex> with an\n"
    "                           HMAC key: signed as for an upload,\n"
    "                           over the command's words; hotd console signs them)\n"
    "  nonce                    ok <boot nonce> <last counter> [deflate] (for signing;\n"
    "                           deflate: compressed uploads are taken)\n"
    "  upload <module> <length> <sha256> [deflate <bytes>] [HR2 counter=<n>, sig=<hex>]\n"
    "                           then frames: 0x7e seq:u16 len:u16 payload crc32:u32\n"
    "  abort                    drop the upload in progress\n";

uint32_t hr_crc32(const void *data, size_t len)
{
    static const uint32_t nib[16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
    const uint8_t *p = data;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nib[crc & 15];
        crc = (crc >> 4) ^ nib[crc & 15];
    }
    return ~crc;
}

/* One reply line: formatted into c->out, newlines inside flattened so a
 * message can never fake a line of its own, '\n' added, one write. */
static void reply(struct hr_console *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = hr_vfmt(c->out, sizeof c->out - 1, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < n; i++)
        if (c->out[i] == '\n' || c->out[i] == '\r')
            c->out[i] = ' ';
    c->out[n++] = '\n';
    c->cfg.write(c->cfg.ctx, c->out, n);
}

void hr_console_init(struct hr_console *c, const struct hr_console_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    if (cfg->trusted && !cfg->auth_disabled)
        reply(c, "hotreload: console: this line is trusted (console_trusted): reload, unload "
                 "and confirm on it need no credential");
}

/* The credential ending a command line ("... HR2 counter=N, sig=S", or
 * HR1 ... mac=M), cut off the line (what comes before it is what was
 * signed); NULL if none. */
static const char *cut_credential(char *line)
{
    for (char *p = line; (p = strchr(p, ' ')) != NULL; p++)
        if ((p[1] | 0x20) == 'h' && (p[2] | 0x20) == 'r' && (p[3] == '1' || p[3] == '2') &&
            p[4] == ' ') {
            *p = '\0';
            return p + 1;
        }
    return NULL;
}

/* reload, unload and confirm change what runs: each is signed like an
 * upload (method SERIAL, target the command's words joined by one space,
 * the empty body), unless the line is trusted. */
static bool authorized(struct hr_console *c, char **w, int n, const char *cred)
{
    if (c->cfg.auth_disabled || c->cfg.trusted)
        return true;
    char target[HR_CONSOLE_LINE_MAX + 1], msg[256];
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += hr_fmt(target + len, sizeof target - len, "%s%s", i ? " " : "", w[i]);
    uint8_t empty[32];
    hr_sha256("", 0, empty);
    struct hr_auth_keys keys = {c->cfg.auth_key, c->cfg.auth_key_len, c->cfg.auth_pubkey};
    if (hr_auth_check(&keys, "SERIAL", target, cred, cred ? strlen(cred) : 0, empty, msg,
                      sizeof msg) == HR_AUTH_OK)
        return true;
    reply(c, "error authentication failed: %s ('%s' must be signed: hotd console does it; "
             "docs/serial.md)", msg, target);
    return false;
}

static void end_upload(struct hr_console *c)
{
    c->up = NULL;
    c->frame_need = 0;
    c->line_len = 0;
}

void hr_console_close(struct hr_console *c)
{
    if (c->up)
        hr_upload_abort(c->up);
    end_upload(c);
}

static void fail_upload(struct hr_console *c, const char *why)
{
    hr_upload_abort(c->up);
    reply(c, "error upload aborted: %s (%u of %u bytes arrived; stored images unchanged)", why,
          c->received, c->length);
    end_upload(c);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static bool parse_sha(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return false;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    if (!*s || (*s == '0' && s[1]))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || (v = v * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* The longest frame payload this console takes (its configuration, within
 * its buffer; 256 when unset). */
static unsigned frame_max(const struct hr_console *c)
{
    unsigned f = c->cfg.frame ? c->cfg.frame : HR_CONSOLE_FRAME_DEFAULT;
    return f < HR_CONSOLE_FRAME_MAX ? f : HR_CONSOLE_FRAME_MAX;
}

/* upload <module> <length> <sha256> [deflate <n>] [HR2 counter=<n>, sig=<hex>]:
 * the upload session checks the credential against the announced SHA-256
 * before erasing anything, and holds the body to it. With "deflate <n>"
 * the frames carry <n> bytes of the module compressed. */
static void cmd_upload(struct hr_console *c, char **w, int n, const char *auth, size_t authlen)
{
    uint32_t length, wire = 0;
    uint8_t sha[32];
    bool deflate = n == 6 && !strcmp(w[4], "deflate");
    if ((n != 4 && !deflate) || !parse_u32(w[2], &length) || !parse_sha(w[3], sha) ||
        strlen(w[1]) >= sizeof c->module || (deflate && !parse_u32(w[5], &wire)) ||
        (deflate && !wire)) {
        reply(c, "error usage: upload <module> <length> <sha256-hex> [deflate <bytes>] "
                 "[HR2 counter=<n>, sig=<hex>]");
        return;
    }
    char target[48];
    hr_fmt(target, sizeof target, "upload %s", w[1]);
    struct hr_upload_policy policy = {c->cfg.auth_key, c->cfg.auth_key_len, c->cfg.auth_disabled,
                                      c->cfg.max_module_size, c->cfg.reload_timeout_ms,
                                      c->cfg.auth_pubkey};
    struct hr_upload_request req = {w[1], length, sha, "SERIAL", target,
                                    authlen ? auth : NULL, authlen, false, deflate};
    if (hr_upload_begin(&policy, &req, &c->up, &c->ans) != HOTRELOAD_OK) {
        c->up = NULL;
        if (c->ans.auth != HR_AUTH_OK)
            reply(c, "error authentication failed: %s", c->ans.msg);
        else
            reply(c, "error %s: %s", hr_rt_err_name(c->ans.err), c->ans.msg);
        return;
    }
    memcpy(c->module, w[1], strlen(w[1]) + 1);
    c->length = deflate ? wire : length; /* the bytes the frames carry */
    c->received = 0;
    c->next_seq = 1;
    c->frame_need = 0;
    c->rx_at = c->now;
    if (frame_max(c) > HR_CONSOLE_FRAME_DEFAULT)
        reply(c, "ack 0 window %u frame %u", c->cfg.window ? c->cfg.window : 1u, frame_max(c));
    else
        reply(c, "ack 0 window %u", c->cfg.window ? c->cfg.window : 1u);
}

/* All bytes are in: the session's checks, then one answer line. */
static void finish_upload(struct hr_console *c)
{
    char hex[65];
    struct hr_upload *up = c->up;
    end_upload(c);
    if (hr_upload_finish(up, &c->ans) != HOTRELOAD_OK) {
        if (c->ans.auth != HR_AUTH_OK || c->ans.err == HOTRELOAD_ERR_ARG)
            reply(c, "error %s", c->ans.msg); /* the body itself: says what it is */
        else
            reply(c, "error %s: %s", hr_rt_err_name(c->ans.err), c->ans.msg);
        return;
    }
    hr_hex(c->ans.sha256, 32, hex);
    reply(c, "ok stored module '%s': %u bytes, sha256 %s", c->module, c->ans.size, hex);
}

/* Returns false when the frame's CRC is wrong. */
static bool on_frame(struct hr_console *c)
{
    const uint8_t *f = c->frame;
    uint16_t seq = (uint16_t)(f[0] | f[1] << 8);
    uint32_t len = f[2] | (uint32_t)f[3] << 8;
    const uint8_t *t = f + 4 + len;
    uint32_t crc = t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    c->frame_need = 0;
    if (hr_crc32(f, 4 + len) != crc) {
        if (!c->resyncing)
            reply(c, "nak %u crc mismatch", c->next_seq);
        return false;
    } else if (seq == (uint16_t)(c->next_seq - 1)) {
        reply(c, "ack %u", seq); /* our ack was lost; the bytes are already stored */
    } else if (seq != c->next_seq) {
        reply(c, "nak %u expected frame %u, got %u", c->next_seq, c->next_seq, seq);
    } else if (len > c->length - c->received) {
        fail_upload(c, "a frame goes past the announced length");
    } else if (hr_upload_write(c->up, f + 4, len, &c->ans) != HOTRELOAD_OK) {
        reply(c, "error upload aborted: %s (%u of %u bytes arrived; stored images unchanged)",
              c->ans.msg, c->received, c->length);
        end_upload(c);
    } else {
        c->received += len;
        reply(c, "ack %u", seq);
        c->next_seq++;
        if (c->received == c->length)
            finish_upload(c);
    }
    return true;
}

/* Returns false when the frame turned out bad: a header with an impossible
 * length, or a complete frame with a wrong CRC. */
static bool frame_byte(struct hr_console *c, uint8_t b)
{
    c->frame[c->frame_len++] = b;
    if (c->frame_len == 4) {
        uint32_t len = c->frame[2] | (uint32_t)c->frame[3] << 8;
        if (len == 0 || len > frame_max(c)) {
            c->frame_need = 0;
            if (!c->resyncing)
                reply(c, "nak %u bad frame length %u", c->next_seq, len);
            return false;
        }
        c->frame_need = 4 + len + 4;
    }
    return c->frame_len != c->frame_need || on_frame(c);
}

/* A bad frame may have been a false start: a start byte inside a damaged
 * frame's payload, or in its header, taken for the beginning of a frame,
 * which then swallowed the beginning of the frame the host sent again. Hunt
 * for a start byte among the bad frame's bytes and take what follows as a
 * frame, as if those bytes were arriving now. Each false start found this
 * way begins later in the same bytes, so this ends. What is left may be a
 * frame still waiting for bytes. Returns true when a frame passed its CRC. */
static bool resync(struct hr_console *c)
{
    uint8_t b[sizeof c->frame];
    size_t n = c->frame_len, from = 0, i = 0;
    bool took = false;
    memcpy(b, c->frame, n);
    c->frame_need = 0;
    c->frame_len = 0;
    c->resyncing = true;
    while (i < n && c->up) {
        if (!c->frame_need) {
            if (b[i++] == HR_CONSOLE_FRAME_START) {
                from = i;
                c->frame_len = 0;
                c->frame_need = 4;
                c->frame_at = c->now;
            }
            continue;
        }
        if (!frame_byte(c, b[i++])) {
            c->frame_need = 0;
            i = from; /* hunt on after this false start */
        } else if (!c->frame_need) {
            took = true;
        }
        if (!c->frame_need)
            c->frame_len = 0;
    }
    c->resyncing = false;
    return took;
}

static void cmd_symbols(struct hr_console *c, const char *module)
{
    const char *name;
    uintptr_t addr;
    bool is_func;
    size_t i = 0;
    for (; hr_rt_symbol(module, i, &name, &addr, &is_func); i++)
        reply(c, "  %s %#llx %s", name, (unsigned long long)addr, is_func ? "func" : "data");
    reply(c, "ok %zu symbols", i);
}

static void cmd_request(struct hr_console *c, bool unload, const char *module)
{
    char msg[HR_CONSOLE_LINE_MAX];
    hotreload_err_t err = unload
        ? hr_rt_request_unload(module, c->cfg.reload_timeout_ms, msg, sizeof msg)
        : hr_rt_request_reload(module, c->cfg.reload_timeout_ms, msg, sizeof msg);
    if (err == HOTRELOAD_OK)
        reply(c, "ok %s %s", unload ? "unloaded" : "reloaded", msg);
    else
        reply(c, "error %s: %s", hr_rt_err_name(err), msg);
}

static void cmd_status(struct hr_console *c)
{
    size_t room = sizeof c->out - 5; /* "ok " ... "\n" NUL */
    size_t n = hotreload_status_json(c->out + 3, room);
    if (n >= room) {
        reply(c, "error the status is %zu bytes, over the console's %zu", n, room);
        return;
    }
    memcpy(c->out, "ok ", 3);
    for (size_t i = 3; i < n + 3; i++)
        if (c->out[i] == '\n' || c->out[i] == '\r')
            c->out[i] = ' ';
    c->out[n + 3] = '\n';
    c->cfg.write(c->cfg.ctx, c->out, n + 4);
}

static void on_line(struct hr_console *c)
{
    char *w[6];
    int n = 0;
    char *p = c->line;
    const char *cred = c->up ? NULL : cut_credential(c->line);
    while (*p) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        if (n == 6) { /* mid-upload, noise between frames draws no answer */
            if (!c->up)
                reply(c, "error too many words (a credential starts with 'HR2 ' or 'HR1 '; "
                         "try 'help')");
            return;
        }
        w[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    if (n == 0)
        return; /* blank line: no command, no answer */
    if (c->up) { /* mid-upload, only "abort" means something */
        if (!strcmp(w[0], "abort"))
            fail_upload(c, "abort requested");
        return;
    }
    const char *arg = n > 1 ? w[1] : NULL;
    if (!strcmp(w[0], "help")) {
        c->cfg.write(c->cfg.ctx, help_text, sizeof help_text - 1);
        reply(c, "ok");
    } else if (!strcmp(w[0], "status")) {
        cmd_status(c);
    } else if (!strcmp(w[0], "reload") || !strcmp(w[0], "unload")) {
        if (authorized(c, w, n, cred))
            cmd_request(c, w[0][0] == 'u', arg);
    } else if (!strcmp(w[0], "symbols")) {
        cmd_symbols(c, arg);
    } else if (!strcmp(w[0], "confirm")) {
        if (!authorized(c, w, n, cred))
            return;
        hotreload_err_t err = hotreload_confirm();
        reply(c, err ? "error %s" : "ok confirmed", hr_rt_err_name(err));
    } else if (!strcmp(w[0], "nonce")) {
        if (!hr_rt_nonce()[0])
            reply(c, "error no random source for the nonce: this device accepts no signed "
                     "request (its log at start says what the port lacks)");
        else
            reply(c, "ok %s %llu%s", hr_rt_nonce(), (unsigned long long)hr_rt_counter_last(),
                  hr_rt_inflater() ? " deflate" : "");
    } else if (!strcmp(w[0], "upload")) {
        cmd_upload(c, w, n, cred, cred ? strlen(cred) : 0);
    } else if (!strcmp(w[0], "abort")) {
        reply(c, "error no upload in progress");
    } else {
        reply(c, "error unknown command '%s' (try 'help')", w[0]);
    }
}

static void line_byte(struct hr_console *c, char ch)
{
    if (ch == '\n') {
        bool too_long = c->line_long;
        c->line[c->line_len] = '\0';
        c->line_len = 0;
        c->line_long = false;
        if (too_long && !c->up)
            reply(c, "error line longer than %d characters", HR_CONSOLE_LINE_MAX);
        else if (!too_long)
            on_line(c);
    } else if (ch == '\r') {
        /* CRLF terminals */
    } else if (c->line_len < HR_CONSOLE_LINE_MAX) {
        c->line[c->line_len++] = ch == '\0' ? ' ' : ch;
    } else {
        c->line_long = true;
    }
}

void hr_console_feed(struct hr_console *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        if (!c->up) {
            line_byte(c, (char)p[i]);
            continue;
        }
        c->rx_at = c->now;
        if (c->frame_need || c->frame_len) {
            if (!frame_byte(c, p[i]))
                resync(c);
            if (!c->frame_need)
                c->frame_len = 0;
        } else if (p[i] == HR_CONSOLE_FRAME_START) {
            c->frame_len = 0;
            c->frame_need = 4; /* until the header says more */
            c->frame_at = c->now;
            c->line_len = 0;
            c->line_long = false; /* noise before a frame is no command */
        } else {
            line_byte(c, (char)p[i]); /* "abort", or noise between frames */
        }
    }
}

void hr_console_tick(struct hr_console *c, uint64_t now_ms)
{
    c->now = now_ms;
    if (!c->up)
        return;
    if (c->frame_need && now_ms - c->frame_at >= c->cfg.frame_timeout_ms) {
        /* It may be a false start holding the real frame: look inside. */
        if (!resync(c) && !c->frame_need)
            reply(c, "nak %u frame incomplete after %u ms", c->next_seq,
                  c->cfg.frame_timeout_ms);
    }
    if (now_ms - c->rx_at >= c->cfg.upload_timeout_ms)
        fail_upload(c, "no data within the upload timeout");
}

void hr_console_config_from(struct hr_console_config *cfg,
                            const hotreload_server_config_t *server)
{
    if (!server)
        return;
    cfg->auth_key = server->auth_key;
    cfg->auth_key_len = server->auth_key_len;
    cfg->auth_pubkey = server->auth_pubkey;
    cfg->auth_disabled = server->auth_disabled;
    cfg->trusted = server->console_trusted;
    if (server->max_module_size)
        cfg->max_module_size = server->max_module_size;
    if (server->reload_timeout_ms)
        cfg->reload_timeout_ms = server->reload_timeout_ms;
    if (server->console_frame)
        cfg->frame = server->console_frame;
}
