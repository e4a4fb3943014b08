/* Fake runtime and in-memory connection for http_test (see fake.h). */
#define _GNU_SOURCE /* memmem */
#include "fake.h"
#include "http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct fake_rt fake;
struct hr_stage {
    int unused;
};
static struct hr_stage the_upload;

void fake_reset(void)
{
    uint64_t last = fake.counter_last;
    memset(&fake, 0, sizeof fake);
    fake.counter_last = last;
}

static hotreload_err_t answer(hotreload_err_t err, char *msg, size_t msgsize)
{
    if (err)
        snprintf(msg, msgsize, "%s", fake.err_msg ? fake.err_msg : "fake failure");
    return err;
}

static void note_module(const char *module)
{
    snprintf(fake.module, sizeof fake.module, "%s", module ? module : "main");
}

const char *hr_rt_stage_module(const struct hr_stage *st)
{
    (void)st;
    return fake.module;
}

/* The fake device's only limit is the transport's cap. */
hotreload_err_t hr_rt_stage_fits(const char *module, uint64_t length, size_t max_size, char *msg,
                                 size_t msgsize)
{
    (void)module;
    if (!max_size || length <= max_size)
        return HOTRELOAD_OK;
    snprintf(msg, msgsize, "module of %llu bytes is over the limit of %zu bytes",
             (unsigned long long)length, max_size);
    return HOTRELOAD_ERR_TOO_LARGE;
}

hotreload_err_t hr_rt_stage_begin(const char *module, uint32_t length, size_t max_size,
                                  struct hr_stage **out, char *msg, size_t msgsize)
{
    fake.begins++;
    note_module(module);
    if (fake.live) {
        fprintf(stderr, "FAIL: upload_begin while an upload is open\n");
        exit(1);
    }
    if (hr_rt_stage_fits(module, length, max_size, msg, msgsize) != HOTRELOAD_OK)
        return HOTRELOAD_ERR_TOO_LARGE;
    if (fake.begin_err)
        return answer(fake.begin_err, msg, msgsize);
    fake.live = true;
    fake.length = length;
    fake.got = 0;
    hr_sha256_init(&fake.sha);
    *out = &the_upload;
    return HOTRELOAD_OK;
}

static void check_live(struct hr_stage *up, const char *what)
{
    if (up != &the_upload || !fake.live) {
        fprintf(stderr, "FAIL: %s on an upload that is not open\n", what);
        exit(1);
    }
}

hotreload_err_t hr_rt_stage_write(struct hr_stage *up, const void *data, size_t len)
{
    check_live(up, "upload_write");
    fake.writes++;
    if (len > HR_HTTP_CHUNK || fake.got + len > fake.length) {
        fprintf(stderr, "FAIL: upload_write of %zu bytes (chunk or total too big)\n", len);
        exit(1);
    }
    if (fake.write_err)
        return fake.write_err;
    fake.got += len;
    hr_sha256_update(&fake.sha, data, len);
    return HOTRELOAD_OK;
}

hotreload_err_t hr_rt_stage_digest(struct hr_stage *up, uint8_t sha256[32], char *msg,
                                   size_t msgsize)
{
    check_live(up, "upload_digest");
    if (fake.got != fake.length) {
        snprintf(msg, msgsize, "upload incomplete");
        return HOTRELOAD_ERR_ARG;
    }
    struct hr_sha256 copy = fake.sha;
    hr_sha256_final(&copy, sha256);
    return HOTRELOAD_OK;
}

hotreload_err_t hr_rt_stage_commit(struct hr_stage *up, bool keep, char *msg, size_t msgsize)
{
    (void)keep;
    check_live(up, "upload_commit");
    fake.live = false;
    if (fake.commit_err)
        return answer(fake.commit_err, msg, msgsize);
    fake.commits++;
    hr_sha256_final(&fake.sha, fake.stored_sha);
    return HOTRELOAD_OK;
}

void hr_rt_stage_abort(struct hr_stage *up)
{
    check_live(up, "upload_abort");
    fake.live = false;
    fake.aborts++;
}

