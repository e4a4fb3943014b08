/* The request head: request line and headers, read through a small buffer
 * and checked against the limits of http.h. Strict on purpose: lenient
 * parsers that disagree about where a request ends are how requests get
 * smuggled. Freestanding. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "http_int.h"

bool hr_http_fill(struct rd *r)
{
    if (r->pos < r->len)
        return true;
    int n = r->c->read(r->c->ctx, r->buf, sizeof r->buf);
    if (n <= 0 || (size_t)n > sizeof r->buf) {
        r->last = n > 0 ? -1 : n;
        return false;
    }
    r->pos = 0;
    r->len = (size_t)n;
    return true;
}

enum line_result { LINE_OK, LINE_LONG, LINE_BAD, LINE_EOF };

/* One CRLF-terminated line of at most `max` bytes into r->line. A bare CR
 * or LF, or a control character, is refused: lenient parsers disagreeing
 * about line ends is how requests get smuggled. */
static enum line_result read_line(struct rd *r, size_t max, size_t *len, size_t *consumed)
{
    size_t n = 0;
    bool cr = false;
    for (;;) {
        if (!hr_http_fill(r))
            return LINE_EOF;
        uint8_t ch = r->buf[r->pos++];
        (*consumed)++;
        if (cr || (ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f) {
            /* Kept with the refused byte, NUL-terminated: the log shows it escaped. */
            if (cr && ch == '\n')
                return *len = n, r->line[n] = '\0', LINE_OK;
            if (n < max && ch)
                r->line[n++] = (char)ch;
            r->line[n] = '\0';
            return LINE_BAD;
        }
        if (ch == '\r') {
            cr = true;
            continue;
        }
        if (n == max)
            return LINE_LONG;
        r->line[n++] = (char)ch;
    }
}

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static bool name_is(const char *name, size_t n, const char *want)
{
    if (strlen(want) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != want[i])
            return false;
    }
    return true;
}

int hr_http_fail(struct reply *rep, int status, const char *error)
{
    rep->status = status;
    rep->error = error;
    return status;
}

static int parse_request_line(struct req *q, const char *line, size_t len, struct reply *rep)
{
    memcpy(q->line, line, len + 1);
    char *sp1 = strchr(q->line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp1 == q->line || sp2 == sp1 + 1)
        return hr_http_fail(rep, 400, "malformed request line: expected 'METHOD /target HTTP/1.1'");
    *sp1 = *sp2 = '\0';
    q->method = q->line;
    q->target = sp1 + 1;
    const char *version = sp2 + 1;
    for (const char *p = q->method; *p; p++)
        if (!is_tchar(*p))
            return hr_http_fail(rep, 400, "malformed request line: bad character in the method");
    for (const char *p = q->target; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return hr_http_fail(rep, 400, "malformed request line: bad character in the target");
    if (q->target[0] != '/')
        return hr_http_fail(rep, 400, "malformed request line: the target must start with '/'");
    if (strncmp(version, "HTTP/", 5) != 0)
        return hr_http_fail(rep, 400, "malformed request line: no HTTP version");
    if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)
        return hr_http_fail(rep, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    q->path_len = strcspn(q->target, "?");
    return 0;
}

static int parse_header(struct req *q, char *line, size_t len, struct reply *rep)
{
    char *colon = memchr(line, ':', len);
    if (line[0] == ' ' || line[0] == '\t')
        return hr_http_fail(rep, 400, "malformed header: folded lines are not accepted");
    if (!colon || colon == line)
        return hr_http_fail(rep, 400, "malformed header: no 'name:'");
    size_t nlen = (size_t)(colon - line);
    for (size_t i = 0; i < nlen; i++)
        if (!is_tchar(line[i]))
            return hr_http_fail(rep, 400, "malformed header: bad character in a header name");
    char *v = colon + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *end = '\0';
    size_t vlen = (size_t)(end - v);
    if (name_is(line, nlen, "content-length")) {
        if (q->has_length)
            return hr_http_fail(rep, 400, "more than one Content-Length header");
        if (vlen == 0)
            return hr_http_fail(rep, 400, "Content-Length is empty");
        uint64_t n = 0;
        for (const char *p = v; *p; p++) {
            if (*p < '0' || *p > '9')
                return hr_http_fail(rep, 400, "Content-Length is not a decimal number");
            /* Saturate: anything this large is refused as too large. */
            n = n > UINT64_MAX / 20 ? UINT64_MAX / 2 : n * 10 + (uint64_t)(*p - '0');
        }
        q->has_length = true;
        q->length = n;
    } else if (name_is(line, nlen, "transfer-encoding")) {
        if (name_is(v, vlen, "chunked"))
            q->chunked = true;
        else
            q->other_te = true;
    } else if (name_is(line, nlen, "authorization")) {
        if (q->has_auth)
            return hr_http_fail(rep, 400, "more than one Authorization header");
        if (vlen >= sizeof q->auth) {
            rep->www_auth = true; /* every 401 names the scheme (docs/http.md) */
            return hr_http_fail(rep, 401, "malformed Authorization header (too long)");
        }
        memcpy(q->auth, v, vlen + 1);
        q->auth_len = vlen;
        q->has_auth = true;
    } else if (name_is(line, nlen, "x-hotreload-sha256")) {
        if (q->has_sha || vlen != 64 || unhex(v, q->body_sha, 32) != 0)
            return hr_http_fail(rep, 400, "X-Hotreload-Sha256 must be given once, as 64 hex "
                                "digits");
        q->has_sha = true;
    } else if (name_is(line, nlen, "expect")) {
        if (!name_is(v, vlen, "100-continue"))
            return hr_http_fail(rep, 417, "only 'Expect: 100-continue' is understood");
        q->expect_continue = true;
    }
    return 0;
}

/* Request line and headers, within the limits. Non-zero: `rep` says why. */
int hr_http_read_head(struct rd *r, struct req *q, struct reply *rep)
{
    size_t total = 0, len = 0, headers = 0;
    enum line_result lr = read_line(r, HR_HTTP_REQUEST_LINE_MAX, &len, &total);
    if (lr == LINE_LONG)
        return hr_http_fail(rep, 414, "request line over 256 bytes");
    for (;;) {
        if (lr == LINE_EOF)
            return r->last < 0
                       ? hr_http_fail(rep, 408, "timed out or failed reading the request head")
                       : hr_http_fail(rep, 400, "connection closed inside the request head");
        if (lr == LINE_BAD) {
            if (!q->method) /* the refused request line, for the log */
                memcpy(q->line, r->line, strlen(r->line) + 1);
            return hr_http_fail(rep, 400, "malformed request: lines must end with CRLF and hold no "
                                  "control characters");
        }
        if (lr == LINE_LONG)
            return hr_http_fail(rep, 431, "header line over 512 bytes");
        if (total > HR_HTTP_HEAD_MAX)
            return hr_http_fail(rep, 431, "request head over 4096 bytes");
        if (!q->method) {
            int st = parse_request_line(q, r->line, len, rep);
            if (st)
                return st;
        } else if (len == 0) {
            return 0;
        } else {
            if (++headers > HR_HTTP_HEADERS_MAX)
                return hr_http_fail(rep, 431, "more than 32 header lines");
            int st = parse_header(q, r->line, len, rep);
            if (st)
                return st;
        }
        lr = read_line(r, HR_HTTP_HEADER_LINE_MAX, &len, &total);
    }
}

/* What hr_http_read_head refuses in a line: control characters. */
static bool clean(const char *s)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return false;
    return true;
}

