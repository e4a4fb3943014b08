/* The HTTP layer (http.c, http_reply.c, auth.c) against a fake runtime,
 * through an in-memory connection: every status code, the limits, HR1
 * authentication, bodies split into 1-byte reads, connections that drop,
 * garbage. Every answer is also checked for its required form (fake.c). */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "fake.h"

static void test_routes(void)
{
    fake_reset();
    struct resp r = expect(build("GET", "/status", NULL, NULL, 0, false), 0, 0, 200,
                           "\"nonce\":\"" FAKE_NONCE "\"");
    expect(build("GET", "/nope", NULL, NULL, 0, false), 0, 0, 404, "no such endpoint");
    expect(build("GET", "/", NULL, NULL, 0, false), 0, 0, 404, NULL);
    r = expect(build("PUT", "/upload", NULL, "x", 1, false), 0, 0, 405, "GET or POST");
    CHECK(strstr(r.head, "\r\nAllow: GET, POST"), "405 without Allow");
    expect(build("DELETE", "/status", NULL, NULL, 0, false), 0, 0, 405, NULL);
    r = expect(build("GET", "/upload", NULL, NULL, 0, false), 0, 0, 405, "takes POST");
    CHECK(strstr(r.head, "\r\nAllow: POST\r\n"), "405 Allow: POST");
    expect(build("POST", "/status", NULL, "", 0, false), 0, 0, 405, "takes GET");
    expect(build("GET", "/status?module=x&y=1", NULL, NULL, 0, false), 0, 0, 400, NULL);
    expect(build("GET", "/status", NULL, "abc", 3, false), 0, 0, 400, "no body");
    fake.status_len = 100000;
    expect(build("GET", "/status", NULL, NULL, 0, false), 0, 0, 500, "HR_HTTP_STATUS_MAX");
    CHECK(fake.begins == 0 && fake.reloads == 0, "routes touched the runtime");
}

static void test_syntax(void)
{
    static const char *const bad400[] = {
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage-tls-hello\r\n\r\n",
        "GET /status HTTP/1.1\nHost: x\n\n",             /* bare LF */
        "GET /status HTTP/1.1\r\nHost: x\rY\r\n\r\n",    /* bare CR */
        "GET  /status HTTP/1.1\r\n\r\n",                 /* two spaces */
        "GET /status\r\n\r\n",                           /* HTTP/0.9 */
        "GET status HTTP/1.1\r\n\r\n",
        "G(T /status HTTP/1.1\r\n\r\n",
        "GET /st\x01tus HTTP/1.1\r\n\r\n",
        "GET /status HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        "GET /status HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET /status HTTP/1.1\r\n: empty name\r\n\r\n",
        "GET /status HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "POST /upload HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        "POST /upload HTTP/1.1\r\nContent-Length: 1x\r\n\r\nx",
        "POST /upload HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST /upload HTTP/1.1\r\nContent-Length:\r\n\r\n",
        "POST /upload HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nx",
        "POST /reload?module=../etc HTTP/1.1\r\n\r\n",
        "POST /reload?module= HTTP/1.1\r\n\r\n",
        "POST /reload?module=a%20b HTTP/1.1\r\n\r\n",
        "POST /reload?mod=x HTTP/1.1\r\n\r\n",
        "POST /reload?module=0123456789012345678901234567890123 HTTP/1.1\r\n\r\n",
        "POST /reload HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi",
        "\r\nGET /status HTTP/1.1\r\n\r\n",
    };
    fake_reset();
    for (size_t i = 0; i < sizeof bad400 / sizeof bad400[0]; i++) {
        size_t n = strlen(bad400[i]);
        memcpy(req, bad400[i], n);
        expect(n, 0, 0, 400, NULL);
    }
    static const char nul[] = "GET /status HTTP/1.1\r\nX: a\0b\r\n\r\n";
    memcpy(req, nul, sizeof nul - 1);
    expect(sizeof nul - 1, 0, 0, 400, "control characters");
    expect((size_t)sprintf(req, "GET /status HTTP/2.0\r\n\r\n"), 0, 0, 505, NULL);
    expect((size_t)sprintf(req, "GET /status HTTP/1.1\r\nExpect: tea\r\n\r\n"), 0, 0, 417, NULL);
    CHECK(fake.begins == 0 && fake.reloads == 0 && fake.unloads == 0, "bad requests acted");
}

