/* A polled driver for the board's SMSC LAN9118 Ethernet controller
 * (../board/net/eth.h): frames go through its FIFOs a 32-bit word at a
 * time, little-endian; a received frame's status word gives its length,
 * which counts the 4 bytes of FCS after it. The controller's interrupt
 * line only wakes the idle loop (system.c): it is raised while the receive
 * status FIFO holds a frame, and this driver clears it, and its NVIC
 * pending bit, once the FIFO is empty. */
#include <string.h>

#include "../../core/fmt.h"
#include "an385.h"
#include "eth.h"

#define RX_DATA 0x00u
#define TX_DATA 0x20u
#define RX_STATUS 0x40u
#define ID_REV 0x50u
#define IRQ_CFG 0x54u
#define INT_STS 0x58u
#define INT_EN 0x5cu
#define BYTE_TEST 0x64u
#define FIFO_INT 0x68u
#define TX_CFG 0x70u
#define HW_CFG 0x74u
#define RX_FIFO_INF 0x7cu
#define TX_FIFO_INF 0x80u
#define PMT_CTRL 0x84u
#define MAC_CSR_CMD 0xa4u
#define MAC_CSR_DATA 0xa8u

#define IRQ_EN (1u << 8)
#define IRQ_POL_HIGH (1u << 4)
#define IRQ_PUSH_PULL 1u
#define INT_RSFL (1u << 3) /* receive status FIFO above its level (0) */
#define TX_ON (1u << 1)
#define TX_SAO (1u << 2) /* transmit statuses may be dropped: none is read */
#define MAC_CR 1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_RXEN (1u << 2)
#define CSR_BUSY (1u << 31)
#define CSR_READ (1u << 30)
#define RX_ERROR (1u << 15)

static uint32_t tx_words[(HR_ETH_FRAME_MAX + 3) / 4];
static int ready;

static uint32_t reg(uint32_t off)
{
    return mmio_read32(AN385_ETH + off);
}

static void set(uint32_t off, uint32_t v)
{
    mmio_write32(AN385_ETH + off, v);
}

static int wait_clear(uint32_t off, uint32_t bit)
{
    for (int i = 0; i < 100000; i++)
        if (!(reg(off) & bit))
            return 0;
    return -1;
}

static uint32_t mac_read(uint32_t r)
{
    set(MAC_CSR_CMD, CSR_BUSY | CSR_READ | r);
    wait_clear(MAC_CSR_CMD, CSR_BUSY);
    return reg(MAC_CSR_DATA);
}

static void mac_write(uint32_t r, uint32_t v)
{
    set(MAC_CSR_DATA, v);
    set(MAC_CSR_CMD, CSR_BUSY | r);
    wait_clear(MAC_CSR_CMD, CSR_BUSY);
}

int hr_eth_init(uint8_t mac[6], char *why, size_t whysize)
{
    if (reg(BYTE_TEST) != 0x87654321u || (reg(ID_REV) >> 16) != 0x0118u) {
        hr_fmt(why, whysize, "no LAN9118 at %#x (byte test %#x)", (unsigned)AN385_ETH,
               (unsigned)reg(BYTE_TEST));
        return -1;
    }
    set(HW_CFG, 1); /* soft reset */
    if (wait_clear(HW_CFG, 1) != 0 || !(reg(PMT_CTRL) & 1)) {
        hr_fmt(why, whysize, "the LAN9118 did not come out of reset");
        return -1;
    }
    uint32_t lo = mac_read(MAC_ADDRL), hi = mac_read(MAC_ADDRH);
    for (int i = 0; i < 4; i++)
        mac[i] = (uint8_t)(lo >> (8 * i));
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);
    set(FIFO_INT, 0); /* the status level interrupt from the first frame on */
    set(INT_STS, 0xffffffffu);
    set(INT_EN, INT_RSFL);
    set(IRQ_CFG, IRQ_EN | IRQ_POL_HIGH | IRQ_PUSH_PULL);
    set(TX_CFG, TX_ON | TX_SAO);
    /* Frames for this address and broadcasts (ARP), not every frame. */
    mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN);
    ready = 1;
    return 0;
}

/* The line goes down once the status FIFO is empty; a frame arriving
 * after that raises it, and pends the NVIC input, again. */
static void ack_if_empty(void)
{
    if ((reg(RX_FIFO_INF) >> 16 & 0xffu) == 0) {
        set(INT_STS, INT_RSFL);
        mmio_write32(NVIC_ICPR0, 1u << AN385_IRQ_ETH);
    }
}

size_t hr_eth_receive(void *buf, size_t cap)
{
    if (!ready)
        return 0;
    for (;;) {
        if ((reg(RX_FIFO_INF) >> 16 & 0xffu) == 0) {
            ack_if_empty();
            return 0;
        }
        uint32_t status = reg(RX_STATUS), len = status >> 16 & 0x3fffu;
        uint32_t words = (len + 3) / 4;
        uint8_t *out = buf;
        size_t frame = len >= 4 ? len - 4 : 0; /* without the FCS */
        int keep = !(status & RX_ERROR) && frame >= 14 && frame <= cap;
        for (uint32_t i = 0; i < words; i++) {
            uint32_t w = reg(RX_DATA);
            for (uint32_t b = 0; b < 4 && keep && 4 * i + b < frame; b++)
                out[4 * i + b] = (uint8_t)(w >> (8 * b));
        }
        if (keep)
            return frame;
        /* A damaged or oversized frame: dropped, as the next one is looked at. */
    }
}

uint8_t *hr_eth_tx_buffer(void)
{
    /* Room for the two command words and the largest frame. */
    if (!ready || (reg(TX_FIFO_INF) & 0xffffu) < 2 + sizeof tx_words / 4)
        return NULL;
    return (uint8_t *)tx_words;
}

void hr_eth_send(size_t len)
{
    /* Command A: first and last segment, `len` bytes from offset 0;
     * command B: the frame's length (and a tag, unused). */
    set(TX_DATA, 1u << 13 | 1u << 12 | (uint32_t)len);
    set(TX_DATA, (uint32_t)len);
    for (size_t i = 0; i < (len + 3) / 4; i++)
        set(TX_DATA, tx_words[i]);
}
