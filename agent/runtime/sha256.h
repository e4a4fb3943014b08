/* SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104): portable C, or the
 * port's library for the hash itself (HR_SHA256_PSA). */
#ifndef HR_SHA256_H
#define HR_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef HR_SHA256_PSA
/* The port hashes with PSA Crypto (mbedTLS; hardware-accelerated on ESP
 * chips): port/esp-idf/sha256_psa.c provides the three functions below. */
#include <psa/crypto.h>
struct hr_sha256 {
    psa_hash_operation_t op;
};
#else
struct hr_sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
};
#endif

void hr_sha256_init(struct hr_sha256 *s);
void hr_sha256_update(struct hr_sha256 *s, const void *data, size_t len);
void hr_sha256_final(struct hr_sha256 *s, uint8_t out[32]);
void hr_sha256(const void *data, size_t len, uint8_t out[32]);
void hr_hmac_sha256(const uint8_t *key, size_t keylen, const void *msg, size_t len,
                    uint8_t out[32]);
/* Compare without leaking where they differ. */
int hr_memeq_ct(const void *a, const void *b, size_t len);
/* Lower-case hex of `len` bytes into out (2*len+1 bytes). */
void hr_hex(const uint8_t *in, size_t len, char *out);

#endif
