/* The port's random source. The board has no random number generator, and
 * its counters are known to whoever knows when it booted; what it has is
 * what the boot script gives each run: 64 fresh bytes from the host's
 * /dev/urandom, put at .entropy (link.ld) by QEMU's -device loader, as a
 * chip's TRNG would give them. The first use takes them as the key of a
 * SHA-256 counter generator and wipes them (a module loaded later cannot
 * read them); a run started without them has no random source, and says
 * how to give one. On a chip this reads the TRNG instead (port.h). */
#include <string.h>

#include "an385.h"
#include "sha256.h"

static uint8_t key[32];
static uint32_t counter;
static int state; /* 0 not yet looked, 1 keyed, -1 nothing was given */

static int take_seed(void)
{
    volatile uint8_t *seed = (volatile uint8_t *)__entropy_start;
    size_t n = (size_t)(__entropy_end - __entropy_start);
    uint8_t any = 0, copy[64];
    for (size_t i = 0; i < n && i < sizeof copy; i++) {
        copy[i] = seed[i];
        any |= copy[i];
        seed[i] = 0;
    }
    if (!any) /* QEMU's RAM starts zeroed: nothing was put there */
        return -1;
    hr_sha256(copy, sizeof copy, key);
    memset(copy, 0, sizeof copy);
    return 1;
}

int hr_board_random(void *out, size_t len, const char **why)
{
    if (!state)
        state = take_seed();
    if (state < 0) {
        *why = "no seed at .entropy: start QEMU with -device loader,file=SEED,addr=0x203fffc0 "
               "where SEED is 64 bytes from /dev/urandom (scripts/qemu-cortex-m does)";
        return -1;
    }
    uint8_t *p = out;
    while (len) {
        struct hr_sha256 s;
        uint8_t block[32];
        hr_sha256_init(&s);
        hr_sha256_update(&s, key, sizeof key);
        hr_sha256_update(&s, &counter, sizeof counter);
        hr_sha256_final(&s, block);
        counter++;
        size_t n = len < sizeof block ? len : sizeof block;
        memcpy(p, block, n);
        p += n;
        len -= n;
    }
    return 0;
}
