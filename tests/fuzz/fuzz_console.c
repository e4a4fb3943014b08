/* Fuzz target: the serial console (agent/runtime/console.c): command
 * lines, the signed upload command and its binary frames, timeouts, in
 * front of the real runtime and storage (device.c).
 *
 * Input: one byte of settings (bit 0: authentication disabled; bit 1: the
 * console offers frames of 1 KiB, and upload records use frames 4 times
 * their size byte), then
 * records, each an op byte and its operands:
 *   op % 8 == 1  frame: seq (2 bytes LE), n-1 (1 byte), n payload bytes;
 *                sent as 0x7e seq len payload with a correct CRC-32
 *   op % 8 == 2  tick: the clock moves on by (1 byte) * 16 ms
 *   op % 8 == 3  upload: module (1 byte: main, aux, nope, main), length-1
 *                (2 bytes LE, mod 2048), frame size-1 (1 byte), the body
 *                (with this firmware's build-id for FUZZ_FWID_MARK: device.h);
 *                sent as the upload command (signed when authentication
 *                is on) and the body's frames, in order, CRCs correct
 *   op % 8 == 4  the line goes away (hr_console_close)
 *   op % 8 == 5  compressed upload: as 3, the body sent as raw deflate
 *                (zlib, the device's window) with "deflate <bytes>"
 *   op % 8 == 6  compressed upload of a stream that is the fuzzer's own:
 *                announced length-1 (2 bytes LE, mod 8192), frame size-1
 *                (1 byte), n-1 (1 byte), n bytes sent as the stream (its
 *                SHA-256 announced): corrupt, short, long, a bomb
 *   otherwise    raw: n-1 (1 byte), n bytes fed as they are
 * The frame and upload records take the framing and the signature off the
 * fuzzer's hands, so it gets past them to what follows; the raw record
 * keeps every byte sequence possible.
 *
 * Every line the device writes must be a reply the protocol allows
 * (docs/serial.md): "ok", "error", "ack <n>", "nak <n> <reason>" or an
 * indented line, the status as JSON hotd reads. No upload may stay open
 * after the line goes away, and no module may load. */
#include <string.h>
#include <zlib.h>

#include "auth.h"
#include "hotreload/console.h"
#include "hotreload/port.h"
#include "device.h"
#include "fuzz.h"
#include "sha256.h"

static struct hr_console con;
static uint64_t now;

static bool digits_then(const char *s, size_t n, size_t *i)
{
    size_t start = *i;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9')
        (*i)++;
    return *i > start;
}

static void check_line(const char *s, size_t n)
{
    size_t i;
    if (n >= 2 && s[0] == ' ' && s[1] == ' ')
        return;
    if (n >= 2 && !memcmp(s, "ok", 2) && (n == 2 || s[2] == ' ')) {
        if (n > 3 && s[3] == '{')
            fuzz_json_answer(s + 3, n - 3);
        return;
    }
    if (n >= 5 && !memcmp(s, "error", 5) && (n == 5 || s[5] == ' '))
        return;
    if (n > 4 && !memcmp(s, "ack ", 4) && (i = 4, digits_then(s, n, &i)) && i == n)
        return;
    if (n > 13 && !memcmp(s, "ack 0 window ", 13) && (i = 13, digits_then(s, n, &i)) &&
        (i == n || (n - i > 7 && !memcmp(s + i, " frame ", 7) && (i += 7, digits_then(s, n, &i)) &&
                    i == n)))
        return;
    if (n > 4 && !memcmp(s, "nak ", 4) && (i = 4, digits_then(s, n, &i)) && i < n && s[i] == ' ')
        return;
    FUZZ_CHECK(0, "a reply the protocol does not have: '%.*s'", (int)n, s);
}

static void on_write(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    if (fuzz_verbose)
        fwrite(data, 1, len, stderr);
    FUZZ_CHECK(len && data[len - 1] == '\n', "a write that does not end a line");
    for (size_t start = 0, i = 0; i < len; i++) {
        if (data[i] != '\n')
            continue;
        FUZZ_CHECK(i - start <= HR_CONSOLE_OUT_MAX, "a line of %zu bytes", i - start);
        for (size_t k = start; k < i; k++)
            FUZZ_CHECK(data[k] != '\r' && data[k] != '\0', "CR or NUL inside a reply");
        check_line(data + start, i - start);
        start = i + 1;
    }
}