/* The head another server parsed, put through the same checks: the request
 * line rebuilt, then each header this agent reads, as a line. */
int hr_http_take_head(struct rd *r, const struct hr_http_head *h, struct req *q,
                      struct reply *rep)
{
    static const char *const names[] = {"Content-Length", "Transfer-Encoding", "Authorization",
                                        "X-Hotreload-Sha256", "Expect"};
    size_t ml = strlen(h->method), tl = strlen(h->target);
    if (ml + tl + 10 > HR_HTTP_REQUEST_LINE_MAX)
        return hr_http_fail(rep, 414, "request line over 256 bytes");
    memcpy(r->line, h->method, ml);
    r->line[ml] = ' ';
    memcpy(r->line + ml + 1, h->target, tl);
    memcpy(r->line + ml + 1 + tl, " HTTP/1.1", 10);
    if (!clean(r->line))
        return hr_http_fail(rep, 400, "malformed request: control characters in the request line");
    int st = parse_request_line(q, r->line, ml + tl + 10, rep);
    for (size_t i = 0; !st && i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]), room = sizeof r->line - n - 2;
        memcpy(r->line, names[i], n);
        memcpy(r->line + n, ": ", 2);
        int v = h->header(h->ctx, names[i], r->line + n + 2, room);
        if (v < 0)
            continue;
        if ((size_t)v >= room)
            return hr_http_fail(rep, 431, "header line over 512 bytes");
        if (!clean(r->line + n + 2))
            return hr_http_fail(rep, 400, "malformed request: control characters in a header");
        st = parse_header(q, r->line, n + 2 + (size_t)v, rep);
    }
    return st;
}

/* "?module=NAME" is the only query understood. */
int hr_http_parse_query(struct req *q, struct reply *rep)
{
    const char *s = q->target + q->path_len;
    if (!*s)
        return 0;
    s++;
    if (strncmp(s, "module=", 7) != 0)
        return hr_http_fail(rep, 400, "unknown query: the only parameter is 'module=NAME'");
    s += 7;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!is_tchar(c) || strchr("!#$%&'*+^`|~", c))
            return hr_http_fail(rep, 400, "module name: only letters, digits, '_', '-' and '.'");
        if (n + 1 >= sizeof q->module)
            return hr_http_fail(rep, 400, "module name over 31 characters");
        q->module[n] = c;
    }
    if (!n)
        return hr_http_fail(rep, 400, "module name is empty");
    q->module[n] = '\0';
    return 0;
}

