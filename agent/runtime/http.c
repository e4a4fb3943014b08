/* The agent's HTTP/1.1 endpoints (see docs/http.md): routing, HR2/HR1
 * authentication of reload and unload, upload bodies fed to the upload
 * session (runtime.h) in 1 KiB pieces, answers.
 * The head is parsed by http_parse.c. Freestanding: no allocation, no
 * stdio; the transport reads and writes through struct hr_http_conn. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../core/fmt.h"
#include "auth.h"
#include "hotreload/http.h"
#include "http_int.h"
#include "hotreload/transport.h"
#include "sha256.h"

static int auth_fail(struct reply *rep, enum hr_auth_result a, const char *msg)
{
    int st = a == HR_AUTH_MISSING || a == HR_AUTH_MALFORMED   ? 401
             : a == HR_AUTH_NO_KEY || a == HR_AUTH_NO_RANDOM ? 500
             : a == HR_AUTH_PAUSED                           ? 429
                                                              : 403;
    if (st == 401)
        rep->www_auth = true;
    return hr_http_fail(rep, st, msg);
}

/* The upload session's answer on the wire. */
static int answer_fail(struct reply *rep, const struct hr_upload_answer *ans)
{
    if (ans->auth != HR_AUTH_OK)
        return auth_fail(rep, ans->auth, ans->msg);
    return hr_http_fail(rep, hr_http_status_of(ans->err),
                        ans->msg[0] ? ans->msg : hr_rt_err_name(ans->err));
}

/* Stream the body into the session; on failure it is over (aborted). */
static int read_body(struct rd *r, struct req *q, struct hr_upload *up, struct reply *rep,
                     struct hr_upload_answer *ans)
{
    uint64_t got = 0;
    while (got < q->length) {
        if (!hr_http_fill(r)) {
            hr_upload_abort(up);
            hr_fmt(ans->msg, sizeof ans->msg, "%s after %llu of %llu body bytes; nothing was "
                   "stored", r->last < 0 ? "timed out or failed reading" : "connection closed",
                   (unsigned long long)got, (unsigned long long)q->length);
            return hr_http_fail(rep, r->last < 0 ? 408 : 400, ans->msg);
        }
        size_t n = r->len - r->pos;
        if (n > q->length - got)
            n = (size_t)(q->length - got);
        if (hr_upload_write(up, r->buf + r->pos, n, ans) != HOTRELOAD_OK)
            return answer_fail(rep, ans);
        r->pos += n;
        got += n;
    }
    return 0;
}

/* POST /upload and /upload-and-reload: the body into the upload session. */
static int upload(struct rd *r, struct req *q, const hotreload_server_config_t *cfg,
                  bool reload, struct reply *rep, struct hr_upload_answer *ans)
{
    struct hr_upload_policy policy = {cfg->auth_key, cfg->auth_key_len, cfg->auth_disabled,
                                      cfg->max_module_size, cfg->reload_timeout_ms,
                                      cfg->auth_pubkey};
    struct hr_upload_request req = {q->module, q->length, q->has_sha ? q->body_sha : NULL,
                                    q->method, q->target, q->has_auth ? q->auth : NULL,
                                    q->auth_len, reload, false};
    struct hr_upload *up;
    if (hr_upload_begin(&policy, &req, &up, ans) != HOTRELOAD_OK)
        return answer_fail(rep, ans);
    if (q->expect_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (r->c->write(r->c->ctx, cont, sizeof cont - 1) != 0) {
            hr_upload_abort(up);
            return hr_http_fail(rep, 0, "");
        }
    }
    int st = read_body(r, q, up, rep, ans);
    if (st)
        return st;
    hr_upload_finish(up, ans);
    rep->has_upload = ans->stored;
    rep->device_ms = ans->device_ms;
    if (ans->module[0])
        rep->module = ans->module; /* the one a request naming none went to */
    rep->size = ans->size;
    memcpy(rep->sha, ans->sha256, 32);
    rep->stored = ans->stored && reload;
    if (ans->err)
        return answer_fail(rep, ans);
    if (reload)
        rep->message = ans->msg;
    return 0;
}

