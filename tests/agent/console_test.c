/* The serial console (agent/runtime/console.c) against a fake runtime
 * (console_fake.c: the hr_rt_* calls stand in for the real ones), so the
 * protocol is tested alone -- commands, framed uploads with damaged, repeated
 * and stalled frames, compressed uploads, SHA-256 and HR1 authentication. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "hotreload/console.h"
#include "hotreload.h"
#include "sha256.h"
#include "hotreload/port.h"
#include <zlib.h>

#include "console_fake.h"

static char outbuf[1 << 16];
static size_t outlen;
static int write_calls;

static void out(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    CHECK(len > 0 && data[len - 1] == '\n'); /* whole lines only */
    CHECK(outlen + len < sizeof outbuf);
    memcpy(outbuf + outlen, data, len);
    outlen += len;
    outbuf[outlen] = '\0';
    write_calls++;
}

/* The device's answer since the last call, and forget it. */
static char last[1 << 16];
static const char *take(void)
{
    memcpy(last, outbuf, outlen + 1);
    outlen = 0;
    outbuf[0] = '\0';
    return last;
}

static struct hr_console con;
static uint64_t now;

static void send(const void *data, size_t len)
{
    /* In pieces of 7 bytes: the console must not care where reads split. */
    for (size_t i = 0; i < len; i += 7)
        hr_console_feed(&con, (const uint8_t *)data + i, len - i < 7 ? len - i : 7);
}

static void line(const char *s)
{
    send(s, strlen(s));
    send("\r\n", 2);
}

static void frame_bytes(uint16_t seq, const uint8_t *payload, uint16_t len, uint8_t *f)
{
    f[0] = HR_CONSOLE_FRAME_START;
    f[1] = (uint8_t)seq, f[2] = (uint8_t)(seq >> 8), f[3] = (uint8_t)len, f[4] = (uint8_t)(len >> 8);
    memcpy(f + 5, payload, len);
    uint32_t crc = hr_crc32(f + 1, 4u + len);
    for (int i = 0; i < 4; i++)
        f[5 + len + i] = (uint8_t)(crc >> (8 * i));
}

static void frame(uint16_t seq, const uint8_t *payload, uint16_t len, int damage)
{
    uint8_t f[1 + 4 + 256 + 4];
    frame_bytes(seq, payload, len, f);
    if (damage)
        f[5 + len / 2] ^= 0x40;
    send(f, 9u + len);
}

static void sha_hex(const uint8_t *data, size_t len, char hex[65])
{
    uint8_t sha[32];
    hr_sha256(data, len, sha);
    hr_hex(sha, 32, hex);
}

static void test_commands(void)
{
    line("help");
    CHECK(strstr(take(), "upload <module>") && strstr(last, "\nok\n"));
    line("status");
    CHECK(!strcmp(take(), "ok {\"modules\":[{\"name\":\"main\"}]}\n"));
    line("symbols");
    CHECK(!strcmp(take(), "  tick 0x1000 func\n  counter 0x1010 data\nok 2 symbols\n"));
    line("  reload   main ");
    CHECK(!strcmp(take(), "ok reloaded module 'main' generation 2\n"));
    line("unload other");
    CHECK(!strncmp(take(), "error failed: ", 14));
    line("confirm");
    CHECK(!strcmp(take(), "ok confirmed\n"));
    line("nonce");
    CHECK(!strcmp(take(), "ok 0123456789abcdef0123456789abcdef 0 deflate\n"));
    line("frobnicate");
    CHECK(!strncmp(take(), "error unknown command 'frobnicate'", 34));
    line("");
    CHECK(!strcmp(take(), ""));
    line("abort");
    CHECK(!strcmp(take(), "error no upload in progress\n"));
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    line(big);
    CHECK(!strncmp(take(), "error line longer", 17));
    line("upload main 12");
    CHECK(!strncmp(take(), "error usage", 11));
}

/* A 1000-byte module, with frame-start bytes and newlines in the payload. */
static uint8_t module[1000];

static void make_module(void)
{
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof module; i++) {
        x = x * 1103515245u + 12345u;
        module[i] = (uint8_t)(x >> 16);
    }
    module[3] = HR_CONSOLE_FRAME_START, module[300] = '\n', module[301] = 'a';
}

static void send_all_frames(uint16_t from, uint32_t off)
{
    char want[32];
    for (uint16_t seq = from; off < sizeof module; seq++) {
        uint16_t n = sizeof module - off < 256 ? (uint16_t)(sizeof module - off) : 256;
        frame(seq, module + off, n, 0);
        snprintf(want, sizeof want, "ack %u\n", seq);
        CHECK(!strncmp(take(), want, strlen(want)));
        off += n;
    }
}

