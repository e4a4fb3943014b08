/* SHA-256 through PSA Crypto: ESP-IDF's mbedTLS, hardware-accelerated on
 * chips (sha256.h, HR_SHA256_PSA). HMAC and the rest stay portable. */
#include <string.h>

#include "esp_log.h"
#include "esp_random.h"
#include "sha256.h"

void hr_sha256_init(struct hr_sha256 *s)
{
    psa_crypto_init(); /* once; later calls return at once */
    s->op = psa_hash_operation_init();
    psa_hash_setup(&s->op, PSA_ALG_SHA_256);
}

void hr_sha256_update(struct hr_sha256 *s, const void *data, size_t len)
{
    psa_hash_update(&s->op, data, len);
}

void hr_sha256_final(struct hr_sha256 *s, uint8_t out[32])
{
    size_t n = 0;
    if (psa_hash_finish(&s->op, out, 32, &n) != PSA_SUCCESS || n != 32) {
        /* Never a predictable digest: a constant one would let a forged
         * MAC match. Random bytes match nothing. */
        ESP_LOGE("hotreload", "SHA-256 failed in PSA Crypto: the request will be refused");
        esp_fill_random(out, 32);
        psa_hash_abort(&s->op);
    }
}
