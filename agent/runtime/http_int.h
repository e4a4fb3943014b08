/* Shared by http.c (parser, routes) and http_reply.c (answers). */
#ifndef HR_HTTP_INT_H
#define HR_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "hotreload/http.h"

#define HR_HTTP_MODULE_MAX 32 /* module name and its NUL */

/* What to answer. Failure: `error` set, {"ok":false,"error":...}. Success:
 * `raw` as is, or {"ok":true,...} from the other fields. */
struct reply {
    int status;            /* 0: the connection is gone, answer nothing */
    const char *error;
    const char *allow;     /* 405: the Allow header */
    bool www_auth;         /* 401: WWW-Authenticate: <scheme> */
    const char *scheme;    /* the device's: HR2 (public key) or HR1; NULL: HR1 */
    const char *module;
    const char *message;   /* the runtime's sentence on success */
    bool has_upload;       /* size and sha describe the stored body */
    uint32_t size;
    uint32_t device_ms;    /* with has_upload: the device's work after the body */
    uint8_t sha[32];
    bool stored;           /* upload-and-reload: stored even though the reload failed */
    bool addresses;        /* GET /status: the sections' addresses (signed, or no auth) */
    const char *raw;
    size_t raw_len;
};

/* Buffered reading of the head; its buffer then carries the body. */
struct rd {
    const struct hr_http_conn *c;
    uint8_t buf[HR_HTTP_CHUNK];
    size_t pos, len;
    int last;                                 /* last read: 0 closed, < 0 error */
    char line[HR_HTTP_HEADER_LINE_MAX + 1];
};

struct req {
    char line[HR_HTTP_REQUEST_LINE_MAX + 1]; /* "METHOD\0TARGET\0VERSION" */
    const char *method, *target;
    size_t path_len;                          /* target up to '?' */
    char module[HR_HTTP_MODULE_MAX];
    bool has_length, chunked, other_te, expect_continue, has_auth, has_sha;
    uint8_t body_sha[32];                     /* X-Hotreload-Sha256: what the MAC covers */
    uint64_t length;
    char auth[HR_AUTH_VALUE_MAX];
    size_t auth_len;
};

/* Parsing (http_parse.c). Each failure fills `rep` and returns its status. */
int hr_http_fail(struct reply *rep, int status, const char *error);
/* Make sure a byte is buffered; false when the peer closed or failed. */
bool hr_http_fill(struct rd *r);
int hr_http_read_head(struct rd *r, struct req *q, struct reply *rep);
/* The same checks on a head another server parsed (r->line is scratch). */
int hr_http_take_head(struct rd *r, const struct hr_http_head *h, struct req *q,
                      struct reply *rep);
int hr_http_parse_query(struct req *q, struct reply *rep);

/* Write the whole response; 0, or < 0 if the connection failed. */
int hr_http_send(const struct hr_http_conn *conn, const struct reply *rep);

#endif
