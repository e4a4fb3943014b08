/* Compressed uploads on the simulated device: zlib's inflate, on raw
 * deflate streams with the small window hotd compresses with (port.h). */
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "posix.h"

static void *zl_begin(void)
{
    z_stream *z = calloc(1, sizeof *z);
    if (z && inflateInit2(z, -HR_INFLATE_WINDOW_BITS) != Z_OK) {
        free(z);
        z = NULL;
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
    snprintf(why, whysize, "%s", z->msg ? z->msg : "corrupt data");
    return -1;
}

static void zl_end(void *state)
{
    inflateEnd(state);
    free(state);
}

const struct hr_inflater hr_posix_inflater = {zl_begin, zl_run, zl_end};
