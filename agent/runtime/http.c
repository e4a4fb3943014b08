/* The agent's HTTP/1.1 endpoints (see docs/http.md): routing, HR1
 * authentication, bodies streamed to storage in 1 KiB pieces, answers.
 * The head is parsed by http_parse.c. Freestanding: no allocation, no
 * stdio; the transport reads and writes through struct hr_http_conn. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../core/fmt.h"
#include "auth.h"
#include "http.h"
#include "http_int.h"
#include "runtime.h"
#include "sha256.h"

/* Stream the body into the upload; on failure the upload is aborted. */
static int read_body(struct rd *r, struct req *q, struct hr_upload *up, struct reply *rep,
                     char *msg, size_t msgsize)
{
    uint64_t got = 0;
    while (got < q->length) {
        if (!hr_http_fill(r)) {
            hr_rt_upload_abort(up);
            hr_fmt(msg, msgsize, "%s after %llu of %llu body bytes; nothing was stored",
                   r->last < 0 ? "timed out or failed reading" : "connection closed",
                   (unsigned long long)got, (unsigned long long)q->length);
            return hr_http_fail(rep, r->last < 0 ? 408 : 400, msg);
        }
        size_t n = r->len - r->pos;
        if (n > q->length - got)
            n = (size_t)(q->length - got);
        hotreload_err_t err = hr_rt_upload_write(up, r->buf + r->pos, n);
        if (err) {
            hr_rt_upload_abort(up);
            hr_fmt(msg, msgsize, "storing the module failed after %llu bytes (%s)",
                   (unsigned long long)got, hr_rt_err_name(err));
            return hr_http_fail(rep, hr_http_status_of(err), msg);
        }
        r->pos += n;
        got += n;
    }
    return 0;
}

static int runtime_fail(struct reply *rep, hotreload_err_t err, const char *msg)
{
    return hr_http_fail(rep, hr_http_status_of(err), msg[0] ? msg : hr_rt_err_name(err));
}

static int auth_fail(struct reply *rep, enum hr_auth_result a, const char *msg)
{
    int st = a == HR_AUTH_MISSING || a == HR_AUTH_MALFORMED ? 401
             : a == HR_AUTH_NO_KEY                          ? 500
                                                            : 403;
    if (st == 401)
        rep->www_auth = true;
    return hr_http_fail(rep, st, msg);
}

/* POST /upload and /upload-and-reload: store the body, then maybe reload. */
static int upload(struct rd *r, struct req *q, const hotreload_server_config_t *cfg,
                  const struct hr_auth *auth, bool reload, struct reply *rep, char *msg,
                  size_t msgsize)
{
    const char *module = q->module[0] ? q->module : NULL;
    struct hr_upload *up = NULL;
    if (q->length > cfg->max_module_size || q->length > UINT32_MAX) {
        hr_fmt(msg, msgsize, "module of %llu bytes is over the limit of %zu bytes",
               (unsigned long long)q->length, cfg->max_module_size);
        return hr_http_fail(rep, 413, msg);
    }
    /* The signature covers the body's SHA-256, declared up front: it is
     * checked (and its counter spent) before anything is erased, so a
     * request without the key cannot touch storage. */
    if (!cfg->auth_disabled) {
        if (!q->has_sha)
            return auth_fail(rep, HR_AUTH_MALFORMED, "a signed upload declares its body's "
                             "SHA-256 in X-Hotreload-Sha256 (see docs/http.md)");
        enum hr_auth_result a = hr_auth_verify(cfg->auth_key, cfg->auth_key_len, q->method,
                                               q->target, auth, q->body_sha, msg, msgsize);
        if (a != HR_AUTH_OK)
            return auth_fail(rep, a, msg);
    }
    msg[0] = '\0';
    hotreload_err_t err = hr_rt_upload_begin(module, (uint32_t)q->length, cfg->max_module_size,
                                             &up, msg, msgsize);
    if (err)
        return runtime_fail(rep, err, msg);
    if (q->expect_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (r->c->write(r->c->ctx, cont, sizeof cont - 1) != 0) {
            hr_rt_upload_abort(up);
            return hr_http_fail(rep, 0, "");
        }
    }
    int st = read_body(r, q, up, rep, msg, msgsize);
    if (st)
        return st;
    msg[0] = '\0';
    err = hr_rt_upload_digest(up, rep->sha, msg, msgsize);
    if (err) {
        hr_rt_upload_abort(up);
        return runtime_fail(rep, err, msg);
    }
    if (q->has_sha && !hr_memeq_ct(q->body_sha, rep->sha, 32)) {
        hr_rt_upload_abort(up);
        return auth_fail(rep, HR_AUTH_BAD_MAC, "wrong mac: the body does not match the SHA-256 "
                         "declared in X-Hotreload-Sha256 and signed; nothing was stored");
    }
    msg[0] = '\0';
    err = hr_rt_upload_commit(up, msg, msgsize);
    if (err)
        return runtime_fail(rep, err, msg);
    rep->has_upload = true;
    rep->size = (uint32_t)q->length;
    if (!reload)
        return 0;
    rep->stored = true;
    msg[0] = '\0';
    err = hr_rt_request_reload(module, cfg->reload_timeout_ms, msg, msgsize);
    if (err)
        return runtime_fail(rep, err, msg);
    rep->message = msg;
    return 0;
}

