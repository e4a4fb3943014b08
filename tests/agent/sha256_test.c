/* sha256.c against known vectors (FIPS 180-4 examples, RFC 4231) and
 * against the openssl command line on random inputs of every length from
 * 0 to 300 bytes, 1 MiB, and HMAC keys shorter than, equal to and longer
 * than the 64-byte block.
 *
 *   sha256_test OPENSSL SCRATCH_DIR */
#define _POSIX_C_SOURCE 200809L /* popen */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

static int failures, checks;

static void check(int cond, const char *what, const char *got, const char *want)
{
    checks++;
    if (!cond) {
        failures++;
        fprintf(stderr, "FAIL %s: got %s, want %s\n", what, got, want);
    }
}

static void hex_of(const uint8_t d[32], char out[65])
{
    hr_hex(d, 32, out);
}

static void known_vectors(void)
{
    static const struct { const char *msg; const char *sha; } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    uint8_t d[32];
    char hex[65];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        hr_sha256(v[i].msg, strlen(v[i].msg), d);
        hex_of(d, hex);
        check(!strcmp(hex, v[i].sha), v[i].msg, hex, v[i].sha);
    }
    /* One million 'a', fed in odd pieces to exercise the buffering. */
    struct hr_sha256 s;
    char a[997];
    memset(a, 'a', sizeof a);
    hr_sha256_init(&s);
    for (size_t left = 1000000; left;) {
        size_t n = left < sizeof a ? left : (left % 61) + 1;
        hr_sha256_update(&s, a, n);
        left -= n;
    }
    hr_sha256_final(&s, d);
    hex_of(d, hex);
    check(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
          "million a", hex, "cdc76e5c...");
    /* RFC 4231 test cases 1, 2, 6 (key longer than the block). */
    uint8_t k1[20], k6[131];
    memset(k1, 0x0b, sizeof k1);
    memset(k6, 0xaa, sizeof k6);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hr_hmac_sha256(k1, sizeof k1, "Hi There", 8, d);
    hex_of(d, hex);
    check(!strcmp(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
          "RFC 4231 case 1", hex, "b0344c61...");
    hr_hmac_sha256((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, d);
    hex_of(d, hex);
    check(!strcmp(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
          "RFC 4231 case 2", hex, "5bdcc146...");
    hr_hmac_sha256(k6, sizeof k6, m6, strlen(m6), d);
    hex_of(d, hex);
    check(!strcmp(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
          "RFC 4231 case 6", hex, "60e43159...");
    /* Helpers. */
    check(hr_memeq_ct("abcd", "abcd", 4) && !hr_memeq_ct("abcd", "abce", 4) &&
              hr_memeq_ct("x", "y", 0),
          "hr_memeq_ct", "", "");
    uint8_t b[3] = {0x00, 0xab, 0xff};
    hr_hex(b, 3, hex);
    check(!strcmp(hex, "00abff"), "hr_hex", hex, "00abff");
}

#define NFILES 302 /* lengths 0..300, and 1 MiB */

static size_t length_of(int i)
{
    return i <= 300 ? (size_t)i : (size_t)1 << 20;
}

/* Run openssl over every file; out[i] gets the digest of file i. */
static int run_openssl(const char *openssl, const char *dir, const char *macopt,
                       char (*out)[65])
{
    static char cmd[NFILES * 64 + 512];
    int n = snprintf(cmd, sizeof cmd, "%s dgst -sha256 %s", openssl, macopt);
    for (int i = 0; i < NFILES; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s/in%d", dir, i);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[512];
    int i = 0;
    while (i < NFILES && fgets(line, sizeof line, p)) {
        const char *eq = strstr(line, "= ");
        if (!eq || strlen(eq + 2) < 64)
            break;
        memcpy(out[i], eq + 2, 64);
        out[i++][64] = '\0';
    }
    return pclose(p) == 0 && i == NFILES ? 0 : -1;
}

static void against_openssl(const char *openssl, const char *dir)
{
    static uint8_t data[1 << 20];
    static char want[NFILES][65];
    char path[512], hex[65];
    uint8_t d[32];
    srand(12345);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)rand();
    for (int i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "%s/in%d", dir, i);
        FILE *f = fopen(path, "wb");
        /* Each length starts somewhere else in the random bytes. */
        if (!f || fwrite(data + (i <= 300 ? i * 97 : 0), 1, length_of(i), f) != length_of(i)) {
            fprintf(stderr, "cannot write %s\n", path);
            exit(2);
        }
        fclose(f);
    }
    if (run_openssl(openssl, dir, "", want) != 0) {
        fprintf(stderr, "FAIL: running %s dgst\n", openssl);
        failures++;
        return;
    }
    for (int i = 0; i < NFILES; i++) {
        const uint8_t *in = data + (i <= 300 ? i * 97 : 0);
        hr_sha256(in, length_of(i), d);
        hex_of(d, hex);
        snprintf(path, sizeof path, "sha256 of %zu bytes", length_of(i));
        check(!strcmp(hex, want[i]), path, hex, want[i]);
        /* The same through updates split at a random point. */
        struct hr_sha256 s;
        size_t cut = length_of(i) ? (size_t)rand() % length_of(i) : 0;
        hr_sha256_init(&s);
        hr_sha256_update(&s, in, cut);
        hr_sha256_update(&s, in + cut, length_of(i) - cut);
        hr_sha256_final(&s, d);
        hex_of(d, hex);
        check(!strcmp(hex, want[i]), "split update", hex, want[i]);
    }
    static const size_t keylens[] = {1, 16, 32, 63, 64, 65, 100, 200};
    for (size_t k = 0; k < sizeof keylens / sizeof keylens[0]; k++) {
        const uint8_t *key = data + 5000 + k * 300;
        char keyhex[2 * 200 + 1], macopt[600];
        hr_hex(key, keylens[k], keyhex);
        snprintf(macopt, sizeof macopt, "-mac HMAC -macopt hexkey:%s", keyhex);
        if (run_openssl(openssl, dir, macopt, want) != 0) {
            fprintf(stderr, "FAIL: running %s dgst %s\n", openssl, macopt);
            failures++;
            continue;
        }
        for (int i = 0; i < NFILES; i++) {
            hr_hmac_sha256(key, keylens[k], data + (i <= 300 ? i * 97 : 0), length_of(i), d);
            hex_of(d, hex);
            snprintf(path, sizeof path, "hmac, %zu-byte key, %zu bytes", keylens[k],
                     length_of(i));
            check(!strcmp(hex, want[i]), path, hex, want[i]);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sha256_test OPENSSL SCRATCH_DIR\n");
        return 2;
    }
    known_vectors();
    against_openssl(argv[1], argv[2]);
    printf("sha256_test: %d checks, %d failures\n", checks, failures);
    return failures != 0;
}
