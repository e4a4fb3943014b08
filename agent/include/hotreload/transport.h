/* The public transport header: all a transport front-end (an HTTP server,
 * a serial console, an esp_http_server handler) uses of the runtime. A
 * front-end frames bytes and maps answers to its wire; it includes this,
 * hotreload/http.h and hotreload/console.h, never the runtime's private
 * headers. Every call is thread-safe: transports may run in their own
 * threads while the application runs module code. */
#ifndef HOTRELOAD_TRANSPORT_H
#define HOTRELOAD_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotreload.h"

/* How a request's credential fared (HR2/HR1, see docs/http.md). */
enum hr_auth_result {
    HR_AUTH_OK,
    HR_AUTH_MISSING,   /* no credentials: 401 */
    HR_AUTH_MALFORMED, /* not the syntax, or the other scheme than the device's: 401 */
    HR_AUTH_STALE,     /* counter not above the last accepted one: 403 */
    HR_AUTH_BAD_MAC,   /* wrong key, or anything signed was changed: 403 */
    HR_AUTH_NO_KEY,    /* the device has no key configured: 500 */
    HR_AUTH_NO_RANDOM, /* no random source for the nonce (hr_platform.random): 500 */
    HR_AUTH_PAUSED,    /* signature checks paused after wrong signatures: 429 */
};

/* ---- The upload session: the one path of every upload ------------------
 * begin (module, length, declared SHA-256, credential) -> write (the body,
 * in pieces of any size) -> finish -> one answer. The credential, the
 * replay counter, the size limits, the body's SHA-256 against the declared
 * one, the storage erase, the firmware check, the module's preparation
 * (parsed, placed and relocated once) and the commit all happen inside; a
 * transport only frames bytes and maps the answer to its wire. One upload
 * at a time (BUSY). */
struct hr_upload;

/* What the transport's configuration allows. */
struct hr_upload_policy {
    const uint8_t *auth_key;      /* HMAC-SHA-256 key shared with hotd */
    size_t auth_key_len;
    bool auth_disabled;           /* accept uploads without a credential */
    size_t max_module_size;       /* 0, or a cap of the transport's (the module's applies) */
    uint32_t reload_timeout_ms;   /* with `reload`: how long to wait for the safe point */
    const uint8_t *auth_pubkey;   /* 65-byte P-256 public key: set, HR2 only (auth_key unused) */
};

struct hr_upload_request {
    const char *module;           /* NULL or "": "main", else the device's only module */
    uint64_t length;              /* body bytes */
    const uint8_t *sha256;        /* the body's SHA-256 as declared (and signed); NULL: none */
    const char *method, *target;  /* what the credential signs (HTTP: "POST", the target) */
    const char *credential;       /* "HR2 counter=<n>, sig=<hex>" (or HR1), NULL: none */
    size_t credential_len;
    bool reload;                  /* bring it up at the next safe point and wait for that */
    bool deflate;                 /* the body is the module compressed (raw deflate with
                                     a small window, port.h); length and sha256 are the
                                     module's own, as it is stored */
};

#define HR_UPLOAD_MSG_MAX 320
struct hr_upload_answer {
    hotreload_err_t err;          /* HOTRELOAD_OK, or why not */
    enum hr_auth_result auth;     /* not HR_AUTH_OK: the credential (or the body it
                                     signs) was refused; err is then HOTRELOAD_ERR_ARG */
    bool stored;                  /* the image is committed (even if its reload failed) */
    uint32_t size;
    uint8_t sha256[32];           /* of the stored body */
    char module[32];              /* the module it went to ("" before that is known) */
    uint32_t device_ms;           /* after the last body byte: checks, storage, load */
    char msg[HR_UPLOAD_MSG_MAX];  /* a sentence: why, or what changed */
};

/* Checks the limits and the credential (its counter is spent), then erases
 * the slot the body goes to. On failure `*out` is NULL and `ans` says why. */
hotreload_err_t hr_upload_begin(const struct hr_upload_policy *policy,
                                const struct hr_upload_request *req, struct hr_upload **out,
                                struct hr_upload_answer *ans);
/* On failure the upload is over (aborted) and `ans` says why. */
hotreload_err_t hr_upload_write(struct hr_upload *up, const void *data, size_t len,
                                struct hr_upload_answer *ans);
/* Every byte arrived: check, prepare, commit, and with `reload` wait for the
 * bring-up. The upload is over whatever the outcome. */
hotreload_err_t hr_upload_finish(struct hr_upload *up, struct hr_upload_answer *ans);
/* Drop the upload (the transport gave up: connection lost, timeout); the
 * stored images are untouched. */
void hr_upload_abort(struct hr_upload *up);

/* Ask the application to reload (or unload) `module` at its next safe point
 * (hotreload_poll / hotreload_reload) and wait up to `timeout_ms` for the
 * outcome. TIMEOUT if the application did not get there. */
hotreload_err_t hr_rt_request_reload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize);
hotreload_err_t hr_rt_request_unload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize);

/* Exported symbol names of a loaded module, one per call; returns false past
 * the end. For the console's `symbols` command. */
bool hr_rt_symbol(const char *module, size_t i, const char **name, uintptr_t *addr,
                  bool *is_func);

/* The per-boot nonce that request signatures must include, as 32 hex chars,
 * and the replay counter: a signed request must carry a counter above the
 * last one accepted. `hr_rt_counter_accept` accepts `counter` if it is
 * higher than every earlier one (and remembers it), atomically. */
const char *hr_rt_nonce(void);
uint64_t hr_rt_counter_last(void);
bool hr_rt_counter_accept(uint64_t counter);
/* The port's inflater for compressed uploads (hr_upload_request.deflate);
 * NULL when it has none. */
const struct hr_inflater *hr_rt_inflater(void);

/* The status document (hotreload_status_json) as a transport may show it:
 * without `addresses` no module's sections (the placed addresses, i.e. the
 * memory layout) are listed, for requests that did not authenticate
 * (docs/http.md says what is public). */
size_t hr_status_json(char *buf, size_t size, bool addresses);

/* Map a hotreload_err_t to a short English phrase. */
const char *hr_rt_err_name(hotreload_err_t err);
/* The platform's clock (ms): transports time what they do with it. */
uint64_t hr_rt_now_ms(void);

/* A line for the device's log (the platform's). */
void hr_rt_log(const char *fmt, ...);
/* Record an error as the last one (and log it); returns `err`. */
hotreload_err_t hr_rt_fail(hotreload_err_t err, const char *fmt, ...);
/* What every HTTP server's hotreload_server_start checks first (after
 * starting the runtime): a configuration, and a key unless authentication
 * is disabled. HOTRELOAD_OK, or the error, recorded as the last one. */
hotreload_err_t hr_http_check_config(const hotreload_server_config_t *config);

#endif
