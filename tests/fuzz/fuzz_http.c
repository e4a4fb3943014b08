/* Fuzz target: the device's HTTP request parser and endpoints
 * (agent/runtime/http*.c, auth.c) in front of the real runtime, storage
 * and status (device.c), through an in-memory connection.
 *
 * Input: one byte of settings, then the bytes the client sends (where they
 * hold FUZZ_FWID_MARK, this firmware's build-id: device.h).
 *   bit 0     authentication disabled (else on, with device.c's key)
 *   bit 1     sign: insert Authorization and X-Hotreload-Sha256 lines after
 *             the request line, valid for its method, target and the bytes
 *             after the head, so the signed paths are reachable
 *   bits 2-3  bytes per read: 1024, 1, 7, 100
 *   bit 4     at the end the read fails (time-out) instead of closing
 *   bit 5     the connection breaks before anything is written back
 *
 * Every answer must be one the protocol allows (docs/http.md): status
 * line, Content-Type, Connection: close, a Content-Length equal to the
 * body, a body of printable ASCII that hotd's JSON parser reads, with "ok"
 * true exactly for 200 and an "error" otherwise; 401 with WWW-Authenticate,
 * 405 with Allow. No upload may stay open and no module may load. */
#include <string.h>

#include "auth.h"
#include "device.h"
#include "fuzz.h"
#include "hotreload/http.h"
#include "sha256.h"

struct conn {
    const uint8_t *in;
    size_t len, pos, chunk;
    int end;
    char out[32768];
    size_t out_len;
    int writes_left; /* -1: never fail */
};

static int conn_read(void *ctx, void *buf, size_t len)
{
    struct conn *c = ctx;
    if (c->pos == c->len)
        return c->end;
    size_t n = c->len - c->pos;
    n = n < c->chunk ? n : c->chunk;
    n = n < len ? n : len;
    memcpy(buf, c->in + c->pos, n);
    c->pos += n;
    return (int)n;
}

static int conn_write(void *ctx, const void *buf, size_t len)
{
    struct conn *c = ctx;
    if (c->writes_left == 0)
        return -1;
    if (c->writes_left > 0)
        c->writes_left--;
    FUZZ_CHECK(len <= sizeof c->out - c->out_len, "an answer of more than %zu bytes",
               sizeof c->out);
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    return 0;
}

/* The request with credentials for it inserted after the request line, or
 * NULL when it has no request line to sign. */
static uint8_t *signed_copy(const uint8_t *d, size_t n, size_t *outlen)
{
    const uint8_t *eol = NULL, *head_end = NULL;
    for (size_t i = 0; i + 1 < n && !eol; i++)
        if (d[i] == '\r' && d[i + 1] == '\n')
            eol = d + i;
    for (size_t i = 0; i + 3 < n && !head_end; i++)
        if (!memcmp(d + i, "\r\n\r\n", 4))
            head_end = d + i + 4;
    if (!eol || eol - d > 256)
        return NULL;
    char line[257], *sp1, *sp2;
    memcpy(line, d, (size_t)(eol - d));
    line[eol - d] = '\0';
    if (strlen(line) != (size_t)(eol - d) || !(sp1 = strchr(line, ' ')) ||
        !(sp2 = strchr(sp1 + 1, ' ')))
        return NULL;
    *sp1 = *sp2 = '\0';
    const uint8_t *body = head_end ? head_end : d + n;
    char auth[HR_AUTH_VALUE_MAX], extra[HR_AUTH_VALUE_MAX + 128];
    if (fuzz_sign(line, sp1 + 1, body, (size_t)(d + n - body), auth) != 0)
        return NULL;
    uint8_t sha[32];
    char hex[65];
    hr_sha256(body, (size_t)(d + n - body), sha);
    hr_hex(sha, 32, hex);
    int k = snprintf(extra, sizeof extra, "Authorization: %s\r\nX-Hotreload-Sha256: %s\r\n",
                     auth, hex);
    size_t at = (size_t)(eol - d) + 2;
    uint8_t *out = malloc(n + (size_t)k);
    FUZZ_CHECK(out, "out of memory");
    memcpy(out, d, at);
    memcpy(out + at, extra, (size_t)k);
    memcpy(out + at + (size_t)k, d + at, n - at);
    *outlen = n + (size_t)k;
    return out;
}