/* Route a parsed request; fills `rep`. */
static int route(struct rd *r, struct req *q, const hotreload_server_config_t *cfg,
                 struct reply *rep, char *msg, size_t msgsize)
{
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
    if (ep == 0)
        return 0; /* GET /status: read-only, unauthenticated; answered by the caller */
    struct hr_auth auth;
    memset(&auth, 0, sizeof auth);
    if (!cfg->auth_disabled) {
        /* Fail fast: syntax and counter before any body byte is read. */
        enum hr_auth_result a = hr_auth_parse(q->has_auth ? q->auth : NULL, q->auth_len, &auth,
                                              msg, msgsize);
        if (a == HR_AUTH_OK)
            a = hr_auth_fresh(&auth, msg, msgsize);
        if (a != HR_AUTH_OK)
            return auth_fail(rep, a, msg);
    }
    if (body)
        return upload(r, q, cfg, &auth, ep == 2, rep, msg, msgsize);
    if (!cfg->auth_disabled) {
        uint8_t empty[32];
        hr_sha256("", 0, empty);
        enum hr_auth_result a = hr_auth_verify(cfg->auth_key, cfg->auth_key_len, q->method,
                                               q->target, &auth, empty, msg, msgsize);
        if (a != HR_AUTH_OK)
            return auth_fail(rep, a, msg);
    }
    const char *module = q->module[0] ? q->module : NULL;
    msg[0] = '\0';
    uint32_t ms = cfg->reload_timeout_ms;
    hotreload_err_t err = ep == 3 ? hr_rt_request_reload(module, ms, msg, msgsize)
                                  : hr_rt_request_unload(module, ms, msg, msgsize);
    if (err)
        return runtime_fail(rep, err, msg);
    rep->message = msg;
    return 0;
}

int hr_http_serve(const struct hr_http_conn *conn, const hotreload_server_config_t *config,
                  char *summary, size_t summary_size)
{
    struct req q;
    struct reply rep;
    char msg[HR_HTTP_MSG_MAX];
    /* The status JSON is only built once reading is over: share the memory. */
    union {
        struct rd rd;
        char status[HR_HTTP_STATUS_MAX];
    } u;
    memset(&q, 0, sizeof q);
    memset(&rep, 0, sizeof rep);
    u.rd.c = conn;
    u.rd.pos = u.rd.len = 0;
    u.rd.last = 0;
    rep.status = 200;
    msg[0] = '\0';
    if (hr_http_read_head(&u.rd, &q, &rep) == 0)
        route(&u.rd, &q, config, &rep, msg, sizeof msg);
    if (rep.status == 200 && !rep.error && q.path_len == 7 && !strncmp(q.target, "/status", 7)) {
        size_t n = hotreload_status_json(u.status, sizeof u.status);
        if (n < sizeof u.status) {
            rep.raw = u.status;
            rep.raw_len = n;
        } else {
            hr_fmt(msg, sizeof msg, "the status (%zu bytes) does not fit the HTTP buffer of %zu "
                   "bytes (HR_HTTP_STATUS_MAX)", n, sizeof u.status);
            hr_http_fail(&rep, 500, msg);
        }
    }
    if (summary)
        hr_fmt(summary, summary_size, "%s %s -> %d%s%s", q.method ? q.method : "?",
               q.target ? q.target : "?", rep.status, rep.error ? ": " : "",
               rep.error ? rep.error : "");
    if (rep.status == 0)
        return 0; /* the connection is gone */
    return hr_http_send(conn, &rep) == 0 ? rep.status : 0;
}