hotreload_err_t hr_rt_request_reload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize)
{
    fake.reloads++;
    fake.reload_timeout = timeout_ms;
    note_module(module);
    if (fake.reload_err)
        return answer(fake.reload_err, msg, msgsize);
    snprintf(msg, msgsize, "module '%s' generation 2", module ? module : "main");
    return HOTRELOAD_OK;
}

hotreload_err_t hr_rt_request_unload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize)
{
    fake.unloads++;
    fake.reload_timeout = timeout_ms;
    note_module(module);
    if (fake.unload_err)
        return answer(fake.unload_err, msg, msgsize);
    snprintf(msg, msgsize, "module '%s' unloaded", module ? module : "main");
    return HOTRELOAD_OK;
}

const char *hr_rt_nonce(void)
{
    return FAKE_NONCE;
}

const struct hr_inflater *hr_rt_inflater(void)
{
    return NULL; /* HTTP uploads are not compressed */
}

uint64_t hr_rt_counter_last(void)
{
    return fake.counter_last;
}

bool hr_rt_counter_accept(uint64_t value)
{
    if (value <= fake.counter_last)
        return false;
    fake.counter_last = value;
    return true;
}

uint64_t hr_rt_now_ms(void)
{
    return 0;
}

const char *hr_rt_err_name(hotreload_err_t err)
{
    return err ? "fake error" : "ok";
}

size_t hr_status_json(char *buf, size_t size, bool addresses)
{
    if (fake.status_len)
        return fake.status_len;
    return (size_t)snprintf(buf, size, "{\"ok\":true,\"nonce\":\"%s\",\"counter\":%llu,"
                            "\"addresses\":%s%s}", FAKE_NONCE,
                            (unsigned long long)fake.counter_last, addresses ? "true" : "false",
                            addresses ? ",\"sections\":[{\"addr\":\"0x1000\"}]" : "");
}

static int mem_read(void *ctx, void *buf, size_t len)
{
    struct mem_conn *c = ctx;
    if (c->pos == c->in_len)
        return c->end;
    size_t n = c->in_len - c->pos;
    if (n > c->chunk)
        n = c->chunk;
    if (n > len)
        n = len;
    memcpy(buf, c->in + c->pos, n);
    c->pos += n;
    return (int)n;
}

static int mem_write(void *ctx, const void *buf, size_t len)
{
    struct mem_conn *c = ctx;
    if (c->fail_writes && ++c->write_calls > c->fail_writes)
        return -1;
    if (c->out_len + len > sizeof c->out)
        return -1;
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    return 0;
}

static bool bad(const char *why, const struct mem_conn *c)
{
    fprintf(stderr, "bad answer (%s): %.*s\n", why, (int)c->out_len, c->out);
    return false;
}

/* A head as esp_http_server hands it over: parsed before the agent sees
 * it. Only heads hr_http_read_head accepts are parsed; any other request
 * goes the raw way (such a server refuses a malformed head itself). */
struct parsed {
    char method[64], target[300];
    const char *headers, *end;
    size_t head_len;
};

static bool parse_head(const char *in, size_t len, struct parsed *p)
{
    const char *sep = memmem(in, len, "\r\n\r\n", 4);
    const char *eol = sep ? memmem(in, (size_t)(sep + 2 - in), "\r\n", 2) : NULL;
    char version[16], rest[2];
    char line[400];
    if (!eol || (size_t)(eol - in) >= sizeof line)
        return false;
    memcpy(line, in, (size_t)(eol - in));
    line[eol - in] = '\0';
    if (sscanf(line, "%63[^ ] %299[^ ] %15[^ ]%1s", p->method, p->target, version, rest) != 3 ||
        (strcmp(version, "HTTP/1.1") && strcmp(version, "HTTP/1.0")))
        return false;
    for (const char *q = eol + 2; q < sep + 2;) {
        const char *e = memmem(q, (size_t)(sep + 2 - q), "\r\n", 2);
        const char *colon = memchr(q, ':', (size_t)(e - q));
        if (!colon || colon == q || memchr(q, '\r', (size_t)(e - q)))
            return false;
        q = e + 2;
    }
    p->headers = eol + 2;
    p->end = sep + 2;
    p->head_len = (size_t)(sep + 4 - in);
    return true;
}