static void test_limits(void)
{
    fake_reset();
    cfg.max_module_size = 50000;
    int n = sprintf(req, "GET /%0*d HTTP/1.1\r\n\r\n", 260, 0);
    expect((size_t)n, 0, 0, 414, "256");
    n = sprintf(req, "GET /%0*d HTTP/1.1\r\n\r\n", 256 - 14, 0); /* exactly 256 */
    expect((size_t)n, 0, 0, 404, NULL);
    n = sprintf(req, "GET /%0*d HTTP/1.1\r\n\r\n", 256 - 13, 0); /* 257 */
    expect((size_t)n, 0, 0, 414, NULL);
    n = sprintf(req, "GET /status HTTP/1.1\r\nX: %0*d\r\n\r\n", 600, 0);
    expect((size_t)n, 0, 0, 431, "512");
    n = sprintf(req, "GET /status HTTP/1.1\r\nX: %0*d\r\n\r\n", 512 - 3, 0); /* exactly 512 */
    expect((size_t)n, 0, 0, 200, NULL);
    n = sprintf(req, "GET /status HTTP/1.1\r\nX: %0*d\r\n\r\n", 512 - 2, 0); /* 513 */
    expect((size_t)n, 0, 0, 431, NULL);
    n = sprintf(req, "GET /status HTTP/1.1\r\n");
    for (int i = 0; i < 33; i++)
        n += sprintf(req + n, "X-%d: y\r\n", i);
    n += sprintf(req + n, "\r\n");
    expect((size_t)n, 0, 0, 431, "32 header");
    n = sprintf(req, "GET /status HTTP/1.1\r\n");
    for (int i = 0; i < 32; i++)
        n += sprintf(req + n, "X-%d: y\r\n", i);
    n += sprintf(req + n, "\r\n");
    expect((size_t)n, 0, 0, 200, NULL);
    n = sprintf(req, "GET /status HTTP/1.1\r\n");
    for (int i = 0; i < 10; i++)
        n += sprintf(req + n, "X-%d: %0*d\r\n", i, 480, 0);
    n += sprintf(req + n, "\r\n");
    expect((size_t)n, 0, 0, 431, "4096");
    /* Length checks come before any body byte: the body never arrives. */
    expect(build("POST", "/upload", NULL, NULL, 0, true), 0, -1, 411, "Content-Length");
    expect(build("POST", "/upload", "Transfer-Encoding: chunked\r\n", NULL, 0, true), 0, -1, 411,
           "chunked");
    expect(build("POST", "/upload", "Transfer-Encoding: gzip\r\n", NULL, 0, true), 0, -1, 501,
           NULL);
    n = sprintf(req, "POST /upload HTTP/1.1\r\nContent-Length: %s\r\n\r\n",
                "99999999999999999999999999");
    cfg.auth_disabled = true;
    expect((size_t)n, 0, -1, 413, "limit");
    n = sprintf(req, "POST /upload HTTP/1.1\r\nContent-Length: %zu\r\n\r\n",
                cfg.max_module_size + 1);
    expect((size_t)n, 0, -1, 413, "limit");
    cfg.auth_disabled = false;
    size_t len = build("POST", "/upload", NULL, body, cfg.max_module_size + 1, true);
    expect(len - cfg.max_module_size - 1, 0, -1, 413, "limit");
    CHECK(fake.begins == 0 && fake.writes == 0, "limits: body read or upload begun");
    cfg.max_module_size = 128 * 1024;
}

