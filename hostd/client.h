/* hotd's side of the device protocols: the project's key, signed HTTP
 * requests (docs/http.md), pushes to one or several devices. */
#ifndef HOTD_CLIENT_H
#define HOTD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What hotd signs with: the build's private key BUILD_DIR/hotreload-sign.pem
 * (HR2, ECDSA P-256: the device holds only the public key), else the HMAC
 * key BUILD_DIR/hotreload.key (HR1, 64 hex digits, the explicit option).
 * Both written by the build integration. */
struct hotd_key {
    uint8_t bytes[64];          /* HR1: the HMAC key */
    size_t len;
    bool ecdsa;                 /* HR2: priv and pub hold the key */
    uint8_t priv[32];           /* the private scalar, big-endian */
    uint8_t pub[65];            /* the public point, 0x04 || X || Y */
};
int hotd_load_key(const char *build_dir, struct hotd_key *key, char *msg, size_t msgsize);
/* What a user is told when a device refuses hotd's signature: the key
 * differs from the one the running firmware was built with. */
#define HOTD_KEY_ADVICE                                                                        \
    "the device's firmware was built with another key than this build's "                     \
    "hotreload-sign.pem (or hotreload.key with HMAC): push with --build of the build that "   \
    "made that firmware, or flash this build's firmware (a new key needs a reflash; "         \
    "docs/http.md, Keys)"

/* sign_key.c: a fresh P-256 key written to `path` in PEM, created 0600
 * with O_EXCL (an existing file is an error); reading one; the
 * Authorization value of a request (HR2 with an ECDSA key, else HR1) into
 * out[HR_AUTH_VALUE_MAX]. Each 0, or -1 (with msg). */
int hotd_sign_key_new(const char *path, char *msg, size_t msgsize);
int hotd_sign_key_load(const char *path, struct hotd_key *key, char *msg, size_t msgsize);
int hotd_sign(const struct hotd_key *key, const char *method, const char *target,
              const char *nonce, uint64_t counter, const uint8_t body_sha[32], char *out);

/* What hotd signs with, from what the device said (nonce, the last counter
 * it accepted) and this host's clock in ms: the counter is the clock, or one
 * above the device's when that is ahead -- but never more than a day ahead
 * of the clock, and the nonce must be the device's form (32 hex digits): a
 * man in the middle could otherwise pick them, or have hotd sign counter
 * 2^64-1 and lock the device out until it reboots. 0, or -1 with a message. */
#define HOTD_COUNTER_AHEAD_MAX_MS (24ull * 3600 * 1000)
int hotd_sign_counter(const char *nonce, uint64_t last, uint64_t now_ms, uint64_t *counter,
                      char *msg, size_t msgsize);

/* A console command that changes what runs (reload, unload, confirm), as
 * the device takes it: its words joined by one space, then "HR2 counter=N,
 * sig=S" or "HR1 counter=N, mac=M" (method SERIAL, the empty body), signed with the device's nonce
 * and a counter above `last` (hotd_sign_counter; *used gets it). 0, or -1
 * with a message in out. */
int hotd_sign_command(const struct hotd_key *key, const char *words, const char *nonce,
                      uint64_t last, uint64_t *used, char *out, size_t size);

struct hotd_push_result {
    const char *url;
    int http_status;        /* 0: the device did not answer */
    bool ok;
    char message[512];      /* the device's answer ("error" or "message"), verbatim */
    char advice[256];       /* what to do about it; "" when nothing */
    char status_json[16384]; /* GET /status after a successful reload ("" if not fetched) */
    double upload_ms;       /* sending the body */
    size_t compressed;      /* serial: the body's bytes on the wire when compressed, else 0 */
    double device_ms;       /* from the last body byte to the answer: store + load */
    double device_said_ms;  /* the device's own figure for that (-1: it gave none) */
    unsigned attempts;
};

/* Push a module image to each of `n` devices concurrently: sign with `key`,
 * POST /upload-and-reload (or /upload with reload false), retry with backoff
 * on connection errors (never on an HTTP answer), then fetch /status on
 * success. A progress bar on stderr when `progress` and stderr is a tty.
 * Returns the number of devices that failed. */
int hotd_push(const char *const *urls, size_t n, const struct hotd_key *key, const char *module,
              const void *img, size_t len, bool reload, bool progress,
              struct hotd_push_result *results);

/* A device's answer, kept in memory: a curl write function that stops
 * (the transfer fails) past HOTD_ANSWER_MAX, which no device answers. */
#define HOTD_ANSWER_MAX (1u << 20)
struct hotd_body {
    char *data; /* NUL-terminated */
    size_t len;
};
size_t hotd_on_body(char *p, size_t size, size_t n, void *body);

/* GET /status: the JSON text in *json (malloc'd), or -1 with a message.
 * With a key the request is signed (HR1, after an unsigned GET for the
 * nonce), and the device's answer then lists the sections' addresses. */
int hotd_get_status(const char *url, const struct hotd_key *key, char **json, char *msg,
                    size_t msgsize);

/* The parsing half of a push, apart from the network (and fuzzed so,
 * tests/fuzz). The device's answer to the POST, `body` its text (NULL: none)
 * and r->http_status already set: fills r->ok, r->message (printable text
 * only) and r->advice. */
void hotd_read_answer(struct hotd_push_result *r, const char *body, const char *module,
                      size_t len);
/* The Authorization value for POST `target` of a body with SHA-256 `sha`,
 * from the device's GET /status text: its nonce, and a counter above the
 * last it accepted and at least `now` (hotd_sign_counter). 0, or -1 with a
 * message when the status has no usable nonce or counter. */
int hotd_sign_push(const char *status, uint64_t now, const struct hotd_key *key,
                   const char *target, const uint8_t sha[32], char *auth, char *msg,
                   size_t msgsize);

/* The same for any bodyless or body request: `method` `target`, the
 * counter used in *used (may be NULL). */
int hotd_sign_request(const char *status, uint64_t now, const struct hotd_key *key,
                      const char *method, const char *target, const uint8_t sha[32],
                      char *auth, uint64_t *used, char *msg, size_t msgsize);

/* The length of a device URL without its trailing slashes (the endpoints'
 * paths are appended to it). */
int hotd_url_len(const char *url);

#endif
