/* The one way hotd reads a file whole: images, modules, keys, interface
 * records, generated files compared before they are rewritten. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotd.h"

/* What hotd reads whole is a module, an image, a key or a record: a file
 * larger than this was named by mistake (a disk image, a device). */
#define MAX_FILE (64u << 20)

/* Read f to its end into *buf (grown as needed, one byte kept for the NUL).
 * 0, or an errno value. */
static int read_all(FILE *f, char **buf, size_t *len)
{
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > MAX_FILE)
                return EFBIG;
            /* At most one byte past the limit: enough to tell a file too large. */
            size_t want = cap ? cap * 2 : 65536;
            want = want > MAX_FILE + 2 ? MAX_FILE + 2 : want;
            char *grown = realloc(*buf, want);
            if (!grown)
                return ENOMEM;
            *buf = grown, cap = want;
        }
        errno = 0;
        size_t got = fread(*buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            (*buf)[n] = '\0';
            *len = n;
            return ferror(f) ? (errno ? errno : EIO) : 0;
        }
    }
}

int hotd_read_file(const char *path, char **data, size_t *len, char *msg, size_t msgsize)
{
    FILE *f = fopen(path, "rb");
    *data = NULL;
    *len = 0;
    int err = f ? read_all(f, data, len) : errno;
    if (f)
        fclose(f);
    if (!err)
        return 0;
    free(*data);
    *data = NULL;
    *len = 0;
    if (msg)
        snprintf(msg, msgsize, "%s: %s", path,
                 err == EFBIG ? "larger than 64 MiB" : strerror(err));
    errno = err; /* callers tell a missing file from an unreadable one */
    return -1;
}
