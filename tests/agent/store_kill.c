/* A process that stores module images in a posix storage file, for the
 * SIGKILL test (store_kill.sh):
 *   store_kill store <tag> <size>   store image <tag> (streamed in 1000-byte writes)
 *   store_kill check <tag> <size>   the boot image is image <tag>, intact
 *   store_kill flash 0 0            the file refuses a write without erase
 * Partition "kill" in $HOTRELOAD_STORAGE_DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posix.h"
#include "storage.h"

static void *t_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void t_free(void *ctx, void *p) { (void)ctx; free(p); }
static const struct hr_port port = {NULL, t_alloc, t_free, NULL, NULL, NULL, 0};

static uint8_t *image(unsigned tag, uint32_t n)
{
    uint8_t *p = malloc(n);
    uint32_t x = 2463534242u * (tag + 1);
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    return p;
}

static int store(struct hr_store *st, const uint8_t *bytes, uint32_t n)
{
    struct hr_store_writer w;
    if (hr_store_begin(st, n, &w) != 0)
        return -1;
    for (uint32_t done = 0; done < n; done += 1000)
        if (hr_store_write(&w, bytes + done, n - done < 1000 ? n - done : 1000) != 0)
            return -1;
    return hr_store_finish(&w, NULL) == 0 && hr_store_commit(&w, NULL, 0) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: store_kill store|check <tag> <size>\n");
        return 2;
    }
    unsigned tag = (unsigned)atoi(argv[2]);
    uint32_t size = (uint32_t)atoi(argv[3]);
    uint8_t *want = image(tag, size);
    struct hr_storage dev;
    struct hr_store st;
    if (hr_posix_storage_open("kill", 0, &dev) != 0 || hr_store_open(&st, &dev) != 0) {
        fprintf(stderr, "store_kill: cannot open the storage\n");
        return 1;
    }
    int rc = 0;
    if (!strcmp(argv[1], "flash")) {
        /* Erased -> 0x0f is fine, 0x0f -> 0xf0 needs an erase first. */
        uint32_t at = dev.size - dev.erase_size;
        uint8_t lo = 0x0f, hi = 0xf0, back = 0;
        rc = dev.erase(dev.ctx, at, dev.erase_size) != 0 || dev.write(dev.ctx, at, &lo, 1) != 0 ||
             dev.write(dev.ctx, at, &hi, 1) == 0 || dev.read(dev.ctx, at, &back, 1) != 0 ||
             back != lo || dev.erase(dev.ctx, at, dev.erase_size) != 0 ||
             dev.write(dev.ctx, at, &hi, 1) != 0 || dev.erase(dev.ctx, at, 100) == 0;
        printf("store_kill: flash rules %s\n", rc ? "NOT enforced" : "enforced");
    } else if (!strcmp(argv[1], "store")) {
        rc = store(&st, want, size) != 0;
        printf("store_kill: stored image %u: %s\n", tag, rc ? "FAILED" : "ok");
    } else {
        const struct hr_image *img = hr_store_boot_image(&st);
        const void *bytes;
        void *buf;
        if (!img || img->length != size || hr_store_get(&st, img, &port, &bytes, &buf) != 0) {
            printf("store_kill: no loadable boot image of %u bytes\n", size);
            rc = 1;
        } else {
            rc = memcmp(bytes, want, size) != 0;
            printf("store_kill: boot image seq %u slot %u %s image %u\n", img->seq,
                   img->slot, rc ? "is NOT" : "is", tag);
            hr_store_put(&st, img, bytes, buf, &port);
        }
    }
    hr_posix_storage_close(&dev);
    free(want);
    return rc;
}