static void test_upload(void)
{
    char cmd[200], hex[65];
    sha_hex(module, sizeof module, hex);
    snprintf(cmd, sizeof cmd, "upload main %zu %s", sizeof module, hex);
    line(cmd);
    CHECK(!strcmp(take(), "ack 0 window 4\n"));
    frame(1, module, 256, 0);
    CHECK(!strcmp(take(), "ack 1\n"));
    frame(2, module + 256, 256, 1); /* damaged on the line */
    CHECK(!strcmp(take(), "nak 2 crc mismatch\n"));
    frame(3, module + 512, 256, 0); /* out of order */
    CHECK(!strcmp(take(), "nak 2 expected frame 2, got 3\n"));
    send("\n\nnoise\n", 8);         /* between frames: ignored */
    CHECK(!strcmp(take(), ""));
    frame(2, module + 256, 256, 0); /* resent */
    CHECK(!strcmp(take(), "ack 2\n"));
    frame(2, module + 256, 256, 0); /* our ack was lost: acked again, stored once */
    CHECK(!strcmp(take(), "ack 2\n"));
    uint8_t bad_len[5] = {HR_CONSOLE_FRAME_START, 3, 0, 0xff, 0x0f};
    send(bad_len, sizeof bad_len);
    CHECK(!strcmp(take(), "nak 3 bad frame length 4095\n"));
    /* Frame 3 loses its last 100 bytes and the host, sending frames back to
     * back, sends it again: the cut frame swallows the start of the resent
     * one and fails its CRC; the device finds the resent frame inside and
     * takes it without another round trip. */
    uint8_t whole[1 + 4 + 256 + 4];
    frame_bytes(3, module + 512, 256, whole);
    send(whole, sizeof whole - 100);
    send(whole, sizeof whole);
    CHECK(!strcmp(take(), "nak 3 crc mismatch\nack 3\n"));
    int before = commits;
    send_all_frames(4, 768);
    CHECK(strstr(last, "ok stored module 'main': 1000 bytes, sha256 ") && strstr(last, hex));
    CHECK(commits == before + 1 && committed_len == sizeof module &&
          !memcmp(committed, module, sizeof module));
    CHECK(uploads_open == 0);
}

static void test_wrong_sha(void)
{
    char cmd[200], hex[65];
    sha_hex(module, sizeof module - 1, hex);
    snprintf(cmd, sizeof cmd, "upload main %zu %s", sizeof module, hex);
    line(cmd);
    CHECK(!strcmp(take(), "ack 0 window 4\n"));
    int c0 = commits, a0 = aborts;
    send_all_frames(1, 0);
    CHECK(strstr(last, "error sha256 mismatch"));
    CHECK(commits == c0 && aborts == a0 + 1 && uploads_open == 0);
    /* Refused before any byte is stored. */
    line("upload nope 10 " "0000000000000000000000000000000000000000000000000000000000000000");
    CHECK(!strncmp(take(), "error failed: no module 'nope'", 30));
}

/* Raw deflate with hotd's window (port.h); returns the compressed size. */
static size_t squeeze(const uint8_t *in, size_t len, uint8_t *out, size_t room)
{
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, -HR_INFLATE_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)in, z.avail_in = (uInt)len;
    z.next_out = out, z.avail_out = (uInt)room;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    deflateEnd(&z);
    return room - z.avail_out;
}

/* Send `wire` bytes of `body` in frames of 256 after a deflate upload command
 * announcing `announced` module bytes and `sha_of`'s SHA-256, until the
 * console answers other than "ack": that answer is in `last`. */
static void deflate_upload(const uint8_t *sha_of, size_t announced, const uint8_t *body,
                           size_t wire)
{
    char cmd[200], hex[65];
    sha_hex(sha_of, announced, hex);
    snprintf(cmd, sizeof cmd, "upload main %zu %s deflate %zu", announced, hex, wire);
    line(cmd);
    CHECK(!strcmp(take(), "ack 0 window 4\n"));
    for (uint16_t seq = 1; wire; seq++) {
        uint16_t n = wire < 256 ? (uint16_t)wire : 256;
        frame(seq, body, n, 0);
        if (strncmp(take(), "ack ", 4) != 0 || strchr(last, '\n') != last + strlen(last) - 1)
            return; /* an answer beyond the frame's ack */
        body += n, wire -= n;
    }
}