static void put_le(uint8_t *p, uint32_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void feed_frame(uint16_t seq, const uint8_t *payload, size_t n)
{
    uint8_t f[1 + 4 + HR_CONSOLE_FRAME_MAX + 4];
    f[0] = HR_CONSOLE_FRAME_START;
    put_le(f + 1, seq, 2);
    put_le(f + 3, (uint32_t)n, 2);
    memcpy(f + 5, payload, n);
    put_le(f + 5 + n, hr_crc32(f + 1, 4 + n), 4);
    hr_console_feed(&con, f, 5 + n + 4);
}

/* The upload command for `announced` module bytes whose SHA-256 is that of
 * sha_src (signed when authentication is on), then `wire` in frames: the
 * module itself, or with `deflate` it compressed. */
static void feed_upload(const char *module, size_t announced, const uint8_t *sha_src,
                        size_t sha_n, const uint8_t *wire, size_t wn, size_t frame, bool deflate)
{
    char line[HR_CONSOLE_LINE_MAX + 64], auth[HR_AUTH_VALUE_MAX] = "", target[48], hex[65];
    char how[32] = "";
    uint8_t sha[32];
    hr_sha256(sha_src, sha_n, sha);
    hr_hex(sha, 32, hex);
    snprintf(target, sizeof target, "upload %s", module);
    if (!con.cfg.auth_disabled && fuzz_sign("SERIAL", target, sha_src, sha_n, auth) != 0)
        return;
    if (deflate)
        snprintf(how, sizeof how, " deflate %zu", wn);
    int k = snprintf(line, sizeof line, "upload %s %zu %s%s %s\n", module, announced, hex, how,
                     auth);
    hr_console_feed(&con, line, (size_t)k);
    for (size_t off = 0, seq = 1; off < wn; off += frame, seq++)
        feed_frame((uint16_t)seq, wire + off, wn - off < frame ? wn - off : frame);
}

/* The body compressed as hotd compresses it; 0 when zlib fails. */
static size_t squeeze(const uint8_t *body, size_t n, uint8_t *out, size_t room)
{
    z_stream z = {0};
    if (deflateInit2(&z, 9, Z_DEFLATED, -HR_INFLATE_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)body, z.avail_in = (uInt)n;
    z.next_out = out, z.avail_out = (uInt)room;
    int rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? room - z.avail_out : 0;
}

/* Records 3 and 5: a module bound to this firmware, plain or compressed. */
static size_t upload_record(const uint8_t *d, size_t i, size_t size, bool deflate)
{
    static const char *const modules[] = {"main", "aux", "nope", "main"};
    static uint8_t packed[2048 + 2048 / 8 + 64];
    const char *module = modules[d[i] % 4];
    size_t n = (size_t)((d[i + 1] | d[i + 2] << 8) % 2048) + 1;
    size_t frame = ((size_t)d[i + 3] + 1) * (con.cfg.frame > 256 ? 4 : 1);
    i += 4;
    n = n < size - i ? n : size - i;
    uint8_t *bound = fuzz_bind(d + i, n);
    const uint8_t *body = bound ? bound : d + i;
    size_t wn = deflate && n ? squeeze(body, n, packed, sizeof packed) : 0;
    if (n && (!deflate || wn))
        feed_upload(module, n, body, n, deflate ? packed : body, deflate ? wn : n, frame, deflate);
    free(bound);
    return i + n;
}

/* Record 6: the fuzzer's bytes as the compressed stream. */
static size_t stream_record(const uint8_t *d, size_t i, size_t size)
{
    size_t announced = (size_t)((d[i] | d[i + 1] << 8) % 8192) + 1;
    size_t frame = ((size_t)d[i + 2] + 1) * (con.cfg.frame > 256 ? 4 : 1);
    size_t n = (size_t)d[i + 3] + 1;
    i += 4;
    n = n < size - i ? n : size - i;
    if (n)
        feed_upload("main", announced, d + i, n, d + i, n, frame, true);
    return i + n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_device_start();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    if (size == 0)
        return 0;
    fuzz_device_reset();
    struct hr_console_config cfg = HR_CONSOLE_CONFIG_DEFAULT();
    cfg.write = on_write;
    cfg.auth_key = fuzz_key;
    cfg.auth_key_len = sizeof fuzz_key;
    cfg.auth_disabled = d[0] & 1;
    cfg.frame = d[0] & 2 ? 1024 : 256;
    cfg.reload_timeout_ms = 0; /* nobody reaches a safe point here: answer at once */
    hr_console_init(&con, &cfg);
    now = 0;
    hr_console_tick(&con, now);
    size_t i = 1;
    while (i < size) {
        uint8_t op = d[i++] % 8;
        size_t left = size - i, n;
        if (op == 1 && left >= 3) {
            uint16_t seq = (uint16_t)(d[i] | d[i + 1] << 8);
            n = (size_t)d[i + 2] + 1;
            i += 3;
            n = n < size - i ? n : size - i;
            if (n)
                feed_frame(seq, d + i, n);
            i += n;
        } else if (op == 2 && left >= 1) {
            now += (uint64_t)d[i++] * 16;
            hr_console_tick(&con, now);
        } else if ((op == 3 || op == 5) && left >= 4) {
            i = upload_record(d, i, size, op == 5);
        } else if (op == 6 && left >= 4) {
            i = stream_record(d, i, size);
        } else if (op == 4) {
            hr_console_close(&con);
        } else if (left >= 1) {
            n = (size_t)d[i++] + 1;
            n = n < size - i ? n : size - i;
            hr_console_feed(&con, d + i, n);
            i += n;
        }
    }
    hr_console_close(&con);
    fuzz_device_check();
    return 0;
}
