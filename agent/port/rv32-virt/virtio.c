/* The virtio-mmio transport for the port's drivers (see virtio.h). */
#include "virtio.h"

#include "../../core/fmt.h"

#define SLOTS 8
#define SLOT_BASE 0x10001000u
#define SLOT_SIZE 0x1000u

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_STATUS 0x070
#define R_QUEUE_DESC 0x080
#define R_QUEUE_DRIVER 0x090
#define R_QUEUE_DEVICE 0x0a0

#define ST_ACKNOWLEDGE 1u
#define ST_DRIVER 2u
#define ST_DRIVER_OK 4u
#define ST_FEATURES_OK 8u
#define ST_FAILED 128u
#define F_VERSION_1 (1u << 0) /* feature word 1: bit 32 */

int virtio_fail(uintptr_t base, char *why, size_t whysize, const char *msg)
{
    hr_fmt(why, whysize, "%s", msg);
    if (base)
        virtio_wr(base, R_STATUS, ST_FAILED);
    return -1;
}

/* The slot holding a modern device of type `id`; 0 if none (`legacy` set
 * when there is only a legacy one). */
static uintptr_t find(uint32_t id, int *legacy)
{
    for (uint32_t i = 0; i < SLOTS; i++) {
        uintptr_t b = SLOT_BASE + i * SLOT_SIZE;
        if (mmio_read32(b + R_MAGIC) != 0x74726976u || mmio_read32(b + R_DEVICE_ID) != id)
            continue;
        if (mmio_read32(b + R_VERSION) == 2)
            return b;
        *legacy = 1;
    }
    return 0;
}

uintptr_t virtio_start(uint32_t id, const char *name, const char *qemu_device,
                       uint32_t *features0, char *why, size_t whysize)
{
    int legacy = 0;
    uintptr_t base = find(id, &legacy);
    if (!base) {
        if (legacy)
            hr_fmt(why, whysize, "the %s device is a legacy one: start QEMU with -global "
                   "virtio-mmio.force-legacy=false", name);
        else
            hr_fmt(why, whysize, "no %s device (QEMU: -device %s)", name, qemu_device);
        return 0;
    }
    virtio_wr(base, R_STATUS, 0);
    virtio_wr(base, R_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
    virtio_wr(base, R_DEVICE_FEATURES_SEL, 0);
    uint32_t f0 = virtio_rd(base, R_DEVICE_FEATURES);
    virtio_wr(base, R_DEVICE_FEATURES_SEL, 1);
    uint32_t f1 = virtio_rd(base, R_DEVICE_FEATURES);
    char msg[96];
    if (!(f1 & F_VERSION_1)) {
        hr_fmt(msg, sizeof msg, "the %s device does not offer VIRTIO_F_VERSION_1", name);
        virtio_fail(base, why, whysize, msg);
        return 0;
    }
    *features0 &= f0;
    virtio_wr(base, R_DRIVER_FEATURES_SEL, 0);
    virtio_wr(base, R_DRIVER_FEATURES, *features0);
    virtio_wr(base, R_DRIVER_FEATURES_SEL, 1);
    virtio_wr(base, R_DRIVER_FEATURES, F_VERSION_1);
    virtio_wr(base, R_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
    if (!(virtio_rd(base, R_STATUS) & ST_FEATURES_OK)) {
        hr_fmt(msg, sizeof msg, "the %s device refused the features asked for", name);
        virtio_fail(base, why, whysize, msg);
        return 0;
    }
    return base;
}

int virtio_queue(uintptr_t base, uint32_t index, struct virtq *q)
{
    virtio_wr(base, R_QUEUE_SEL, index);
    if (virtio_rd(base, R_QUEUE_READY) != 0 || virtio_rd(base, R_QUEUE_NUM_MAX) < VIRTQ_SIZE)
        return -1;
    virtio_wr(base, R_QUEUE_NUM, VIRTQ_SIZE);
    virtio_wr(base, R_QUEUE_DESC, (uint32_t)(uintptr_t)q->desc);
    virtio_wr(base, R_QUEUE_DESC + 4, 0);
    virtio_wr(base, R_QUEUE_DRIVER, (uint32_t)(uintptr_t)&q->avail);
    virtio_wr(base, R_QUEUE_DRIVER + 4, 0);
    virtio_wr(base, R_QUEUE_DEVICE, (uint32_t)(uintptr_t)&q->used);
    virtio_wr(base, R_QUEUE_DEVICE + 4, 0);
    virtio_wr(base, R_QUEUE_READY, 1);
    return 0;
}

void virtio_ready(uintptr_t base)
{
    virtio_fence();
    virtio_wr(base, R_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
}