static void test_auth(void)
{
    char authz[300];
    fake_reset();
    expect(build("POST", "/reload", NULL, NULL, 0, false), 0, 0, 401, "authentication required");
    static const char *const malformed[] = {
        "Authorization: Basic dXNlcjpwYXNz\r\n",
        "Authorization: HR1\r\n",
        "Authorization: HR1 counter=, mac=" Z64 "\r\n",
        "Authorization: HR1 counter=12 mac=" Z64 "\r\n",
        "Authorization: HR1 counter=012, mac=" Z64 "\r\n",
        "Authorization: HR1 counter=99999999999999999999, mac=" Z64 "\r\n",
        "Authorization: HR1 counter=12, mac=" "000000000000000000000000000000"
        "000000000000000000000000000000000\r\n", /* 63 digits */
        "Authorization: HR1 counter=12, mac=" Z64 "0\r\n",
        "Authorization: HR1 counter=12, mac=ABCDEF" "0000000000000000000000000000"
        "000000000000000000000000000000\r\n",
        "Authorization: HR1 mac=" Z64 ", counter=12\r\n",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        struct resp r = expect(build("POST", "/reload", malformed[i], NULL, 0, false), 0, 0, 401,
                               "Authorization");
        CHECK(strstr(r.head, "\r\nWWW-Authenticate: HR1\r\n"), "401 without WWW-Authenticate");
    }
    /* Wrong key: 403, nothing done, the counter not consumed. */
    sign("POST", "/reload", "", 0, counter + 1, (const uint8_t *)"other key", 9, authz);
    expect(build("POST", "/reload", authz, NULL, 0, false), 0, 0, 403, "wrong mac");
    CHECK(fake.reloads == 0 && fake.counter_last < counter + 1, "wrong key acted");
    /* Signed for another target, another method. */
    sign("POST", "/reload", "", 0, ++counter, KEY, sizeof KEY - 1, authz);
    expect(build("POST", "/unload", authz, NULL, 0, false), 0, 0, 403, "wrong mac");
    expect(build("POST", "/reload?module=main", authz, NULL, 0, false), 0, 0, 403, "wrong mac");
    /* Valid, then replayed as is, then an older counter. */
    sign("POST", "/reload", "", 0, ++counter, KEY, sizeof KEY - 1, authz);
    expect(build("POST", "/reload", authz, NULL, 0, false), 0, 0, 200, "generation 2");
    CHECK(fake.reloads == 1 && fake.counter_last == counter, "valid request not accepted");
    char msg[100];
    sprintf(msg, "replayed or stale request (counter %llu, last accepted %llu)",
            (unsigned long long)counter, (unsigned long long)counter);
    expect(build("POST", "/reload", authz, NULL, 0, false), 0, 0, 403, msg);
    sign("POST", "/reload", "", 0, counter - 5, KEY, sizeof KEY - 1, authz);
    expect(build("POST", "/reload", authz, NULL, 0, false), 0, 0, 403, "stale");
    CHECK(fake.reloads == 1, "replay acted");
    /* Upload: a stale counter fails before the body is read... */
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7 + 3);
    sign("POST", "/upload", body, 5000, counter, KEY, sizeof KEY - 1, authz);
    size_t len = build("POST", "/upload", authz, body, 5000, false);
    expect(len - 5000, 0, -1, 403, "stale");
    CHECK(fake.begins == 0, "stale upload begun");
    /* ...a modified body with the old signature is stored nowhere. */
    sign("POST", "/upload", body, 5000, ++counter, KEY, sizeof KEY - 1, authz);
    len = build("POST", "/upload", authz, body, 5000, false);
    req[len - 100] ^= 1;
    expect(len, 0, 0, 403, "wrong mac");
    CHECK(fake.begins == 1 && fake.aborts == 1 && fake.commits == 0, "tampered body stored");
    /* The signature was checked (and its counter spent) before the body:
     * the same request again is a replay; a freshly signed one is stored. */
    req[len - 100] ^= 1;
    expect(len, 0, 0, 403, "stale");
    sign("POST", "/upload", body, 5000, ++counter, KEY, sizeof KEY - 1, authz);
    len = build("POST", "/upload", authz, body, 5000, false);
    expect(len, 0, 0, 200, "\"sha256\":\"");
    CHECK(fake.commits == 1 && fake.counter_last == counter, "good upload not stored");
    /* hr_auth_sign agrees with the independent signature. */
    uint8_t sha[32];
    char value[HR_AUTH_VALUE_MAX];
    hr_sha256("", 0, sha);
    sign("POST", "/unload?module=m", "", 0, 424242, KEY, sizeof KEY - 1, authz);
    CHECK(hr_auth_sign(KEY, sizeof KEY - 1, "POST", "/unload?module=m", FAKE_NONCE, 424242, sha,
                       value) == 0 && !strncmp(authz + 15, value, strlen(value)),
          "hr_auth_sign: %s vs %s", value, authz);
    CHECK(hr_auth_sign(KEY, 3, "POST", "/a\nb", FAKE_NONCE, 1, sha, value) == -1,
          "newline in a signed field accepted");
    /* Auth disabled: unsigned requests pass. */
    cfg.auth_disabled = true;
    expect(build("POST", "/unload", NULL, NULL, 0, false), 0, 0, 200, "unloaded");
    expect(build("POST", "/upload", NULL, body, 10, false), 0, 0, 200, "\"size\":10");
    cfg.auth_disabled = false;
    /* Auth on without a key: refused, never "anything goes". */
    cfg.auth_key = NULL;
    expect(build("POST", "/reload", NULL, NULL, 0, true), 0, 0, 500, "no authentication key");
    cfg.auth_key = KEY;
}

