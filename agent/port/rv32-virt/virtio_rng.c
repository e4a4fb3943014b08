/* virtio-rng (entropy device) over virtio-mmio, polled: the port's random
 * source, QEMU feeding it from the host's /dev/urandom. One request queue;
 * each request offers a buffer the device fills with random bytes. QEMU's
 * virt machine has nothing else to draw from (its RTC and counters are
 * guessable), so without the device the port has no random source at all
 * and says so. On a chip this is the hardware TRNG (port.h). */
#include <string.h>

#include "virt.h"
#include "virtio.h"

#define CHUNK 64
#define WAIT_TICKS (VIRT_MTIME_HZ / 2) /* QEMU answers in microseconds */

static struct virtq q;
static uint8_t buf[CHUNK] __attribute__((aligned(4)));
static uintptr_t base;
static char failed[160]; /* why the device could not be used, once known */

static int start(void)
{
    if (base)
        return 0;
    if (failed[0])
        return -1;
    uint32_t features0 = 0;
    base = virtio_start(VIRTIO_ID_RNG, "virtio-rng", "virtio-rng-device", &features0, failed,
                        sizeof failed);
    if (!base)
        return -1;
    memset(&q, 0, sizeof q);
    /* Polled: no interrupt, which would otherwise stay pending and keep the
     * idle loop (machine.c) from sleeping. */
    q.avail.flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    if (virtio_queue(base, 0, &q) != 0) {
        virtio_fail(base, failed, sizeof failed, "the virtio-rng device's queue cannot take 8 "
                                                 "entries");
        base = 0;
        return -1;
    }
    virtio_ready(base);
    return 0;
}

/* One request: up to CHUNK bytes into buf; how many the device wrote
 * (0 if it did not answer in time). */
static uint32_t request(uint32_t len)
{
    q.desc[0] = (struct virtq_desc){(uint32_t)(uintptr_t)buf, len, VIRTQ_DESC_WRITE, 0};
    q.avail.ring[q.avail.idx % VIRTQ_SIZE] = 0;
    virtio_fence();
    q.avail.idx++;
    virtio_fence();
    virtio_wr(base, VIRTIO_QUEUE_NOTIFY, 0);
    uint64_t end = virt_mtime() + WAIT_TICKS;
    while (*(volatile uint16_t *)&q.used.idx == q.seen)
        if (virt_mtime() >= end)
            return 0;
    virtio_fence();
    uint32_t got = q.used.ring[q.seen % VIRTQ_SIZE].len;
    q.seen++;
    return got < len ? got : len;
}

int hr_board_random(void *out, size_t len, const char **why)
{
    uint8_t *p = out;
    if (start() != 0) {
        *why = failed;
        return -1;
    }
    while (len) {
        uint32_t n = request(len < CHUNK ? (uint32_t)len : CHUNK);
        if (!n) {
            static const char slow[] = "the virtio-rng device gave no bytes within 0.5 s";
            memcpy(failed, slow, sizeof slow);
            base = 0; /* the request may still be the device's: not used again */
            *why = failed;
            return -1;
        }
        memcpy(p, buf, n);
        memset(buf, 0, n); /* the bytes are a secret's: not left behind */
        p += n;
        len -= n;
    }
    return 0;
}
