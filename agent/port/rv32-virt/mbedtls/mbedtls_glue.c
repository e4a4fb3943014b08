/* What mbedTLS asks of the rv32-virt port (hr_mbedtls_config.h): memory
 * from the port's heap, and random bytes from its random source (QEMU's
 * virtio-rng; a chip port reads its TRNG). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <psa/crypto.h>

#include "virt.h"

void *hr_mbedtls_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = hr_rv32_heap_alloc(n * size, 8);
    return p ? memset(p, 0, n * size) : NULL;
}

void hr_mbedtls_free(void *p)
{
    if (p)
        hr_rv32_heap_free(p);
}

psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *ctx,
                                             uint8_t *out, size_t size, size_t *len)
{
    const char *why;
    (void)ctx;
    if (hr_rv32_random(out, size, &why) != 0)
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    *len = size;
    return PSA_SUCCESS;
}