/* One scheme per device: a public key takes HR2 only, an HMAC key HR1
 * only; the other is a 401 naming the scheme wanted. This build has no
 * ECDSA verifier (auth_ecdsa_none.c): a well-formed HR2 credential gets
 * its 500 (tests/fault/hr2_test.py verifies real signatures). */
static void test_auth_schemes(void)
{
    static const uint8_t point[65] = {4};
    /* The highest counter: above any the tests before spent. */
    static const char hr2[] = "Authorization: HR2 counter=18446744073709551615, sig=" Z64 Z64
                              "\r\n";
    fake_reset();
    uint64_t last = fake.counter_last;
    cfg.auth_pubkey = point;
    struct resp r = expect(build("POST", "/reload", NULL, NULL, 0, false), 0, 0, 401,
                           "authentication required");
    CHECK(strstr(r.head, "\r\nWWW-Authenticate: HR2\r\n"), "401 without WWW-Authenticate: HR2");
    r = expect(build("POST", "/reload", "Authorization: HR1 counter=77, mac=" Z64 "\r\n", NULL, 0,
                     false), 0, 0, 401, "verifies HR2 signatures");
    CHECK(strstr(r.head, "\r\nWWW-Authenticate: HR2\r\n"), "HR1 to an HR2 device: no HR2 named");
    expect(build("POST", "/reload", hr2, NULL, 0, false), 0, 0, 500, "without an ECDSA verifier");
    expect(build("POST", "/reload", "Authorization: HR2 counter=77, sig=" Z64 "\r\n", NULL, 0,
                 false), 0, 0, 401, "sig is not 128 lowercase hex digits");
    cfg.auth_pubkey = NULL;
    r = expect(build("POST", "/reload", hr2, NULL, 0, false), 0, 0, 401, "verifies HR1");
    CHECK(strstr(r.head, "\r\nWWW-Authenticate: HR1\r\n"), "HR2 to an HMAC device: no HR1 named");
    CHECK(fake.counter_last == last, "a refused scheme spent the counter");
}

/* Each runtime error answers its status, with the runtime's message verbatim. */
static void test_status_codes(void)
{
    static const struct { hotreload_err_t err; int status; } map[] = {
        {HOTRELOAD_ERR_ARG, 400}, {HOTRELOAD_ERR_FIRMWARE, 409}, {HOTRELOAD_ERR_BUSY, 409},
        {HOTRELOAD_ERR_TOO_LARGE, 413}, {HOTRELOAD_ERR_INVALID, 422}, {HOTRELOAD_ERR_INIT, 422},
        {HOTRELOAD_ERR_NOT_FOUND, 404}, {HOTRELOAD_ERR_TIMEOUT, 504},
        {HOTRELOAD_ERR_STORAGE, 500}, {HOTRELOAD_ERR_NOMEM, 500}, {HOTRELOAD_ERR_STATE, 409},
    };
    const char *m = "R_X86_64_PC32 at .text+0x10 against 'f\"o\\o\n\xff': out of range";
    const char *esc = "'f\\\"o\\\\o\\u000a\\u00ff'";
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        int st = map[i].status;
        fake_reset();
        fake.err_msg = m;
        fake.begin_err = map[i].err;
        expect(build("POST", "/upload", NULL, body, 100, true), 0, 0, st, esc);
        fake_reset();
        fake.err_msg = m;
        fake.commit_err = map[i].err;
        expect(build("POST", "/upload", NULL, body, 100, true), 0, 0, st, esc);
        CHECK(fake.commits == 0, "commit error counted");
        fake_reset();
        fake.err_msg = m;
        fake.reload_err = map[i].err;
        expect(build("POST", "/reload", NULL, NULL, 0, true), 0, 0, st, esc);
        fake_reset();
        fake.err_msg = m;
        fake.unload_err = map[i].err;
        expect(build("POST", "/unload?module=x", NULL, NULL, 0, true), 0, 0, st, esc);
        CHECK(!strcmp(fake.module, "x"), "module not passed");
        fake_reset();
        fake.err_msg = m;
        fake.reload_err = map[i].err;
        expect(build("POST", "/upload-and-reload", NULL, body, 100, true), 0, 0, st,
               "\"stored\":true");
        CHECK(fake.commits == 1, "upload-and-reload: not stored before the reload");
    }
    fake_reset();
    fake.write_err = HOTRELOAD_ERR_STORAGE;
    expect(build("POST", "/upload", NULL, body, 3000, true), 0, 0, 500, "storing");
    CHECK(fake.aborts == 1 && fake.commits == 0, "write error not aborted");
    fake_reset();
    fake.reload_err = HOTRELOAD_ERR_TIMEOUT;
    fake.err_msg = "the application did not reach a safe point (hotreload_poll) within 10000 ms";
    expect(build("POST", "/upload-and-reload?module=main", NULL, body, 100, true), 0, 0, 504,
           "safe point");
    CHECK(fake.reload_timeout == cfg.reload_timeout_ms, "reload timeout not passed");
}

