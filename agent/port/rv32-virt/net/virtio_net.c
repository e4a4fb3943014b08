/* virtio-net over virtio-mmio, polled (see virtio_net.h). Two split
 * virtqueues of Q entries: receive (every buffer always offered to the
 * device, given back as soon as its frame is copied out) and transmit
 * (a buffer is reused once the device reports it sent). The buffers are
 * the firmware's own memory, which paging maps at its physical address,
 * so the addresses the device is given are plain pointers. */
#include <stdint.h>
#include <string.h>

#include "../../../core/fmt.h"
#include "../virt.h"
#include "virtio_net.h"

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
#define R_QUEUE_NOTIFY 0x050
#define R_INTERRUPT_STATUS 0x060
#define R_INTERRUPT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC 0x080
#define R_QUEUE_DRIVER 0x090
#define R_QUEUE_DEVICE 0x0a0
#define R_CONFIG 0x100 /* virtio-net: the MAC address first */

#define ST_ACKNOWLEDGE 1u
#define ST_DRIVER 2u
#define ST_DRIVER_OK 4u
#define ST_FEATURES_OK 8u
#define F_MAC (1u << 5)        /* word 0 */
#define F_VERSION_1 (1u << 0)  /* word 1: bit 32 */
#define DESC_WRITE 2u
#define NET_ID 1u

#define Q 8
#define HDR 12 /* struct virtio_net_hdr with num_buffers (virtio 1.x) */
#define BUF (HDR + VNET_FRAME_MAX + 10)

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};
struct queue {
    struct desc desc[Q] __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx, ring[Q], used_event;
    } avail __attribute__((aligned(2)));
    struct {
        uint16_t flags, idx;
        struct {
            uint32_t id, len;
        } ring[Q];
        uint16_t avail_event;
    } used __attribute__((aligned(4)));
    uint16_t seen; /* used.idx as far as the driver has consumed it */
};

static struct queue rxq, txq;
static uint8_t rxbuf[Q][BUF] __attribute__((aligned(4)));
static uint8_t txbuf[Q][BUF] __attribute__((aligned(4)));
static uint8_t tx_busy[Q];
static uintptr_t base;

static uint32_t rd(uint32_t reg)
{
    return mmio_read32(base + reg);
}

static void wr(uint32_t reg, uint32_t v)
{
    mmio_write32(base + reg, v);
}

/* Ring updates must reach memory before the device is told, and its
 * writes must be seen before the buffers they describe are read. */
static inline void fence(void)
{
    __asm__ volatile("fence rw, rw" ::: "memory");
}

static int setup_queue(uint32_t index, struct queue *q)
{
    wr(R_QUEUE_SEL, index);
    if (rd(R_QUEUE_READY) != 0 || rd(R_QUEUE_NUM_MAX) < Q)
        return -1;
    wr(R_QUEUE_NUM, Q);
    wr(R_QUEUE_DESC, (uint32_t)(uintptr_t)q->desc);
    wr(R_QUEUE_DESC + 4, 0);
    wr(R_QUEUE_DRIVER, (uint32_t)(uintptr_t)&q->avail);
    wr(R_QUEUE_DRIVER + 4, 0);
    wr(R_QUEUE_DEVICE, (uint32_t)(uintptr_t)&q->used);
    wr(R_QUEUE_DEVICE + 4, 0);
    wr(R_QUEUE_READY, 1);
    return 0;
}

static int fail(char *why, size_t size, const char *msg)
{
    hr_fmt(why, size, "%s", msg);
    if (base)
        wr(R_STATUS, 128); /* FAILED */
    return -1;
}

