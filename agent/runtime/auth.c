/* Request authentication, schemes HR2 (ECDSA P-256) and HR1 (HMAC): parse,
 * check and make the Authorization value. Freestanding (runs on the
 * device); the ECDSA arithmetic is the crypto library's (auth_ecdsa_*.c). */
#include <stdbool.h>
#include <string.h>

#include "../core/fmt.h"
#include "auth.h"
#include "hotreload/transport.h"
#include "sha256.h"

#define SYNTAX "expected 'Authorization: HR2 counter=<decimal>, sig=<128 lowercase hex>' " \
               "(or with an HMAC key 'HR1 counter=<decimal>, mac=<64 lowercase hex>')"

static enum hr_auth_result say(enum hr_auth_result r, char *msg, size_t msgsize,
                               const char *what)
{
    hr_fmt(msg, msgsize, "malformed Authorization header (%s): " SYNTAX, what);
    return r;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Does p[0..len) start with `word`? Advances *i past it. */
static bool take(const char *p, size_t len, size_t *i, const char *word, bool nocase)
{
    size_t n = strlen(word);
    if (len - *i < n)
        return false;
    for (size_t k = 0; k < n; k++) {
        char c = p[*i + k];
        if (nocase && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != word[k])
            return false;
    }
    *i += n;
    return true;
}

/* "counter=<decimal>" at *i into out; NULL, or what is wrong. */
static const char *take_counter(const char *value, size_t len, size_t *i, struct hr_auth *out)
{
    if (!take(value, len, i, "counter=", false))
        return "no counter";
    size_t start = *i;
    uint64_t v = 0;
    for (; *i < len && value[*i] >= '0' && value[*i] <= '9'; (*i)++) {
        unsigned d = (unsigned)(value[*i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return "counter over 2^64-1";
        v = v * 10 + d;
    }
    size_t ndig = *i - start;
    if (ndig == 0)
        return "counter is not a decimal number";
    if (ndig > 1 && value[start] == '0')
        return "counter has leading zeros";
    if (ndig >= sizeof out->counter_str)
        return "counter too long";
    memcpy(out->counter_str, value + start, ndig);
    out->counter_str[ndig] = '\0';
    out->counter = v;
    return NULL;
}

/* "mac=<64 hex>" (HR1) or "sig=<128 hex>" (HR2) at *i; NULL, or what is wrong. */
static const char *take_proof(const char *value, size_t len, size_t *i, struct hr_auth *out)
{
    bool sig = out->scheme == 2;
    size_t n = sig ? 128 : 64;
    if (!take(value, len, i, sig ? "sig=" : "mac=", false))
        return sig ? "no sig" : "no mac";
    for (size_t k = 0; k < n; k++, (*i)++) {
        char c = *i < len ? value[*i] : '\0';
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return sig ? "sig is not 128 lowercase hex digits"
                       : "mac is not 64 lowercase hex digits";
        out->proof[k] = c;
    }
    out->proof[n] = '\0';
    return NULL;
}

enum hr_auth_result hr_auth_parse(const char *value, size_t len, struct hr_auth *out, char *msg,
                                  size_t msgsize)
{
    if (!value) {
        hr_fmt(msg, msgsize, "authentication required: " SYNTAX);
        return HR_AUTH_MISSING;
    }
    size_t i = 0;
    out->scheme = take(value, len, &i, HR_AUTH_SCHEME_SIG, true) ? 2
                  : take(value, len, &i, HR_AUTH_SCHEME, true) ? 1
                                                                : 0;
    if (!out->scheme || i >= len || !is_space(value[i]))
        return say(HR_AUTH_MALFORMED, msg, msgsize, "scheme is not HR2 or HR1");
    while (i < len && is_space(value[i]))
        i++;
    const char *bad = take_counter(value, len, &i, out);
    if (bad)
        return say(HR_AUTH_MALFORMED, msg, msgsize, bad);
    while (i < len && is_space(value[i]))
        i++;
    if (i >= len || value[i++] != ',')
        return say(HR_AUTH_MALFORMED, msg, msgsize, "no comma after the counter");
    while (i < len && is_space(value[i]))
        i++;
    bad = take_proof(value, len, &i, out);
    if (bad)
        return say(HR_AUTH_MALFORMED, msg, msgsize, bad);
    while (i < len && is_space(value[i]))
        i++;
    if (i != len)
        return say(HR_AUTH_MALFORMED, msg, msgsize, "trailing characters");
    return HR_AUTH_OK;
}

static enum hr_auth_result stale(const struct hr_auth *a, uint64_t last, char *msg,
                                 size_t msgsize)
{
    hr_fmt(msg, msgsize, "replayed or stale request (counter %llu, last accepted %llu)",
           (unsigned long long)a->counter, (unsigned long long)last);
    return HR_AUTH_STALE;
}

/* Fail fast: is the counter above the last accepted? */
static enum hr_auth_result fresh(const struct hr_auth *a, char *msg, size_t msgsize)
{
    uint64_t last = hr_rt_counter_last();
    return a->counter > last ? HR_AUTH_OK : stale(a, last, msg, msgsize);
}

/* Start an HMAC-SHA-256: the key's inner (0x36) or outer (0x5c) pad. */
static void hmac_pad(struct hr_sha256 *s, const uint8_t *key, size_t keylen, uint8_t x)
{
    uint8_t k[64];
    memset(k, 0, sizeof k);
    if (keylen > 64)
        hr_sha256(key, keylen, k);
    else if (keylen)
        memcpy(k, key, keylen);
    for (int i = 0; i < 64; i++)
        k[i] ^= x;
    hr_sha256_init(s);
    hr_sha256_update(s, k, 64);
    memset(k, 0, sizeof k);
}

/* MESSAGE (auth.h) into a hash: no buffer for the joined text (the
 * device's HTTP thread has a small stack). -1 if a field holds a newline:
 * fields are joined by newlines, one inside a field would let two
 * different requests share a signature. */
static int put_message(struct hr_sha256 *s, const char *scheme, const char *method,
                       const char *target, const char *nonce, const char *counter,
                       const uint8_t body_sha[32])
{
    const char *fields[] = {scheme, method, target, nonce, counter};
    char hex[65];
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        if (!fields[k] || strchr(fields[k], '\n'))
            return -1;
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        hr_sha256_update(s, fields[k], strlen(fields[k]));
        hr_sha256_update(s, "\n", 1);
    }
    hr_hex(body_sha, 32, hex);
    hr_sha256_update(s, hex, 64);
    return 0;
}

int hr_auth_mac(const uint8_t *key, size_t keylen, const char *method, const char *target,
                const char *nonce, const char *counter, const uint8_t body_sha[32],
                uint8_t mac[32])
{
    struct hr_sha256 s;
    uint8_t inner[32];
    hmac_pad(&s, key, keylen, 0x36);
    if (put_message(&s, HR_AUTH_SCHEME, method, target, nonce, counter, body_sha) != 0)
        return -1;
    hr_sha256_final(&s, inner);
    hmac_pad(&s, key, keylen, 0x5c);
    hr_sha256_update(&s, inner, 32);
    hr_sha256_final(&s, mac);
    return 0;
}

int hr_auth_digest(const char *scheme, const char *method, const char *target,
                   const char *nonce, const char *counter, const uint8_t body_sha[32],
                   uint8_t digest[32])
{
    struct hr_sha256 s;
    hr_sha256_init(&s);
    if (put_message(&s, scheme, method, target, nonce, counter, body_sha) != 0)
        return -1;
    hr_sha256_final(&s, digest);
    return 0;
}

static enum hr_auth_result verify_mac(const struct hr_auth_keys *keys, const char *method,
                                      const char *target, const struct hr_auth *a,
                                      const uint8_t body_sha[32], char *msg, size_t msgsize)
{
    uint8_t mac[32];
    char hex[65];
    if (hr_auth_mac(keys->key, keys->keylen, method, target, hr_rt_nonce(), a->counter_str,
                    body_sha, mac) != 0) {
        hr_fmt(msg, msgsize, "request cannot be authenticated (a field holds a newline)");
        return HR_AUTH_BAD_MAC;
    }
    hr_hex(mac, 32, hex);
    if (!hr_memeq_ct(hex, a->proof, 64)) {
        hr_fmt(msg, msgsize, "wrong mac: the key differs from the device's, or the method, "
                             "target, nonce, counter or body changed after signing");
        return HR_AUTH_BAD_MAC;
    }
    return HR_AUTH_OK;
}

static uint8_t nibble(char c)
{
    return (uint8_t)(c <= '9' ? c - '0' : c - 'a' + 10);
}

static enum hr_auth_result verify_sig(const struct hr_auth_keys *keys, const char *method,
                                      const char *target, const struct hr_auth *a,
                                      const uint8_t body_sha[32], char *msg, size_t msgsize)
{
    uint8_t digest[32], sig[64];
    if (hr_auth_digest(HR_AUTH_SCHEME_SIG, method, target, hr_rt_nonce(), a->counter_str,
                       body_sha, digest) != 0) {
        hr_fmt(msg, msgsize, "request cannot be authenticated (a field holds a newline)");
        return HR_AUTH_BAD_MAC;
    }
    for (size_t k = 0; k < 64; k++) /* parsed: 128 lowercase hex digits */
        sig[k] = (uint8_t)(nibble(a->proof[2 * k]) << 4 | nibble(a->proof[2 * k + 1]));
    return hr_auth_ecdsa_verify(keys->pubkey, digest, sig, msg, msgsize);
}

/* A credential of the other scheme than the device's: named, so the
 * client knows which key to sign with. */
static enum hr_auth_result wrong_scheme(const struct hr_auth_keys *keys, char *msg,
                                        size_t msgsize)
{
    if (keys->pubkey)
        hr_fmt(msg, msgsize, "this device verifies HR2 signatures (ECDSA P-256, public key) "
                             "only and refuses HR1 (HMAC): sign with the build's private key "
                             "(hotreload-sign.pem; docs/http.md)");
    else
        hr_fmt(msg, msgsize, "this device verifies HR1 (HMAC, the build's hotreload.key) only "
                             "and refuses HR2: it was built without a public key");
    return HR_AUTH_MALFORMED;
}

/* Has the device a key, of the credential's scheme? */
static enum hr_auth_result usable(const struct hr_auth_keys *keys, const struct hr_auth *a,
                                  char *msg, size_t msgsize)
{
    if (!keys || (!keys->pubkey && (!keys->key || !keys->keylen))) {
        hr_fmt(msg, msgsize, "the device has no authentication key configured");
        return HR_AUTH_NO_KEY;
    }
    if ((a->scheme == 2) != (keys->pubkey != NULL))
        return wrong_scheme(keys, msg, msgsize);
    return HR_AUTH_OK;
}

enum hr_auth_result hr_auth_verify(const struct hr_auth_keys *keys, const char *method,
                                   const char *target, const struct hr_auth *a,
                                   const uint8_t body_sha[32], char *msg, size_t msgsize)
{
    enum hr_auth_result r = usable(keys, a, msg, msgsize);
    if (r != HR_AUTH_OK)
        return r;
    if (!hr_rt_nonce()[0]) {
        hr_fmt(msg, msgsize, "the device has no random source for its nonce, so it accepts no "
                             "signed request (its log says what the port lacks)");
        return HR_AUTH_NO_RANDOM;
    }
    r = keys->pubkey ? verify_sig(keys, method, target, a, body_sha, msg, msgsize)
                     : verify_mac(keys, method, target, a, body_sha, msg, msgsize);
    if (r != HR_AUTH_OK)
        return r;
    /* Atomic: of two requests with the same counter only one gets here. */
    if (!hr_rt_counter_accept(a->counter))
        return stale(a, hr_rt_counter_last(), msg, msgsize);
    return HR_AUTH_OK;
}

enum hr_auth_result hr_auth_check(const struct hr_auth_keys *keys, const char *method,
                                  const char *target, const char *credential, size_t len,
                                  const uint8_t body_sha[32], char *msg, size_t msgsize)
{
    struct hr_auth a;
    enum hr_auth_result r = hr_auth_parse(credential, len, &a, msg, msgsize);
    if (r == HR_AUTH_OK)
        r = usable(keys, &a, msg, msgsize);
    if (r == HR_AUTH_OK)
        r = fresh(&a, msg, msgsize);
    if (r == HR_AUTH_OK)
        r = hr_auth_verify(keys, method, target, &a, body_sha, msg, msgsize);
    return r;
}

int hr_auth_sign(const uint8_t *key, size_t keylen, const char *method, const char *target,
                 const char *nonce, uint64_t counter, const uint8_t body_sha[32], char *out)
{
    char num[24], hex[65];
    uint8_t mac[32];
    hr_fmt(num, sizeof num, "%llu", (unsigned long long)counter);
    if (hr_auth_mac(key, keylen, method, target, nonce, num, body_sha, mac) != 0)
        return -1;
    hr_hex(mac, 32, hex);
    hr_fmt(out, HR_AUTH_VALUE_MAX, HR_AUTH_SCHEME " counter=%s, mac=%s", num, hex);
    return 0;
}
