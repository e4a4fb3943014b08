/* Compressed uploads inflated with zlib (port.h's struct hr_inflater): raw
 * deflate streams with the small window hotd compresses with. The simulated
 * device links the system's zlib; the rv32 QEMU port builds zlib's inflater
 * from Debian's source package as it builds lwIP, with Z_SOLO (no C
 * library): its memory then comes from the port's allocator. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "hotreload/port.h"
#include "inflate_zlib.h"

#ifdef Z_SOLO
static const struct hr_port *mem(void)
{
    return hr_platform_get()->mem;
}

static void *zl_malloc(size_t size)
{
    return mem()->alloc(mem()->ctx, size);
}

static void zl_free_mem(void *p)
{
    mem()->free(mem()->ctx, p);
}

static voidpf zl_zalloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return size && items > SIZE_MAX / size ? NULL : zl_malloc((size_t)items * size);
}

static void zl_zfree(voidpf opaque, voidpf p)
{
    (void)opaque;
    zl_free_mem(p);
}
#else
#include <stdlib.h>
#define zl_malloc malloc
#define zl_free_mem free
#define zl_zalloc Z_NULL
#define zl_zfree Z_NULL
#endif

static void *zl_begin(void)
{
    z_stream *z = zl_malloc(sizeof *z);
    if (!z)
        return NULL;
    memset(z, 0, sizeof *z);
    z->zalloc = zl_zalloc;
    z->zfree = zl_zfree;
    if (inflateInit2(z, -HR_INFLATE_WINDOW_BITS) != Z_OK) {
        zl_free_mem(z);
        return NULL;
    }
    return z;
}

static int zl_run(void *state, const uint8_t *in, size_t *inlen, uint8_t *out, size_t *outlen,
                  char *why, size_t whysize)
{
    z_stream *z = state;
    /* uInt is 32 bits: the runtime's pieces are far smaller. */
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)*inlen;
    z->next_out = out;
    z->avail_out = (uInt)*outlen;
    int rc = inflate(z, Z_NO_FLUSH);
    *inlen -= z->avail_in;
    *outlen -= z->avail_out;
    if (rc == Z_STREAM_END)
        return 1;
    if (rc == Z_OK || rc == Z_BUF_ERROR) /* BUF_ERROR: no progress possible yet */
        return 0;
    const char *msg = z->msg ? z->msg : "corrupt data";
    size_t n = strlen(msg) < whysize ? strlen(msg) : whysize - 1;
    memcpy(why, msg, n); /* no snprintf without a C library */
    why[n] = '\0';
    return -1;
}

static void zl_end(void *state)
{
    inflateEnd(state);
    zl_free_mem(state);
}

const struct hr_inflater hr_zlib_inflater = {zl_begin, zl_run, zl_end};
