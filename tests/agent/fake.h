/* A fake runtime (the hr_rt_* calls http.c makes) and an in-memory
 * connection, so the HTTP layer is tested alone, byte by byte. */
#ifndef FAKE_H
#define FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotreload/http.h"
#include "hotreload/transport.h"
#include "stage.h"
#include "sha256.h"

#define FAKE_NONCE "00112233445566778899aabbccddeeff"

struct fake_rt {
    /* What the next calls answer (HOTRELOAD_OK by default). */
    hotreload_err_t begin_err, write_err, commit_err, reload_err, unload_err;
    const char *err_msg;           /* message for the failure above */
    size_t status_len;             /* 0: a small status JSON; else claim this length */
    /* What happened. */
    int begins, writes, aborts, commits, reloads, unloads;
    bool live;                     /* an upload is open */
    char module[64];               /* module of the last call ("(null)" for NULL) */
    uint32_t length;
    uint64_t got;
    uint32_t reload_timeout;
    struct hr_sha256 sha;
    uint8_t stored_sha[32];        /* of the last committed body */
    uint64_t counter_last;
};

extern struct fake_rt fake;
void fake_reset(void); /* keeps counter_last: it only grows on a device */

/* A connection over a byte string: reads hand out at most `chunk` bytes;
 * at the end, read returns `end` (0: closed, -1: error/timeout). */
struct mem_conn {
    const uint8_t *in;
    size_t in_len, pos, chunk;
    int end;
    char out[65536];
    size_t out_len;
    int fail_writes;               /* write fails after this many calls (0: never) */
    int write_calls;
};

/* The parsed answer, after checking what every answer must have. */
struct resp {
    int status;
    bool had_continue;
    char head[2048];
    const char *body;
    size_t body_len;
};

/* Serve `req` through a mem_conn (see via_parsed_head). Returns false (and prints why) if the
 * answer breaks a rule: status line, Content-Type, Connection: close,
 * Content-Length equal to the body, body valid JSON with "ok" matching. */
bool serve(const hotreload_server_config_t *config, const void *request, size_t len,
           size_t chunk, int end, struct resp *r);
bool json_valid(const char *s, size_t len);
/* serve() hands well-formed heads to hr_http_serve_head, parsed as
 * esp_http_server would, instead of the raw bytes to hr_http_serve. */
extern bool via_parsed_head;
extern int parsed_heads; /* how many went that way */
extern char last_summary[512]; /* the log line of the last request served */

/* http_test's harness (harness.c). */
extern int failures, checks;
#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        checks++;                                                                              \
        if (!(cond)) {                                                                         \
            failures++;                                                                        \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                               \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define KEY_LEN 34
extern const uint8_t KEY[KEY_LEN + 1];
extern hotreload_server_config_t cfg;
extern uint64_t counter;
extern char req[1 << 20];
extern uint8_t body[100000];
/* The Authorization line for a request, computed independently of auth.c. */
void sign(const char *method, const char *target, const void *b, size_t n, uint64_t ctr,
          const uint8_t *key, size_t keylen, char *out);
/* A request with Content-Length (when b != NULL) and a fresh signature
 * (when auth); `extra` adds header lines. Returns its length. */
size_t build(const char *method, const char *target, const char *extra, const void *b, size_t n,
             bool auth);
/* Serve req[0..len); check the answer's form, status and a piece of body. */
struct resp expect(size_t len, size_t chunk, int end, int status, const char *has);

#endif