/* A bodiless request's credential; 0, or the refusal's status. */
static int check_signed(const struct req *q, const hotreload_server_config_t *cfg,
                        struct reply *rep, struct hr_upload_answer *ans)
{
    uint8_t empty[32];
    hr_sha256("", 0, empty);
    struct hr_auth_keys keys = {cfg->auth_key, cfg->auth_key_len, cfg->auth_pubkey};
    enum hr_auth_result a = hr_auth_check(&keys, q->method, q->target,
                                          q->has_auth ? q->auth : NULL, q->auth_len, empty,
                                          ans->msg, sizeof ans->msg);
    return a == HR_AUTH_OK ? 0 : auth_fail(rep, a, ans->msg);
}

/* Route a parsed request; fills `rep`. */
static int route(struct rd *r, struct req *q, const hotreload_server_config_t *cfg,
                 struct reply *rep, struct hr_upload_answer *ans)
{
    char *msg = ans->msg;
    size_t msgsize = sizeof ans->msg;
    static const struct { const char *path; bool post; } eps[] = {
        {"/status", false}, {"/upload", true}, {"/upload-and-reload", true},
        {"/reload", true}, {"/unload", true}};
    bool post = strcmp(q->method, "POST") == 0;
    if (!post && strcmp(q->method, "GET") != 0) {
        rep->allow = "GET, POST";
        return hr_http_fail(rep, 405, "method not allowed: the endpoints take GET or POST");
    }
    size_t ep = 0;
    while (ep < 5 && !(strlen(eps[ep].path) == q->path_len &&
                       !memcmp(eps[ep].path, q->target, q->path_len)))
        ep++;
    if (ep == 5)
        return hr_http_fail(rep, 404, "no such endpoint (GET /status; POST /upload, /reload, "
                              "/upload-and-reload, /unload)");
    if (post != eps[ep].post) {
        rep->allow = eps[ep].post ? "POST" : "GET";
        return hr_http_fail(rep, 405, eps[ep].post ? "this endpoint takes POST"
                                                   : "this endpoint takes GET");
    }
    if (hr_http_parse_query(q, rep))
        return rep->status;
    rep->module = q->module[0] ? q->module : "main";
    if ((q->chunked || q->other_te) && q->has_length)
        return hr_http_fail(rep, 400, "both Transfer-Encoding and Content-Length");
    if (q->chunked)
        return hr_http_fail(rep, 411, "chunked transfer encoding is not supported: "
                                      "send Content-Length");
    if (q->other_te)
        return hr_http_fail(rep, 501, "Transfer-Encoding is not supported: send Content-Length");
    bool body = ep == 1 || ep == 2;
    if (body && !q->has_length)
        return hr_http_fail(rep, 411, "Content-Length required: the module is streamed to storage");
    if (!body && q->has_length && q->length)
        return hr_http_fail(rep, 400, "this endpoint takes no body");
    if (ep == 0) {
        /* GET /status answers anyone, the addresses only a signed request
         * (or every request when nothing is signed): answered by the caller. */
        rep->addresses = cfg->auth_disabled || q->has_auth;
        return q->has_auth && !cfg->auth_disabled ? check_signed(q, cfg, rep, ans) : 0;
    }
    if (body)
        return upload(r, q, cfg, ep == 2, rep, ans);
    if (!cfg->auth_disabled && check_signed(q, cfg, rep, ans))
        return rep->status;
    const char *module = q->module[0] ? q->module : NULL;
    msg[0] = '\0';
    uint32_t ms = cfg->reload_timeout_ms;
    hotreload_err_t err = ep == 3 ? hr_rt_request_reload(module, ms, msg, msgsize)
                                  : hr_rt_request_unload(module, ms, msg, msgsize);
    if (err)
        return hr_http_fail(rep, hr_http_status_of(err), msg[0] ? msg : hr_rt_err_name(err));
    rep->message = msg;
    return 0;
}

/* The status JSON is only built once reading is over: it shares the memory. */
union scratch {
    struct rd rd;
    char status[HR_HTTP_STATUS_MAX];
};