static const char *find(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(hay + i, needle, k))
            return hay + i;
    return NULL;
}

static void check_answer(const struct conn *c, int status)
{
    const char *p = c->out, *end = c->out + c->out_len;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if ((size_t)(end - p) >= sizeof cont - 1 && !memcmp(p, cont, sizeof cont - 1))
        p += sizeof cont - 1;
    const char *sep = find(p, (size_t)(end - p), "\r\n\r\n");
    FUZZ_CHECK(sep, "no end of head in %.*s", (int)c->out_len, c->out);
    char head[1024];
    size_t hlen = (size_t)(sep - p) + 2;
    FUZZ_CHECK(hlen < sizeof head, "a head of %zu bytes", hlen);
    memcpy(head, p, hlen);
    head[hlen] = '\0';
    int st = 0;
    FUZZ_CHECK(sscanf(head, "HTTP/1.1 %3d ", &st) == 1 && st == status,
               "status line '%.40s' for %d", head, status);
    FUZZ_CHECK(strstr(head, "\r\nContent-Type: application/json\r\n") &&
                   strstr(head, "\r\nConnection: close\r\n"),
               "Content-Type or Connection missing: %s", head);
    const char *cl = strstr(head, "\r\nContent-Length: ");
    const char *body = sep + 4;
    size_t blen = (size_t)(end - body);
    FUZZ_CHECK(cl && strtoul(cl + 18, NULL, 10) == blen, "Content-Length is not %zu: %s", blen,
               head);
    if (status == 401)
        FUZZ_CHECK(strstr(head, "\r\nWWW-Authenticate: HR1\r\n"), "401 without WWW-Authenticate");
    if (status == 405)
        FUZZ_CHECK(strstr(head, "\r\nAllow: "), "405 without Allow");
    int ok = fuzz_json_answer(body, blen);
    FUZZ_CHECK(ok == (status == 200), "\"ok\":%s with status %d", ok ? "true" : "false",
               status);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_device_start();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[] = {1024, 1, 7, 100};
    if (size == 0)
        return 0;
    uint8_t flags = data[0];
    const uint8_t *req = data + 1;
    size_t len = size - 1;
    uint8_t *bound = fuzz_bind(req, len), *owned = NULL;
    fuzz_device_reset();
    if (bound)
        req = bound;
    if (flags & 2) {
        size_t slen;
        if ((owned = signed_copy(req, len, &slen))) {
            req = owned;
            len = slen;
        }
    }
    hotreload_server_config_t cfg = HOTRELOAD_SERVER_CONFIG_DEFAULT();
    cfg.auth_key = fuzz_key;
    cfg.auth_key_len = sizeof fuzz_key;
    cfg.auth_disabled = flags & 1;
    cfg.reload_timeout_ms = 0; /* nobody reaches a safe point here: answer at once */
    static struct conn c;
    memset(&c, 0, sizeof c);
    c.in = req;
    c.len = len;
    c.chunk = chunks[flags >> 2 & 3];
    c.end = flags & 16 ? -1 : 0;
    c.writes_left = flags & 32 ? 0 : -1;
    struct hr_http_conn conn = {&c, conn_read, conn_write};
    char summary[512];
    int status = hr_http_serve(&conn, &cfg, summary, sizeof summary);
    FUZZ_CHECK(memchr(summary, 0, sizeof summary), "summary not terminated");
    if (fuzz_verbose)
        fprintf(stderr, "%s\n  %.*s\n", summary, (int)c.out_len, c.out);
    if (flags & 32)
        FUZZ_CHECK(status == 0, "status %d over a broken connection", status);
    else
        check_answer(&c, status);
    fuzz_device_check();
    free(owned);
    free(bound);
    return 0;
}
