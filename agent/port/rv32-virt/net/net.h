/* The rv32-virt port's network: lwIP over virtio-net (netif.c) and the
 * agent's HTTP endpoints on it (server.c). */
#ifndef HR_RV32_NET_H
#define HR_RV32_NET_H

#include <stddef.h>
#include <stdint.h>

/* QEMU user networking's guest address, netmask and gateway. */
#define HR_RV32_NET_ADDR "10.0.2.15"
#define HR_RV32_NET_MASK "255.255.255.0"
#define HR_RV32_NET_GATEWAY "10.0.2.2"

/* Start the device and lwIP once; 0, or < 0 with `why` filled. */
int hr_rv32_net_start(char *why, size_t whysize);
/* Hand the received frames to lwIP (at most 16: a poll's work is bounded,
 * the rest wait for the next) and run its timers. Returns how many frames
 * came in. */
int hr_rv32_net_pump(void);

#endif
