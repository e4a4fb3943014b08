/* A board's Ethernet driver, as the shared lwIP interface (netif.c) uses
 * it: polled, frames copied in and out of the driver's own buffers;
 * nothing in a driver knows lwIP. rv32-virt: virtio_net.c; mps2-an385:
 * lan9118.c. */
#ifndef HR_BOARD_ETH_H
#define HR_BOARD_ETH_H

#include <stddef.h>
#include <stdint.h>

#define HR_ETH_FRAME_MAX 1514 /* Ethernet without the FCS */

/* Find the device and start it. 0 on success; otherwise < 0 and `why`
 * says what is missing. */
int hr_eth_init(uint8_t mac[6], char *why, size_t whysize);

/* The next received frame: its length, copied into buf (at most cap bytes),
 * or 0 when none is waiting. Acknowledges the device's interrupt. */
size_t hr_eth_receive(void *buf, size_t cap);

/* A transmit buffer for a frame of up to HR_ETH_FRAME_MAX bytes, or NULL
 * when the device has no room yet (try again after a receive or a moment).
 * hr_eth_send hands it over with the frame's length. */
uint8_t *hr_eth_tx_buffer(void);
void hr_eth_send(size_t len);

#endif
