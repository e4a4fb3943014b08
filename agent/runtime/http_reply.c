/* HTTP answers: status line, headers, and a JSON body whose length is known
 * before it is written (a counting pass, then the writing pass), so nothing
 * but a small buffer is needed. Freestanding. */
#include <string.h>

#include "../core/fmt.h"
#include "http_int.h"
#include "sha256.h"

int hr_http_status_of(hotreload_err_t err)
{
    switch (err) {
    case HOTRELOAD_OK: return 200;
    case HOTRELOAD_ERR_ARG: return 400;
    case HOTRELOAD_ERR_NOT_FOUND: return 404;
    case HOTRELOAD_ERR_FIRMWARE:
    case HOTRELOAD_ERR_BUSY:
    case HOTRELOAD_ERR_STATE: return 409;
    case HOTRELOAD_ERR_TOO_LARGE: return 413;
    case HOTRELOAD_ERR_INVALID:
    case HOTRELOAD_ERR_INIT: return 422;
    case HOTRELOAD_ERR_TIMEOUT: return 504;
    default: return 500; /* STORAGE, NOMEM, anything new */
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 500 ? "Bad Request" : "Internal Server Error";
    }
}

/* Output through a small buffer; in counting mode only `total` moves. */
struct out {
    const struct hr_http_conn *c;
    bool counting;
    int err;
    size_t total, n;
    char buf[192];
};

static void flush(struct out *o)
{
    if (o->n && !o->err && o->c->write(o->c->ctx, o->buf, o->n) != 0)
        o->err = -1;
    o->n = 0;
}

static void put(struct out *o, const char *s, size_t len)
{
    o->total += len;
    if (o->counting)
        return;
    while (len) {
        if (o->n == sizeof o->buf)
            flush(o);
        size_t k = sizeof o->buf - o->n < len ? sizeof o->buf - o->n : len;
        memcpy(o->buf + o->n, s, k);
        o->n += k;
        s += k;
        len -= k;
    }
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* A JSON string. Messages may quote names from a hostile ELF: every byte
 * outside printable ASCII is escaped, so the body is always valid JSON. */
static void put_json_str(struct out *o, const char *s)
{
    char esc[8];
    puts_(o, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(o, esc, 2);
        } else if (*p < 0x20 || *p >= 0x7f) {
            put(o, esc, hr_fmt(esc, sizeof esc, "\\u%04x", *p));
        } else {
            put(o, (const char *)p, 1);
        }
    }
    puts_(o, "\"");
}

static void put_body(struct out *o, const struct reply *rep)
{
    char num[24], hex[65];
    if (rep->raw) {
        put(o, rep->raw, rep->raw_len);
        return;
    }
    if (rep->error) {
        puts_(o, "{\"ok\":false,\"error\":");
        put_json_str(o, rep->error);
        if (rep->stored)
            puts_(o, ",\"stored\":true");
        puts_(o, "}");
        return;
    }
    puts_(o, "{\"ok\":true");
    if (rep->module) {
        puts_(o, ",\"module\":");
        put_json_str(o, rep->module);
    }
    if (rep->has_upload) {
        hr_fmt(num, sizeof num, "%u", (unsigned)rep->size);
        puts_(o, ",\"size\":");
        puts_(o, num);
        hr_hex(rep->sha, 32, hex);
        puts_(o, ",\"sha256\":\"");
        puts_(o, hex);
        hr_fmt(num, sizeof num, "%u", (unsigned)rep->device_ms);
        puts_(o, "\",\"device_ms\":");
        puts_(o, num);
    }
    if (rep->message && rep->message[0]) {
        puts_(o, ",\"message\":");
        put_json_str(o, rep->message);
    }
    puts_(o, "}");
}

int hr_http_send(const struct hr_http_conn *conn, const struct reply *rep)
{
    struct out o;
    char line[64];
    o.c = conn;
    o.counting = true;
    o.err = 0;
    o.total = o.n = 0;
    put_body(&o, rep);
    size_t length = o.total;
    o.counting = false;
    hr_fmt(line, sizeof line, "HTTP/1.1 %d %s\r\n", rep->status, reason(rep->status));
    puts_(&o, line);
    puts_(&o, "Content-Type: application/json\r\nConnection: close\r\nCache-Control: no-store\r\n");
    if (rep->allow) {
        puts_(&o, "Allow: ");
        puts_(&o, rep->allow);
        puts_(&o, "\r\n");
    }
    if (rep->www_auth) {
        puts_(&o, "WWW-Authenticate: ");
        puts_(&o, rep->scheme ? rep->scheme : HR_AUTH_SCHEME);
        puts_(&o, "\r\n");
    }
    hr_fmt(line, sizeof line, "Content-Length: %zu\r\n\r\n", length);
    puts_(&o, line);
    put_body(&o, rep);
    flush(&o);
    return o.err;
}

int hr_http_reject(const struct hr_http_conn *conn, int status, const char *message)
{
    struct reply rep;
    memset(&rep, 0, sizeof rep);
    rep.status = status;
    rep.error = message;
    return hr_http_send(conn, &rep) == 0 ? status : 0;
}
