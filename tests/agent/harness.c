/* Helpers of http_test: signing, building requests, checking answers. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>

#include "fake.h"

int failures, checks;
const uint8_t KEY[KEY_LEN + 1] = "a per-project key, 32+ bytes long!";
hotreload_server_config_t cfg;
uint64_t counter = 1000;
char req[1 << 20];
uint8_t body[100000];

/* The signature, computed here independently of auth.c's own code. */
void sign(const char *method, const char *target, const void *b, size_t n,
                 uint64_t ctr, const uint8_t *key, size_t keylen, char *out)
{
    uint8_t sha[32], mac[32];
    char hex[65], text[1024];
    hr_sha256(b, n, sha);
    hr_hex(sha, 32, hex);
    int len = snprintf(text, sizeof text, "HR1\n%s\n%s\n%s\n%llu\n%s", method, target,
                       FAKE_NONCE, (unsigned long long)ctr, hex);
    hr_hmac_sha256(key, keylen, text, (size_t)len, mac);
    hr_hex(mac, 32, hex);
    int at = sprintf(out, "Authorization: HR1 counter=%llu, mac=%s\r\n",
                     (unsigned long long)ctr, hex);
    /* Uploads declare the body's SHA-256, which the MAC covers. */
    if (b) {
        hr_hex(sha, 32, hex);
        sprintf(out + at, "X-Hotreload-Sha256: %s\r\n", hex);
    }
}

/* A request with Content-Length (when body != NULL) and a fresh signature
 * (when auth is true); `extra` adds header lines. Returns its length. */
size_t build(const char *method, const char *target, const char *extra, const void *b,
                    size_t n, bool auth)
{
    char authz[300] = "";
    if (auth)
        sign(method, target, b, n, ++counter, KEY, sizeof KEY - 1, authz);
    int len = sprintf(req, "%s %s HTTP/1.1\r\nHost: device\r\n%s%s", method, target, authz,
                      extra ? extra : "");
    if (b)
        len += sprintf(req + len, "Content-Length: %zu\r\n", n);
    len += sprintf(req + len, "\r\n");
    if (b && n)
        memcpy(req + len, b, n);
    return (size_t)len + (b ? n : 0);
}

/* Serve `req`; check the answer's form, status and (if given) a piece of
 * its body. */
struct resp expect(size_t len, size_t chunk, int end, int status, const char *has)
{
    struct resp r;
    bool form = serve(&cfg, req, len, chunk, end, &r);
    CHECK(form, "answer to '%.40s' malformed", req);
    CHECK(r.status == status, "'%.60s': status %d, expected %d: %.*s", req, r.status, status,
          (int)r.body_len, r.body);
    if (has)
        CHECK(r.body && memmem(r.body, r.body_len, has, strlen(has)),
              "'%.40s': body lacks '%s': %.*s", req, has, (int)r.body_len, r.body);
    return r;
}

