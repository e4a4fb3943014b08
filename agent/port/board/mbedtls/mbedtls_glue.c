/* What mbedTLS asks of a bare-metal board (hr_mbedtls_config.h): memory
 * from the board's heap, and random bytes from its random source (QEMU's
 * virtio-rng on rv32-virt, the boot script's seed on mps2-an385; a chip
 * reads its TRNG). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <psa/crypto.h>

#include "board.h"

void *hr_mbedtls_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = hr_board_heap_alloc(n * size, 8);
    return p ? memset(p, 0, n * size) : NULL;
}

void hr_mbedtls_free(void *p)
{
    if (p)
        hr_board_heap_free(p);
}

psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *ctx,
                                             uint8_t *out, size_t size, size_t *len)
{
    const char *why;
    (void)ctx;
    if (hr_board_random(out, size, &why) != 0)
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    *len = size;
    return PSA_SUCCESS;
}