static void test_deflate(void)
{
    static uint8_t plain[4000], packed[5000];
    for (size_t i = 0; i < sizeof plain; i++) /* compressible, as code is */
        plain[i] = module[i % 97] ^ (uint8_t)(i / 500);
    size_t n = squeeze(plain, sizeof plain, packed, sizeof packed);
    CHECK(n < sizeof plain / 2);
    line("nonce");
    CHECK(!strcmp(take(), "ok 0123456789abcdef0123456789abcdef 0 deflate\n"));
    int c0 = commits, a0 = aborts;
    deflate_upload(plain, sizeof plain, packed, n);
    CHECK(strstr(last, "ok stored module 'main': 4000 bytes, sha256 "));
    CHECK(commits == c0 + 1 && committed_len == sizeof plain &&
          !memcmp(committed, plain, sizeof plain));
    /* Inflating past the announced length (a bomb): refused there. */
    deflate_upload(plain, 1000, packed, n);
    CHECK(strstr(last, "error upload aborted: the compressed module inflates to more than "
                       "the 1000 bytes"));
    /* Cut short, then corrupt, then with bytes after its end. */
    deflate_upload(plain, sizeof plain, packed, n / 2);
    CHECK(strstr(last, "error the compressed module ends early"));
    deflate_upload(plain, sizeof plain, module, 300);
    CHECK(strstr(last, "error upload aborted: the compressed module is corrupt ("));
    memcpy(packed + n, "xyz", 3);
    deflate_upload(plain, sizeof plain, packed, n + 3);
    CHECK(strstr(last, "error upload aborted: bytes after the end of the compressed module"));
    CHECK(commits == c0 + 1 && aborts == a0 + 4 && uploads_open == 0);
    /* The command's own checks. */
    line("upload main 10 0000000000000000000000000000000000000000000000000000000000000000 "
         "deflate 0");
    CHECK(!strncmp(take(), "error usage: upload", 19));
}

static void test_stall_and_abort(void)
{
    char cmd[200], hex[65];
    sha_hex(module, sizeof module, hex);
    snprintf(cmd, sizeof cmd, "upload main %zu %s", sizeof module, hex);
    int a0 = aborts;
    /* A frame cut short: nak after the frame timeout, then resent. */
    line(cmd);
    CHECK(!strcmp(take(), "ack 0 window 4\n"));
    uint8_t half[40] = {HR_CONSOLE_FRAME_START, 1, 0, 0, 1};
    send(half, sizeof half);
    hr_console_tick(&con, now += 100);
    CHECK(!strcmp(take(), ""));
    hr_console_tick(&con, now += 500);
    CHECK(!strcmp(take(), "nak 1 frame incomplete after 500 ms\n"));
    frame(1, module, 256, 0);
    CHECK(!strcmp(take(), "ack 1\n"));
    /* Then silence: the upload is dropped. */
    hr_console_tick(&con, now += 10000);
    CHECK(strstr(take(), "error upload aborted: no data") && aborts == a0 + 1);
    /* An explicit abort. */
    line(cmd);
    CHECK(!strcmp(take(), "ack 0 window 4\n"));
    frame(1, module, 256, 0);
    take();
    line("abort");
    CHECK(!strncmp(take(), "error upload aborted: abort requested (256 of 1000", 50));
    CHECK(aborts == a0 + 2 && uploads_open == 0);
    line("status"); /* back to commands */
    CHECK(!strncmp(take(), "ok {", 4));
}

