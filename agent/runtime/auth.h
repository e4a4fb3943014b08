/* Request authentication, schemes "HR2" and "HR1" (see docs/http.md).
 *
 *   MESSAGE = SCHEME "\n" METHOD "\n" TARGET "\n" NONCE "\n" COUNTER "\n"
 *             HEX(SHA-256(body))
 *   Authorization: HR2 counter=<decimal u64>, sig=<128 lowercase hex>
 *     sig = r || s of ECDSA P-256 over SHA-256(MESSAGE): the device holds
 *           only the public key (the default)
 *   Authorization: HR1 counter=<decimal u64>, mac=<64 lowercase hex>
 *     mac = HMAC-SHA-256(key, MESSAGE): a secret shared with the device
 *           (the explicit option)
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
#define HR_AUTH_SCHEME_SIG "HR2"
/* "HR2 counter=<20 digits>, sig=<128 hex>" and its NUL. */
#define HR_AUTH_VALUE_MAX 176
/* A P-256 public key as SEC1 uncompressed point: 0x04, X, Y. */
#define HR_AUTH_PUBKEY_LEN 65

/* What a device verifies with: a public key (HR2 only) or else the HMAC
 * key (HR1 only). One scheme per device, so a leaked HMAC key of an old
 * build cannot be used against a device that moved to signatures. */
struct hr_auth_keys {
    const uint8_t *key;          /* HR1: the HMAC key */
    size_t keylen;
    const uint8_t *pubkey;       /* HR2: HR_AUTH_PUBKEY_LEN bytes; NULL: HR1 */
};

/* Parsed credentials. `counter_str` is the counter exactly as sent: the
 * signature covers the text, not the number. */
struct hr_auth {
    int scheme;                  /* 1: HR1 (mac), 2: HR2 (sig) */
    uint64_t counter;
    char counter_str[21];
    char proof[129];             /* HR1: 64 hex of the mac; HR2: 128 hex of r || s */
};

/* Parse an Authorization value of `len` bytes. MISSING when value is NULL. */
enum hr_auth_result hr_auth_parse(const char *value, size_t len, struct hr_auth *out, char *msg,
                                  size_t msgsize);
/* Check the MAC over method, target, this boot's nonce, the counter and the
 * body's SHA-256; on success accept the counter (STALE if a concurrent
 * request took it first). */
enum hr_auth_result hr_auth_verify(const struct hr_auth_keys *keys, const char *method,
                                   const char *target, const struct hr_auth *a,
                                   const uint8_t body_sha[32], char *msg, size_t msgsize);

/* The whole check of a credential (NULL: none) against a request: parse,
 * a counter above the last accepted one, the MAC (which accepts the
 * counter). What every transport's request goes through. */
enum hr_auth_result hr_auth_check(const struct hr_auth_keys *keys, const char *method,
                                  const char *target, const char *credential, size_t len,
                                  const uint8_t body_sha[32], char *msg, size_t msgsize);

/* SHA-256 of MESSAGE for `scheme` (what HR2 signs); -1 if a field holds a
 * newline or is NULL. */
int hr_auth_digest(const char *scheme, const char *method, const char *target,
                   const char *nonce, const char *counter, const uint8_t body_sha[32],
                   uint8_t digest[32]);
/* ECDSA P-256 verification of r || s (sig, 64 bytes) over `digest` with a
 * SEC1 uncompressed public key: HR_AUTH_OK, HR_AUTH_BAD_MAC, or
 * HR_AUTH_NO_KEY when the key or the crypto library is unusable (msg says
 * which). The port's file: auth_ecdsa_psa.c (PSA Crypto) or
 * auth_ecdsa_none.c (a build without it). */
enum hr_auth_result hr_auth_ecdsa_verify(const uint8_t pubkey[HR_AUTH_PUBKEY_LEN],
                                         const uint8_t digest[32], const uint8_t sig[64],
                                         char *msg, size_t msgsize);

/* The MAC of a request; -1 if a field holds a newline or is too long. */
int hr_auth_mac(const uint8_t *key, size_t keylen, const char *method, const char *target,
                const char *nonce, const char *counter, const uint8_t body_sha[32],
                uint8_t mac[32]);
/* Make the Authorization value ("HR1 counter=N, mac=...", without the
 * "Authorization: " prefix) into out[HR_AUTH_VALUE_MAX]. 0, or -1 as above. */
int hr_auth_sign(const uint8_t *key, size_t keylen, const char *method, const char *target,
                 const char *nonce, uint64_t counter, const uint8_t body_sha[32], char *out);

#endif
