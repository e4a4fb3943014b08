/* virtio-net over virtio-mmio, polled: the board's Ethernet driver
 * (../board/net/eth.h; QEMU needs -global virtio-mmio.force-legacy=false
 * for the virtio 1.x registers it speaks). Two split
 * virtqueues of Q entries: receive (every buffer always offered to the
 * device, given back as soon as its frame is copied out) and transmit
 * (a buffer is reused once the device reports it sent). The virtio-mmio
 * handshake and queues are ../virtio.c's. */
#include <stdint.h>
#include <string.h>

#include "eth.h"
#include "virtio.h"

#define F_MAC (1u << 5) /* word 0 */

#define Q VIRTQ_SIZE
#define HDR 12 /* struct virtio_net_hdr with num_buffers (virtio 1.x) */
#define BUF (HDR + HR_ETH_FRAME_MAX + 10)

static struct virtq rxq, txq;
static uint8_t rxbuf[Q][BUF] __attribute__((aligned(4)));
static uint8_t txbuf[Q][BUF] __attribute__((aligned(4)));
static uint8_t tx_busy[Q];
static uintptr_t base;

static uint32_t rd(uint32_t reg)
{
    return virtio_rd(base, reg);
}

static void wr(uint32_t reg, uint32_t v)
{
    virtio_wr(base, reg, v);
}

static void fence(void)
{
    virtio_fence();
}

int hr_eth_init(uint8_t mac[6], char *why, size_t whysize)
{
    uint32_t f0 = F_MAC;
    base = virtio_start(VIRTIO_ID_NET, "virtio-net", "virtio-net-device,netdev=...", &f0, why,
                        whysize);
    if (!base)
        return -1;
    memset(&rxq, 0, sizeof rxq);
    memset(&txq, 0, sizeof txq);
    memset(tx_busy, 0, sizeof tx_busy);
    for (uint16_t i = 0; i < Q; i++) {
        rxq.desc[i] = (struct virtq_desc){(uint32_t)(uintptr_t)rxbuf[i], BUF,
                                          VIRTQ_DESC_WRITE, 0};
        rxq.avail.ring[i] = i;
        txq.desc[i] = (struct virtq_desc){(uint32_t)(uintptr_t)txbuf[i], 0, 0, 0};
    }
    rxq.avail.idx = Q;
    if (virtio_queue(base, 0, &rxq) != 0 || virtio_queue(base, 1, &txq) != 0) {
        virtio_fail(base, why, whysize, "the virtio-net device's queues cannot take 8 entries");
        base = 0;
        return -1;
    }
    for (int i = 0; i < 6; i++)
        mac[i] = (f0 & F_MAC) ? *(volatile uint8_t *)(base + VIRTIO_CONFIG + i)
                              : (uint8_t)(i ? 0x10 * i : 0x02); /* locally administered */
    virtio_ready(base);
    wr(VIRTIO_QUEUE_NOTIFY, 0);
    return 0;
}

size_t hr_eth_receive(void *buf, size_t cap)
{
    if (!base)
        return 0;
    uint32_t irq = rd(VIRTIO_INTERRUPT_STATUS);
    if (irq)
        wr(VIRTIO_INTERRUPT_ACK, irq);
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
        wr(VIRTIO_QUEUE_NOTIFY, 0);
    }
    return n;
}

uint8_t *hr_eth_tx_buffer(void)
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

void hr_eth_send(size_t len)
{
    int i = 0;
    while (i < Q && tx_busy[i])
        i++;
    if (i == Q || len > HR_ETH_FRAME_MAX)
        return;
    tx_busy[i] = 1;
    txq.desc[i].len = (uint32_t)(HDR + len);
    txq.avail.ring[txq.avail.idx % Q] = (uint16_t)i;
    fence();
    txq.avail.idx++;
    fence();
    wr(VIRTIO_QUEUE_NOTIFY, 1);
}
