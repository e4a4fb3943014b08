/* What the port's virtio-mmio drivers share (virtio-net in net/, virtio-rng
 * in rng.c): finding a device among QEMU virt's virtio-mmio slots, the
 * start-up handshake, split virtqueues. Modern devices only (virtio 1.x
 * registers: QEMU needs -global virtio-mmio.force-legacy=false). Queue
 * memory is the firmware's own, which paging maps at its physical address,
 * so the addresses given to a device are plain pointers. */
#ifndef HR_RV32_VIRTIO_H
#define HR_RV32_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "virt.h"

#define VIRTQ_SIZE 8
#define VIRTQ_DESC_WRITE 2u /* the device writes this buffer */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u

#define VIRTIO_ID_NET 1u
#define VIRTIO_ID_RNG 4u

#define VIRTIO_QUEUE_NOTIFY 0x050
#define VIRTIO_INTERRUPT_STATUS 0x060
#define VIRTIO_INTERRUPT_ACK 0x064
#define VIRTIO_CONFIG 0x100 /* the device-specific configuration */

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};
struct virtq {
    struct virtq_desc desc[VIRTQ_SIZE] __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx, ring[VIRTQ_SIZE], used_event;
    } avail __attribute__((aligned(2)));
    struct {
        uint16_t flags, idx;
        struct {
            uint32_t id, len;
        } ring[VIRTQ_SIZE];
        uint16_t avail_event;
    } used __attribute__((aligned(4)));
    uint16_t seen; /* used.idx as far as the driver has consumed it */
};

/* Ring updates must reach memory before the device is told, and its
 * writes must be seen before the buffers they describe are read. */
static inline void virtio_fence(void)
{
    __asm__ volatile("fence rw, rw" ::: "memory");
}

static inline uint32_t virtio_rd(uintptr_t base, uint32_t reg)
{
    return mmio_read32(base + reg);
}

static inline void virtio_wr(uintptr_t base, uint32_t reg, uint32_t v)
{
    mmio_write32(base + reg, v);
}

/* Find the device of type `id` (`name`, e.g. "virtio-rng", for messages)
 * and take it through reset, acknowledge and feature negotiation
 * (VIRTIO_F_VERSION_1, plus of the first feature word those of *features0
 * the device offers: *features0 is updated). Its base address, or 0 with
 * `why` naming what is missing and the QEMU option that adds it
 * (`qemu_device`, e.g. "virtio-rng-device"). */
uintptr_t virtio_start(uint32_t id, const char *name, const char *qemu_device,
                       uint32_t *features0, char *why, size_t whysize);
/* Hand queue `index` to the device; -1 if it cannot take VIRTQ_SIZE entries. */
int virtio_queue(uintptr_t base, uint32_t index, struct virtq *q);
/* The handshake's end: the driver is ready. */
void virtio_ready(uintptr_t base);
/* Give up on the device (status FAILED) with `msg` into `why`; -1. */
int virtio_fail(uintptr_t base, char *why, size_t whysize, const char *msg);

#endif
