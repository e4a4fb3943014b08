/* A polled virtio-net driver for QEMU virt's virtio-mmio transport
 * (virtio 1.x, "modern" registers: QEMU needs
 * -global virtio-mmio.force-legacy=false). Frames are copied in and out
 * of the driver's own buffers; nothing here knows lwIP. */
#ifndef HR_RV32_VIRTIO_NET_H
#define HR_RV32_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#define VNET_FRAME_MAX 1514 /* Ethernet without the FCS */

/* Find the device among the virtio-mmio slots and start it. 0 on
 * success; otherwise < 0 and `why` says what is missing. */
int vnet_init(uint8_t mac[6], char *why, size_t whysize);

/* The next received frame: its length, copied into buf (at most cap bytes),
 * or 0 when none is waiting. Acknowledges the device's interrupt. */
size_t vnet_receive(void *buf, size_t cap);

/* A transmit buffer for a frame of up to VNET_FRAME_MAX bytes, or NULL
 * when every buffer is still with the device (try again after a receive
 * or a moment). vnet_send hands it over with the frame's length. */
uint8_t *vnet_tx_buffer(void);
void vnet_send(size_t len);

#endif