int vnet_init(uint8_t mac[6], char *why, size_t whysize)
{
    base = 0;
    int legacy = 0;
    for (uint32_t i = 0; i < SLOTS && !base; i++) {
        uintptr_t b = SLOT_BASE + i * SLOT_SIZE;
        if (mmio_read32(b + R_MAGIC) != 0x74726976u || mmio_read32(b + R_DEVICE_ID) != NET_ID)
            continue;
        if (mmio_read32(b + R_VERSION) != 2)
            legacy = 1;
        else
            base = b;
    }
    if (!base)
        return fail(why, whysize, legacy ? "the virtio-net device is a legacy one: start QEMU "
                                           "with -global virtio-mmio.force-legacy=false"
                                         : "no virtio-net device (QEMU: -device "
                                           "virtio-net-device,netdev=...)");
    wr(R_STATUS, 0);
    wr(R_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
    wr(R_DEVICE_FEATURES_SEL, 0);
    uint32_t f0 = rd(R_DEVICE_FEATURES);
    wr(R_DEVICE_FEATURES_SEL, 1);
    uint32_t f1 = rd(R_DEVICE_FEATURES);
    if (!(f1 & F_VERSION_1))
        return fail(why, whysize, "the virtio-net device does not offer VIRTIO_F_VERSION_1");
    wr(R_DRIVER_FEATURES_SEL, 0);
    wr(R_DRIVER_FEATURES, f0 & F_MAC);
    wr(R_DRIVER_FEATURES_SEL, 1);
    wr(R_DRIVER_FEATURES, F_VERSION_1);
    wr(R_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
    if (!(rd(R_STATUS) & ST_FEATURES_OK))
        return fail(why, whysize, "the virtio-net device refused the features asked for");

    memset(&rxq, 0, sizeof rxq);
    memset(&txq, 0, sizeof txq);
    memset(tx_busy, 0, sizeof tx_busy);
    for (uint16_t i = 0; i < Q; i++) {
        rxq.desc[i] = (struct desc){(uint32_t)(uintptr_t)rxbuf[i], BUF, DESC_WRITE, 0};
        rxq.avail.ring[i] = i;
        txq.desc[i] = (struct desc){(uint32_t)(uintptr_t)txbuf[i], 0, 0, 0};
    }
    rxq.avail.idx = Q;
    if (setup_queue(0, &rxq) != 0 || setup_queue(1, &txq) != 0)
        return fail(why, whysize, "the virtio-net device's queues cannot take 8 entries");
    for (int i = 0; i < 6; i++)
        mac[i] = (f0 & F_MAC) ? *(volatile uint8_t *)(base + R_CONFIG + i)
                              : (uint8_t)(i ? 0x10 * i : 0x02); /* locally administered */
    fence();
    wr(R_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
    wr(R_QUEUE_NOTIFY, 0);
    return 0;
}

size_t vnet_receive(void *buf, size_t cap)
{
    if (!base)
        return 0;
    uint32_t irq = rd(R_INTERRUPT_STATUS);
    if (irq)
        wr(R_INTERRUPT_ACK, irq);
    size_t n = 0;
    while (!n) {
        fence();
        if (*(volatile uint16_t *)&rxq.used.idx == rxq.seen)
            return 0;
        fence();
        uint32_t id = rxq.used.ring[rxq.seen % Q].id % Q;
        uint32_t len = rxq.used.ring[rxq.seen % Q].len;
        rxq.seen++;
        n = len > HDR ? len - HDR : 0; /* a runt is dropped */
        if (n > cap)
            n = cap;
        memcpy(buf, rxbuf[id] + HDR, n);
        /* Give the buffer straight back. */
        rxq.avail.ring[rxq.avail.idx % Q] = (uint16_t)id;
        fence();
        rxq.avail.idx++;
        fence();
        wr(R_QUEUE_NOTIFY, 0);
    }
    return n;
}

uint8_t *vnet_tx_buffer(void)
{
    if (!base)
        return NULL;
    fence();
    while (*(volatile uint16_t *)&txq.used.idx != txq.seen) {
        tx_busy[txq.used.ring[txq.seen % Q].id % Q] = 0;
        txq.seen++;
    }
    for (int i = 0; i < Q; i++)
        if (!tx_busy[i]) {
            memset(txbuf[i], 0, HDR); /* no offloads: the header is all zeros */
            return txbuf[i] + HDR;
        }
    return NULL;
}

void vnet_send(size_t len)
{
    int i = 0;
    while (i < Q && tx_busy[i])
        i++;
    if (i == Q || len > VNET_FRAME_MAX)
        return;
    tx_busy[i] = 1;
    txq.desc[i].len = (uint32_t)(HDR + len);
    txq.avail.ring[txq.avail.idx % Q] = (uint16_t)i;
    fence();
    txq.avail.idx++;
    fence();
    wr(R_QUEUE_NOTIFY, 1);
}