/* Append `s` to the log line at `at`: bytes outside printable ASCII, and
 * the backslash, as \xNN. The request's bytes are a hostile client's: as
 * received they could drive the terminal that shows the log (escape
 * sequences) or break its encoding. An escape is never cut in half. */
static size_t put_escaped(char *out, size_t size, size_t at, const char *s)
{
    char esc[8];
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t n = 1;
        esc[0] = (char)*p;
        if (*p < 0x20 || *p >= 0x7f || *p == '\\')
            n = hr_fmt(esc, sizeof esc, "\\x%02x", *p);
        if (at + n >= size)
            break;
        memcpy(out + at, esc, n);
        at += n;
    }
    out[at] = '\0';
    return at;
}

/* "METHOD TARGET -> STATUS: error", every quoted byte escaped; a request
 * line refused for its bytes is shown as far as it was read. */
static void log_line(char *out, size_t size, const struct req *q, const struct reply *rep)
{
    char code[24];
    size_t at = 0;
    out[0] = '\0';
    if (!q->method && q->line[0]) {
        at = put_escaped(out, size, at, q->line);
    } else {
        at = put_escaped(out, size, at, q->method ? q->method : "?");
        at = put_escaped(out, size, at, " ");
        at = put_escaped(out, size, at, q->target ? q->target : "?");
    }
    hr_fmt(code, sizeof code, " -> %d%s", rep->status, rep->error ? ": " : "");
    at = put_escaped(out, size, at, code);
    if (rep->error)
        put_escaped(out, size, at, rep->error);
}

/* Route the request whose head is in `q` (unless reading it failed: `rep`
 * then says why), answer, and write the log line. */
static int respond(union scratch *u, struct req *q, const struct reply *head,
                   const hotreload_server_config_t *config, char *summary, size_t summary_size)
{
    struct hr_upload_answer ans; /* its msg is every answer's sentence */
    struct reply answer = *head, *rep = &answer;
    const struct hr_http_conn *conn = u->rd.c;
    memset(&ans, 0, sizeof ans);
    if (rep->status == 200)
        route(&u->rd, q, config, rep, &ans);
    rep->scheme = config->auth_pubkey ? HR_AUTH_SCHEME_SIG : HR_AUTH_SCHEME;
    if (rep->status == 200 && !rep->error && q->path_len == 7 &&
        !strncmp(q->target, "/status", 7)) {
        size_t n = hr_status_json(u->status, sizeof u->status, rep->addresses);
        if (n < sizeof u->status) {
            rep->raw = u->status;
            rep->raw_len = n;
        } else {
            hr_fmt(ans.msg, sizeof ans.msg, "the status (%zu bytes) does not fit the HTTP "
                   "buffer of %zu bytes (HR_HTTP_STATUS_MAX)", n, sizeof u->status);
            hr_http_fail(rep, 500, ans.msg);
        }
    }
    if (summary)
        log_line(summary, summary_size, q, rep);
    if (rep->status == 0)
        return 0; /* the connection is gone */
    return hr_http_send(conn, rep) == 0 ? rep->status : 0;
}

static void scratch_init(union scratch *u, const struct hr_http_conn *conn, struct req *q,
                         struct reply *rep)
{
    memset(q, 0, sizeof *q);
    memset(rep, 0, sizeof *rep);
    rep->status = 200;
    u->rd.c = conn;
    u->rd.pos = u->rd.len = 0;
    u->rd.last = 0;
}

int hr_http_serve(const struct hr_http_conn *conn, const hotreload_server_config_t *config,
                  char *summary, size_t summary_size)
{
    struct req q;
    struct reply rep;
    union scratch u;
    scratch_init(&u, conn, &q, &rep);
    hr_http_read_head(&u.rd, &q, &rep);
    return respond(&u, &q, &rep, config, summary, summary_size);
}

int hr_http_serve_head(const struct hr_http_head *head, const struct hr_http_conn *conn,
                       const hotreload_server_config_t *config, char *summary,
                       size_t summary_size)
{
    struct req q;
    struct reply rep;
    union scratch u;
    scratch_init(&u, conn, &q, &rep);
    hr_http_take_head(&u.rd, head, &q, &rep);
    return respond(&u, &q, &rep, config, summary, summary_size);
}