static void test_bodies(void)
{
    fake_reset();
    size_t n = sizeof body - 1;
    cfg.max_module_size = sizeof body;
    size_t len = build("POST", "/upload-and-reload?module=app", NULL, body, n, true);
    struct resp r = expect(len, 1, 0, 200, "\"message\":\"module 'app' generation 2\"");
    uint8_t sha[32];
    char hex[65], want[160];
    hr_sha256(body, n, sha);
    hr_hex(sha, 32, hex);
    sprintf(want, "\"size\":%zu,\"sha256\":\"%s\",\"device_ms\":0", n, hex);
    CHECK(memmem(r.body, r.body_len, want, strlen(want)), "size/sha/device_ms wrong: %.*s",
          (int)r.body_len, r.body);
    CHECK(fake.commits == 1 && !memcmp(fake.stored_sha, sha, 32) && fake.reloads == 1,
          "1-byte reads: body not stored intact");
    for (size_t chunk = 2; chunk < 3000; chunk = chunk * 3 + 1) {
        len = build("POST", "/upload", NULL, body, 4099, true);
        expect(len, chunk, 0, 200, NULL);
    }
    /* The connection drops or times out in the middle of the body. */
    fake_reset();
    len = build("POST", "/upload", NULL, body, 20000, true);
    expect(len - 7000, 0, 0, 400, "connection closed after 13000 of 20000");
    expect(build("POST", "/upload", NULL, body, 20000, true) - 1, 7, -1, 408, "timed out");
    CHECK(fake.begins == 2 && fake.aborts == 2 && fake.commits == 0, "cut body stored");
    /* Expect: 100-continue is answered before the body is read. */
    fake_reset();
    len = build("POST", "/upload", "Expect: 100-continue\r\n", body, 3000, true);
    r = expect(len, 0, 0, 200, NULL);
    CHECK(r.had_continue, "no 100 Continue");
    /* Head cut off: closed, or a read error (slow-loris timeout). */
    len = build("GET", "/status", NULL, NULL, 0, false);
    expect(len - 3, 0, 0, 400, "closed");
    expect(len - 3, 0, -1, 408, "timed out");
    expect(0, 0, -1, 408, NULL);
    /* Empty upload: the runtime's answer (ARG) stands. */
    fake_reset();
    fake.begin_err = HOTRELOAD_ERR_ARG;
    fake.err_msg = "empty upload";
    expect(build("POST", "/upload", NULL, body, 0, true), 0, 0, 400, "empty upload");
    cfg.max_module_size = 128 * 1024;
}

/* Random bytes and mutated requests: never a crash, never an open upload,
 * every answer well-formed (under ASan/UBSan in the sanitizer build). */
