/* HR2 on a build without a crypto library (the rv32 port and the ESP-IDF
 * component until they link mbedTLS; hotd and the tests that only sign):
 * a device configured with a public key says why it cannot verify. */
#include "../core/fmt.h"
#include "auth.h"

enum hr_auth_result hr_auth_ecdsa_verify(const uint8_t pubkey[HR_AUTH_PUBKEY_LEN],
                                         const uint8_t digest[32], const uint8_t sig[64],
                                         char *msg, size_t msgsize)
{
    (void)pubkey, (void)digest, (void)sig;
    hr_fmt(msg, msgsize, "this firmware was built without an ECDSA verifier (PSA Crypto), so "
                         "its public key cannot be used: build it with HOTRELOAD_AUTH=hmac, "
                         "or link mbedTLS and runtime/auth_ecdsa_psa.c");
    return HR_AUTH_NO_KEY;
}