static void test_auth(void)
{
    static const uint8_t key[] = "a per-project key of 32 bytes!!";
    struct hr_console_config cfg = HR_CONSOLE_CONFIG_DEFAULT();
    cfg.write = out;
    cfg.auth_key = key;
    cfg.auth_key_len = sizeof key - 1;
    hr_console_init(&con, &cfg);
    char cmd[400], hex[65], value[HR_AUTH_VALUE_MAX];
    uint8_t sha[32];
    hr_sha256(module, sizeof module, sha);
    hr_hex(sha, 32, hex);
    snprintf(cmd, sizeof cmd, "upload main %zu %s", sizeof module, hex);
    line(cmd);
    CHECK(!strncmp(take(), "error authentication failed", 27));
    CHECK(hr_auth_sign(key, sizeof key - 1, "SERIAL", "upload main", hr_rt_nonce(), 7, sha,
                       value) == 0);
    snprintf(cmd, sizeof cmd, "upload main %zu %s %s", sizeof module, hex, value);
    line(cmd);
    CHECK(!strcmp(take(), "ack 0 window 4\n"));
    send_all_frames(1, 0);
    CHECK(strstr(last, "ok stored module 'main'") != NULL);
    line(cmd); /* replayed */
    CHECK(strstr(take(), "error authentication failed: replayed or stale"));
    hr_auth_sign(key, sizeof key - 1, "SERIAL", "upload other", hr_rt_nonce(), 8, sha, value);
    snprintf(cmd, sizeof cmd, "upload main %zu %s %s", sizeof module, hex, value);
    line(cmd); /* signed for another target */
    CHECK(strstr(take(), "error authentication failed: wrong mac"));
    CHECK(uploads_open == 0);

    /* reload, unload and confirm change what runs: signed too. */
    uint8_t empty[32];
    hr_sha256("", 0, empty);
    line("reload main");
    CHECK(strstr(take(), "error authentication failed") && strstr(last, "'reload main'"));
    line("confirm");
    CHECK(strstr(take(), "error authentication failed") && strstr(last, "'confirm'"));
    hr_auth_sign(key, sizeof key - 1, "SERIAL", "reload main", hr_rt_nonce(), 9, empty, value);
    snprintf(cmd, sizeof cmd, "reload  main %s", value); /* words joined by one space */
    line(cmd);
    CHECK(!strncmp(take(), "ok reloaded module 'main'", 25));
    line(cmd); /* replayed */
    CHECK(strstr(take(), "error authentication failed: replayed or stale"));
    hr_auth_sign(key, sizeof key - 1, "SERIAL", "reload main", hr_rt_nonce(), 10, empty, value);
    snprintf(cmd, sizeof cmd, "unload main %s", value); /* signed for another command */
    line(cmd);
    CHECK(strstr(take(), "error authentication failed: wrong mac"));
    hr_auth_sign(key, sizeof key - 1, "SERIAL", "confirm", hr_rt_nonce(), 11, empty, value);
    snprintf(cmd, sizeof cmd, "confirm %s", value);
    line(cmd);
    CHECK(!strcmp(take(), "ok confirmed\n"));
    line("status"); /* reading needs nothing */
    CHECK(!strncmp(take(), "ok {", 4));

    /* A trusted line: said at start, and no credential asked. */
    cfg.trusted = true;
    hr_console_init(&con, &cfg);
    CHECK(strstr(take(), "this line is trusted") != NULL);
    line("reload main");
    CHECK(!strncmp(take(), "ok reloaded module 'main'", 25));
}

/* A damaged frame whose payload holds a start byte and a plausible header:
 * the device, hunting for a frame in those bytes, may take that false start
 * for one, and the false frame swallows the frame the host resends. Every
 * place and length of such a false start must end with the resent frame
 * acknowledged, at worst after frame timeouts. */
static void test_false_starts(void)
{
    char cmd[200], hex[65];
    sha_hex(module, sizeof module, hex);
    snprintf(cmd, sizeof cmd, "upload main %zu %s", sizeof module, hex);
    static const uint16_t lens[] = {1, 7, 50, 100, 150, 200, 240, 250, 255, 256, 257, 300};
    int stuck = 0;
    for (unsigned at = 0; at < 256; at++) {
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            line(cmd);
            take();
            frame(1, module, 256, 0);
            uint8_t f[1 + 4 + 256 + 4], payload[256];
            memcpy(payload, module + 256, 256);
            payload[at] = HR_CONSOLE_FRAME_START;
            for (unsigned i = 1; i < 5 && at + i < 256; i++)
                payload[at + i] = (uint8_t[]){2, 0, (uint8_t)lens[k], lens[k] >> 8}[i - 1];
            frame_bytes(2, payload, 256, f);
            f[5 + (at + 128) % 256] ^= 0x01; /* damaged: its CRC fails */
            send(f, sizeof f);
            frame(2, module + 256, 256, 0); /* resent */
            for (int t = 0; t < 4 && !strstr(outbuf, "ack 2\n"); t++)
                hr_console_tick(&con, now += 600);
            if (!strstr(take(), "ack 2\n") && ++stuck < 4)
                fprintf(stderr, "at %u len %u: %s", at, lens[k], last);
            line("abort");
            take();
        }
    }
    CHECK(stuck == 0);
}

int main(void)
{
    struct hr_console_config cfg = HR_CONSOLE_CONFIG_DEFAULT();
    cfg.write = out;
    cfg.auth_disabled = true;
    hr_console_init(&con, &cfg);
    CHECK(hr_crc32("123456789", 9) == 0xcbf43926u); /* the check value of CRC-32 */
    make_module();
    test_commands();
    test_upload();
    test_wrong_sha();
    test_deflate();
    test_stall_and_abort();
    test_false_starts();
    test_auth();
    if (failures) {
        fprintf(stderr, "console_test: %d failures\n", failures);
        return 1;
    }
    printf("console_test: ok (%d reply lines)\n", write_calls);
    return 0;
}