static void test_garbage(void)
{
    srand(1);
    cfg.auth_disabled = true;
    for (int i = 0; i < 3000; i++) {
        fake_reset();
        size_t len;
        if (i % 2) {
            len = (size_t)rand() % 6000;
            for (size_t k = 0; k < len; k++)
                req[k] = (char)(rand() % 4 ? rand() % 256 : "\r\n :/"[rand() % 5]);
        } else {
            len = build(i % 4 ? "POST" : "GET", i % 3 ? "/upload" : "/status", NULL, body,
                        (size_t)rand() % 2000, false);
            for (int k = rand() % 4; k > 0; k--)
                req[(size_t)rand() % len] = (char)(rand() % 256);
        }
        struct resp r;
        bool ok = serve(&cfg, req, len, 1 + (size_t)rand() % 700, rand() % 2 ? 0 : -1, &r);
        CHECK(ok, "garbage %d: bad answer", i);
    }
    cfg.auth_disabled = false;
}

static int mem_write_fail(void *ctx, const void *buf, size_t len)
{
    (void)ctx, (void)buf, (void)len;
    return -1;
}

/* GET /status: the sections' addresses only for a signed request (or when
 * nothing is signed); a credential that does not verify is refused. */
static void test_status_policy(void)
{
    char authz[300];
    fake_reset();
    expect(build("GET", "/status", NULL, NULL, 0, false), 0, 0, 200, "\"addresses\":false}");
    sign("GET", "/status", "", 0, ++counter, KEY, sizeof KEY - 1, authz);
    expect(build("GET", "/status", authz, NULL, 0, false), 0, 0, 200, "\"sections\":[");
    CHECK(fake.counter_last == counter, "a signed GET did not spend its counter");
    expect(build("GET", "/status", authz, NULL, 0, false), 0, 0, 403, "stale"); /* replayed */
    sign("GET", "/status", "", 0, ++counter, (const uint8_t *)"other key", 9, authz);
    expect(build("GET", "/status", authz, NULL, 0, false), 0, 0, 403, "wrong mac");
    sign("POST", "/status", "", 0, ++counter, KEY, sizeof KEY - 1, authz); /* other method */
    expect(build("GET", "/status", authz, NULL, 0, false), 0, 0, 403, "wrong mac");
    expect(build("GET", "/status", "Authorization: HR1 x\r\n", NULL, 0, false), 0, 0, 401, NULL);
    cfg.auth_disabled = true;
    expect(build("GET", "/status", NULL, NULL, 0, false), 0, 0, 200, "\"addresses\":true");
    cfg.auth_disabled = false;
}

/* The log line quotes the request: bytes outside printable ASCII (and the
 * backslash) escaped as \xNN, whether the request was refused or not. */
static void test_log_escaped(void)
{
    static const char high[] = "GET /st\x80\xff\tx\\ HTTP/1.1\r\n\r\n";
    static const char ctl[] = "GET /\x1b[31m\x07 HTTP/1.1\r\n\r\n";
    fake_reset();
    memcpy(req, high, sizeof high);
    expect(sizeof high - 1, 0, 0, 400, "bad character in the target");
    CHECK(strstr(last_summary, "GET /st\\x80\\xff\\x09x\\x5c -> 400: "), "log: %s",
          last_summary);
    memcpy(req, ctl, sizeof ctl);
    expect(sizeof ctl - 1, 0, 0, 400, "control characters");
    CHECK(strstr(last_summary, "GET /\\x1b -> 400: "), "log (read up to the refused byte): %s",
          last_summary);
    for (const char *p = last_summary; *p; p++)
        CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f, "raw byte in the log");
}

int main(void)
{
    hotreload_server_config_t def = HOTRELOAD_SERVER_CONFIG_DEFAULT();
    cfg = def;
    cfg.auth_key = KEY;
    cfg.auth_key_len = sizeof KEY - 1;
    /* Twice: raw bytes (posix, lwIP), then heads parsed by another server
     * (esp_http_server): the answers must be the same. */
    for (int pass = 0; pass < 2; pass++) {
        via_parsed_head = pass == 1;
        test_routes();
        test_syntax();
        test_limits();
        test_auth();
        test_auth_schemes();
        test_status_codes();
        test_bodies();
        test_garbage();
        test_status_policy();
    }
    test_log_escaped();
    CHECK(parsed_heads > 100, "only %d requests went through parsed heads", parsed_heads);
    struct hr_http_conn dead = {NULL, NULL, mem_write_fail};
    CHECK(hr_http_reject(&dead, 503, "busy") == 0, "reject on a dead connection");
    printf("http_test: %d checks (%d requests through parsed heads), %d failures\n", checks,
           parsed_heads, failures);
    return failures != 0;
}
