/* hotd's HR2 private key (docs/http.md): made, read and used with
 * libmbedcrypto, kept in PEM so that `openssl` reads it too. The file is
 * created 0600 with O_EXCL: no moment exists in which another user could
 * open it, and an existing key is never overwritten. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>

#include "../agent/runtime/auth.h"
#include "client.h"

/* The kernel's random source, for key generation and ECDSA's blinding. */
static int os_random(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    while (len) {
        ssize_t n = getrandom(out, len, 0);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0) {
            out += n;
            len -= (size_t)n;
        }
    }
    return 0;
}

static void say_mbedtls(char *msg, size_t msgsize, const char *what, int rc)
{
    snprintf(msg, msgsize, "%s failed (mbedTLS error -0x%04x)", what, (unsigned)-rc);
}

/* PEM of a fresh P-256 key into buf; 0, or -1 with msg. */
static int new_pem(unsigned char *buf, size_t size, char *msg, size_t msgsize)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int rc = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (!rc)
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), os_random, NULL);
    if (!rc)
        rc = mbedtls_pk_write_key_pem(&pk, buf, size);
    mbedtls_pk_free(&pk);
    if (rc)
        say_mbedtls(msg, msgsize, "making a P-256 key", rc);
    return rc ? -1 : 0;
}

int hotd_sign_key_new(const char *path, char *msg, size_t msgsize)
{
    unsigned char pem[1024];
    if (new_pem(pem, sizeof pem, msg, msgsize) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(msg, msgsize, "%s: %s%s", path, strerror(errno), errno == EEXIST ?
                 " (a key is never overwritten: remove it first if you mean to replace it, "
                 "and rebuild every firmware that holds its public key)" : "");
        memset(pem, 0, sizeof pem);
        return -1;
    }
    size_t len = strlen((char *)pem);
    int bad = write(fd, pem, len) != (ssize_t)len;
    bad |= close(fd) != 0;
    memset(pem, 0, sizeof pem);
    if (bad) {
        snprintf(msg, msgsize, "%s: cannot write the key: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

int hotd_sign_key_load(const char *path, struct hotd_key *key, char *msg, size_t msgsize)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int rc = mbedtls_pk_parse_keyfile(&pk, path, NULL);
    const mbedtls_ecp_keypair *ec = rc ? NULL : mbedtls_pk_ec(pk);
    size_t olen = 0;
    if (rc || mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY ||
        ec->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        snprintf(msg, msgsize, "%s: not a P-256 private key in PEM (make one with 'hotd key "
                 "new FILE'; mbedTLS error -0x%04x)", path, (unsigned)-rc);
        mbedtls_pk_free(&pk);
        return -1;
    }
    rc = mbedtls_mpi_write_binary(&ec->d, key->priv, sizeof key->priv);
    if (!rc)
        rc = mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                            &olen, key->pub, sizeof key->pub);
    mbedtls_pk_free(&pk);
    if (rc || olen != sizeof key->pub) {
        say_mbedtls(msg, msgsize, "reading the key's numbers", rc);
        return -1;
    }
    key->ecdsa = true;
    key->len = 0;
    return 0;
}

/* r || s of ECDSA P-256 (RFC 6979 nonces, blinded) over a SHA-256 digest. */
static int sign_digest(const struct hotd_key *key, const uint8_t digest[32], uint8_t sig[64])
{
    mbedtls_ecp_group grp;
    mbedtls_mpi d, r, s;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d), mbedtls_mpi_init(&r), mbedtls_mpi_init(&s);
    int rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (!rc)
        rc = mbedtls_mpi_read_binary(&d, key->priv, sizeof key->priv);
    if (!rc)
        rc = mbedtls_ecdsa_sign_det_ext(&grp, &r, &s, &d, digest, 32, MBEDTLS_MD_SHA256,
                                        os_random, NULL);
    if (!rc)
        rc = mbedtls_mpi_write_binary(&r, sig, 32);
    if (!rc)
        rc = mbedtls_mpi_write_binary(&s, sig + 32, 32);
    mbedtls_mpi_free(&d), mbedtls_mpi_free(&r), mbedtls_mpi_free(&s);
    mbedtls_ecp_group_free(&grp);
    return rc ? -1 : 0;
}

int hotd_sign(const struct hotd_key *key, const char *method, const char *target,
              const char *nonce, uint64_t counter, const uint8_t body_sha[32], char *out)
{
    if (!key->ecdsa)
        return hr_auth_sign(key->bytes, key->len, method, target, nonce, counter, body_sha, out);
    char num[24], hex[129];
    uint8_t digest[32], sig[64];
    snprintf(num, sizeof num, "%llu", (unsigned long long)counter);
    if (hr_auth_digest(HR_AUTH_SCHEME_SIG, method, target, nonce, num, body_sha, digest) != 0 ||
        sign_digest(key, digest, sig) != 0)
        return -1;
    for (size_t i = 0; i < sizeof sig; i++)
        snprintf(hex + 2 * i, 3, "%02x", sig[i]);
    snprintf(out, HR_AUTH_VALUE_MAX, HR_AUTH_SCHEME_SIG " counter=%s, sig=%s", num, hex);
    return 0;
}
