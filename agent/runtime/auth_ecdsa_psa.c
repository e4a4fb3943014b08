/* HR2's ECDSA P-256 verification through the PSA Crypto API (mbedTLS: the
 * simulated device links Debian's libmbedcrypto; ESP-IDF ships its own).
 * Not hand-written arithmetic: a well-kept library does the curve. */
#include <psa/crypto.h>

#include "../core/fmt.h"
#include "auth.h"
#include "rt.h"

/* mbedTLS 2.28's PSA key store is not thread-safe, and the posix server
 * verifies on one thread per connection: every PSA call runs under the
 * runtime's lock. The key is imported per request (65 bytes, cheap next
 * to the verify) so no key slot outlives it. */
static enum hr_auth_result verify_locked(const uint8_t pubkey[HR_AUTH_PUBKEY_LEN],
                                         const uint8_t digest[32], const uint8_t sig[64],
                                         char *msg, size_t msgsize)
{
    psa_status_t st = psa_crypto_init(); /* once; later calls return at once */
    if (st != PSA_SUCCESS) {
        hr_fmt(msg, msgsize, "the device cannot start its crypto library (psa_crypto_init: "
                             "%d): no signed request can be checked", (int)st);
        return HR_AUTH_NO_KEY;
    }
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_key_id_t id = 0;
    st = psa_import_key(&attr, pubkey, HR_AUTH_PUBKEY_LEN, &id);
    if (st != PSA_SUCCESS) {
        hr_fmt(msg, msgsize, "the device's public key is not a P-256 point (psa_import_key: "
                             "%d): rebuild the firmware with the output of 'hotd key public'",
               (int)st);
        return HR_AUTH_NO_KEY;
    }
    st = psa_verify_hash(id, PSA_ALG_ECDSA(PSA_ALG_SHA_256), digest, 32, sig, 64);
    psa_destroy_key(id);
    if (st != PSA_SUCCESS) {
        hr_fmt(msg, msgsize, "wrong signature: signed with another private key than the one "
                             "of the device's public key, or the method, target, nonce, "
                             "counter or body changed after signing");
        return HR_AUTH_BAD_MAC;
    }
    return HR_AUTH_OK;
}

/* A verify is costly (36 M instructions on rv32: ~0.2 s on a 160 MHz chip
 * with one thread), and anyone can send a well-formed wrong signature. After
 * FREE_FAILS wrong ones in a row, checks pause for a time that doubles with
 * each further one (PAUSE_MIN_MS .. PAUSE_MAX_MS): a hostile client gets a
 * few percent of the CPU at most. A good signature ends it. */
#define FREE_FAILS 2u
#define PAUSE_MIN_MS 1000u
#define PAUSE_MAX_SHIFT 4u /* 1 s << 4 = 16 s */
static struct {
    unsigned fails;  /* wrong signatures in a row */
    uint64_t until;  /* no check before this time (ms) */
} gate;

static enum hr_auth_result paused(uint64_t now, char *msg, size_t msgsize)
{
    hr_fmt(msg, msgsize, "signature checks are paused for %u ms more after %u wrong signatures "
                         "in a row (a client signs with another key, or sends bad ones): try "
                         "again then", (unsigned)(gate.until - now), gate.fails);
    return HR_AUTH_PAUSED;
}

static void count(enum hr_auth_result r)
{
    if (r == HR_AUTH_OK) {
        gate.fails = 0;
    } else if (r == HR_AUTH_BAD_MAC && ++gate.fails >= FREE_FAILS) {
        unsigned shift = gate.fails - FREE_FAILS;
        shift = shift < PAUSE_MAX_SHIFT ? shift : PAUSE_MAX_SHIFT;
        gate.until = hr_rt_now_ms() + ((uint64_t)PAUSE_MIN_MS << shift);
    }
}

enum hr_auth_result hr_auth_ecdsa_verify(const uint8_t pubkey[HR_AUTH_PUBKEY_LEN],
                                         const uint8_t digest[32], const uint8_t sig[64],
                                         char *msg, size_t msgsize)
{
    hr_rt_lock();
    uint64_t now = hr_rt_now_ms();
    enum hr_auth_result r = gate.fails >= FREE_FAILS && now < gate.until
                                ? paused(now, msg, msgsize)
                                : verify_locked(pubkey, digest, sig, msg, msgsize);
    if (r != HR_AUTH_PAUSED)
        count(r);
    hr_rt_unlock();
    return r;
}
