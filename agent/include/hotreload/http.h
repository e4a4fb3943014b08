/* The HTTP/1.1 endpoints of the agent (see docs/http.md), independent of
 * the transport: the posix server and lwIP hand each accepted connection to
 * hr_http_serve; a server that parses heads itself (esp_http_server) hands
 * each request to hr_http_serve_head.
 *
 * One request per connection (every answer says Connection: close). The
 * parser is strict and bounded: no allocation, about 4.5 KiB of stack, the
 * body streamed to storage in 1 KiB pieces. */
#ifndef HR_HTTP_H
#define HR_HTTP_H

#include <stddef.h>

#include "hotreload.h"

#define HR_HTTP_REQUEST_LINE_MAX 256 /* 414 above */
#define HR_HTTP_HEADER_LINE_MAX 512  /* 431 above */
#define HR_HTTP_HEADERS_MAX 32       /* 431 above */
#define HR_HTTP_HEAD_MAX 4096        /* 431 above: request line + headers + CRLFs */
#define HR_HTTP_CHUNK 1024           /* body bytes per storage write */
#ifndef HR_HTTP_STATUS_MAX
#define HR_HTTP_STATUS_MAX 3072      /* GET /status answers 500 when its JSON is longer */
#endif

struct hr_http_conn {
    void *ctx;
    /* Up to `len` bytes into buf: the count, 0 when the peer closed, < 0 on
     * an error (including the transport's read timeout). */
    int (*read)(void *ctx, void *buf, size_t len);
    /* All `len` bytes: 0, or < 0 on an error. */
    int (*write)(void *ctx, const void *buf, size_t len);
};

/* Read one request from `conn`, act on it, answer. Returns the status code
 * sent (0 if none could be); `summary` (may be NULL) gets a line for the
 * log, e.g. "POST /upload -> 200". */
int hr_http_serve(const struct hr_http_conn *conn, const hotreload_server_config_t *config,
                  char *summary, size_t summary_size);

/* A request whose head another HTTP server has read and parsed
 * (esp_http_server): method, target, and its header values on demand. */
struct hr_http_head {
    void *ctx;
    const char *method;          /* "GET", "POST", ... */
    const char *target;          /* "/upload?module=greet" */
    /* The value of header `name` (any case), NUL-terminated, into buf: its
     * length; -1 when the request has no such header; `size` or more when
     * the value does not fit. */
    int (*header)(void *ctx, const char *name, char *buf, size_t size);
};

/* Serve a request whose head is already parsed, with the same checks,
 * routes, limits and answers as hr_http_serve: `conn` reads the body and
 * writes the whole answer (status line and headers included). */
int hr_http_serve_head(const struct hr_http_head *head, const struct hr_http_conn *conn,
                       const hotreload_server_config_t *config, char *summary,
                       size_t summary_size);

/* Answer `status` with {"ok":false,"error":message} without reading the
 * request (e.g. 503 when a server has too many connections). */
int hr_http_reject(const struct hr_http_conn *conn, int status, const char *message);

/* The status code for a runtime error (HOTRELOAD_ERR_* -> 4xx/5xx). */
int hr_http_status_of(hotreload_err_t err);

#endif
