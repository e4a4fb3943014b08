/* What checking a request's signature costs on a board: HR2 (ECDSA P-256
 * through PSA Crypto, mbedTLS built from Debian's source) against HR1
 * (HMAC-SHA-256, the portable sha256.c) over the same message, in retired
 * instructions (hr_board_icount, exact under QEMU's -icount), with the stack's and
 * the heap's high-water marks around the verify. The vector was signed
 * once with python's `cryptography` (a fixed key: this is a benchmark, the
 * tests sign with fresh keys). */
#include <stdint.h>

#include "auth.h"
#include "hotreload_board.h"

static const uint8_t pubkey[HR_AUTH_PUBKEY_LEN] = {
    0x04, 0xc3, 0x7c, 0x46, 0x51, 0x00, 0x18, 0x13, 0x82, 0xff, 0xb4, 0x26,
    0x3b, 0x5b, 0x87, 0xc4, 0x75, 0x19, 0xa6, 0x8d, 0x6d, 0x69, 0x91, 0xad,
    0xbd, 0x59, 0x3a, 0x3e, 0xfa, 0x11, 0x14, 0x22, 0x28, 0xa1, 0x34, 0xff,
    0x26, 0xbc, 0x98, 0xe9, 0x33, 0x3f, 0x84, 0xad, 0x71, 0x50, 0x0f, 0x50,
    0xcc, 0xa8, 0x87, 0x0a, 0xab, 0xc2, 0x90, 0x22, 0x14, 0x21, 0x91, 0xfc,
    0x1b, 0xf2, 0x4a, 0x0f, 0xd3,
};
static const uint8_t sig[64] = {
    0x47, 0x09, 0xc1, 0xa3, 0x20, 0xad, 0xcd, 0x01, 0xe4, 0xc6, 0x22, 0x86,
    0x9f, 0xd5, 0x55, 0x8d, 0x7d, 0x0d, 0x45, 0xf6, 0x75, 0xc2, 0x0e, 0x7e,
    0x16, 0xe3, 0x04, 0x21, 0x5c, 0xae, 0xb3, 0x53, 0x93, 0xd1, 0x74, 0xf4,
    0x3a, 0xff, 0x1d, 0x8a, 0xc5, 0x39, 0x47, 0xdf, 0x96, 0xc9, 0x33, 0x91,
    0xbf, 0x12, 0xb1, 0x6a, 0xd0, 0xfd, 0xea, 0x40, 0x9a, 0xd3, 0x1a, 0x89,
    0x2e, 0x65, 0x13, 0xd6,
};
#define TARGET "/upload-and-reload?module=greet"
#define NONCE "00112233445566778899aabbccddeeff"

/* HR2's whole check: the message's digest, then the signature. */
static enum hr_auth_result hr2(const uint8_t body_sha[32], const uint8_t *s, char *msg)
{
    uint8_t digest[32];
    hr_auth_digest("HR2", "POST", TARGET, NONCE, "1", body_sha, digest);
    return hr_auth_ecdsa_verify(pubkey, digest, s, msg, 200);
}

int bench_verify(void)
{
    char msg[200];
    uint8_t body_sha[32], mac[32], key[32] = {1}, bad[64];
    hr_sha256("bench", 5, body_sha);
    struct hr_board_heap_stats h0, h1;
    size_t stack0 = hr_board_stack_used();
    hr_board_heap_stats(&h0);
    uint32_t i0 = hr_board_icount();
    enum hr_auth_result first = hr2(body_sha, sig, msg); /* + psa_crypto_init */
    uint32_t i1 = hr_board_icount();
    enum hr_auth_result again = hr2(body_sha, sig, msg);
    uint32_t i2 = hr_board_icount();
    hr_auth_mac(key, sizeof key, "POST", TARGET, NONCE, "1", body_sha, mac);
    int same = hr_memeq_ct(mac, mac, sizeof mac);
    uint32_t i3 = hr_board_icount();
    hr_board_heap_stats(&h1);
    for (unsigned i = 0; i < sizeof bad; i++)
        bad[i] = sig[i] ^ (i == 40);
    enum hr_auth_result wrong = hr2(body_sha, bad, msg);
    if (first != HR_AUTH_OK || again != HR_AUTH_OK || wrong != HR_AUTH_BAD_MAC || !same) {
        hr_board_printf("bench-board verify error %d %d %d: %s\n", first, again, wrong, msg);
        return 1;
    }
    hr_board_printf("bench-board-auth hr2_first=%lu hr2=%lu hr1=%lu stack_before=%lu "
                   "stack_after=%lu heap_peak=%lu heap_exact=%d\n", (unsigned long)(i1 - i0),
                   (unsigned long)(i2 - i1), (unsigned long)(i3 - i2), (unsigned long)stack0,
                   (unsigned long)hr_board_stack_used(), (unsigned long)(h0.free - h1.low_free),
                   h0.low_free == h0.free); /* else an earlier peak may hide this one */
    return 0;
}
