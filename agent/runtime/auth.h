/* Request authentication, scheme "HR1" (see docs/http.md).
 *
 *   Authorization: HR1 counter=<decimal u64>, mac=<64 lowercase hex>
 *   mac = HMAC-SHA-256(key, "HR1\n" METHOD "\n" TARGET "\n" NONCE "\n"
 *                           COUNTER "\n" HEX(SHA-256(body)))
 *
 * The nonce changes at every boot (hr_rt_nonce) and the counter must grow
 * (hr_rt_counter_accept), so a captured request cannot be replayed. Used by
 * the HTTP server and the serial console; hotd signs with hr_auth_sign. */
#ifndef HR_AUTH_H
#define HR_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "hotreload/transport.h" /* enum hr_auth_result */

#define HR_AUTH_SCHEME "HR1"
/* "HR1 counter=<20 digits>, mac=<64 hex>" and its NUL. */
#define HR_AUTH_VALUE_MAX 112


/* Parsed credentials. `counter_str` is the counter exactly as sent: the MAC
 * covers the text, not the number. */
struct hr_auth {
    uint64_t counter;
    char counter_str[21];
    char mac[65];
};

/* Parse an Authorization value of `len` bytes. MISSING when value is NULL. */
enum hr_auth_result hr_auth_parse(const char *value, size_t len, struct hr_auth *out, char *msg,
                                  size_t msgsize);
/* Check the MAC over method, target, this boot's nonce, the counter and the
 * body's SHA-256; on success accept the counter (STALE if a concurrent
 * request took it first). */
enum hr_auth_result hr_auth_verify(const uint8_t *key, size_t keylen, const char *method,
                                   const char *target, const struct hr_auth *a,
                                   const uint8_t body_sha[32], char *msg, size_t msgsize);

/* The whole check of a credential (NULL: none) against a request: parse,
 * a counter above the last accepted one, the MAC (which accepts the
 * counter). What every transport's request goes through. */
enum hr_auth_result hr_auth_check(const uint8_t *key, size_t keylen, const char *method,
                                  const char *target, const char *credential, size_t len,
                                  const uint8_t body_sha[32], char *msg, size_t msgsize);

/* The MAC of a request; -1 if a field holds a newline or is too long. */
int hr_auth_mac(const uint8_t *key, size_t keylen, const char *method, const char *target,
                const char *nonce, const char *counter, const uint8_t body_sha[32],
                uint8_t mac[32]);
/* Make the Authorization value ("HR1 counter=N, mac=...", without the
 * "Authorization: " prefix) into out[HR_AUTH_VALUE_MAX]. 0, or -1 as above. */
int hr_auth_sign(const uint8_t *key, size_t keylen, const char *method, const char *target,
                 const char *nonce, uint64_t counter, const uint8_t body_sha[32], char *out);

#endif
