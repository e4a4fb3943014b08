/* mbedTLS 2.28 for the bare-metal boards: just what HR2 needs -- the PSA
 * Crypto API verifying ECDSA P-256 over SHA-256 -- and nothing that would
 * want a C library, an OS or an entropy driver. The random PSA asks for
 * comes from the board (mbedtls_glue.c); a verify uses none.
 * The build hands this file to mbedTLS as MBEDTLS_CONFIG_FILE. */
#ifndef HR_MBEDTLS_CONFIG_H
#define HR_MBEDTLS_CONFIG_H

#include <stddef.h>

/* The API and its one algorithm. */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG /* mbedtls_psa_external_get_random: the port's */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM          /* P-256's fast reduction */
#define MBEDTLS_ECP_NO_INTERNAL_RNG     /* verifying multiplies public points only */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_SHA256_C

/* Memory from the port's heap; no stdio, no time, no file system. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
void *hr_mbedtls_calloc(size_t n, size_t size);
void hr_mbedtls_free(void *p);
#define MBEDTLS_PLATFORM_CALLOC_MACRO hr_mbedtls_calloc
#define MBEDTLS_PLATFORM_FREE_MACRO hr_mbedtls_free
#define MBEDTLS_PSA_KEY_SLOT_COUNT 4 /* one key at a time: auth_ecdsa_psa.c */

#include "mbedtls/check_config.h"

#endif