static int parsed_header(void *ctx, const char *name, char *buf, size_t size)
{
    const struct parsed *p = ctx;
    size_t n = strlen(name);
    for (const char *q = p->headers; q < p->end;) {
        const char *e = memmem(q, (size_t)(p->end - q), "\r\n", 2);
        if ((size_t)(e - q) > n && q[n] == ':' && !strncasecmp(q, name, n)) {
            const char *v = q + n + 1, *ve = e;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t vlen = (size_t)(ve - v);
            if (vlen < size) {
                memcpy(buf, v, vlen);
                buf[vlen] = '\0';
            }
            return (int)vlen;
        }
        q = e + 2;
    }
    return -1;
}

bool via_parsed_head;
char last_summary[512];
int parsed_heads;

static int serve_one(struct mem_conn *c, const hotreload_server_config_t *config,
                     char *summary, size_t size)
{
    struct hr_http_conn conn = {c, mem_read, mem_write};
    struct parsed p;
    static struct rd rd;
    struct req q;
    struct reply rep;
    memset(&q, 0, sizeof q);
    memset(&rep, 0, sizeof rep);
    rd = (struct rd){.c = &conn};
    bool well_formed = via_parsed_head && hr_http_read_head(&rd, &q, &rep) == 0;
    c->pos = 0;
    if (!well_formed || !parse_head((const char *)c->in, c->in_len, &p))
        return hr_http_serve(&conn, config, summary, size);
    struct hr_http_head head = {&p, p.method, p.target, parsed_header};
    c->pos = p.head_len;
    parsed_heads++;
    return hr_http_serve_head(&head, &conn, config, summary, size);
}

bool serve(const hotreload_server_config_t *config, const void *request, size_t len,
           size_t chunk, int end, struct resp *r)
{
    static struct mem_conn c;
    memset(&c, 0, sizeof c);
    memset(r, 0, sizeof *r);
    c.in = request;
    c.in_len = len;
    c.chunk = chunk ? chunk : 100000;
    c.end = end;
    int st = serve_one(&c, config, last_summary, sizeof last_summary);
    if (fake.live)
        return bad("an upload was left open", &c);
    const char *p = c.out, *endp = c.out + c.out_len;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (c.out_len >= sizeof cont - 1 && !memcmp(p, cont, sizeof cont - 1)) {
        r->had_continue = true;
        p += sizeof cont - 1;
    }
    const char *sep = NULL;
    for (const char *q = p; q + 4 <= endp; q++)
        if (!memcmp(q, "\r\n\r\n", 4)) {
            sep = q;
            break;
        }
    if (!sep || (size_t)(sep - p) >= sizeof r->head)
        return bad("no head", &c);
    memcpy(r->head, p, (size_t)(sep - p));
    r->body = sep + 4;
    r->body_len = (size_t)(endp - r->body);
    if (sscanf(r->head, "HTTP/1.1 %3d ", &r->status) != 1 || r->status != st)
        return bad("status line / return value", &c);
    if (!strstr(r->head, "\r\nContent-Type: application/json\r\n") ||
        !strstr(r->head, "\r\nConnection: close\r\n"))
        return bad("Content-Type or Connection", &c);
    const char *cl = strstr(r->head, "\r\nContent-Length: ");
    if (!cl || strtoul(cl + 18, NULL, 10) != r->body_len)
        return bad("Content-Length", &c);
    if (!json_valid(r->body, r->body_len))
        return bad("body is not JSON", &c);
    bool ok = r->body_len > 10 && !memcmp(r->body, "{\"ok\":true", 10);
    bool ko = r->body_len > 20 && !memcmp(r->body, "{\"ok\":false,\"error\":\"", 21);
    if ((r->status == 200 && !ok) || (r->status != 200 && !ko))
        return bad("ok flag", &c);
    return true;
}
