/* lwIP's configuration for the bare-metal boards: no OS (NO_SYS, the raw
 * API driven from the application's main loop), IPv4 and TCP only, static
 * memory sized for one HTTP request served at a time while up to 8 wait for
 * their head (agent/transport/board/http_lwip.c). */
#ifndef HR_BOARD_LWIPOPTS_H
#define HR_BOARD_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* single-threaded, no lwIP work in interrupts */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_UDP 0
#define LWIP_DHCP 0
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_RAW 0
#define LWIP_TCP 1
#define LWIP_ARP 1
#define LWIP_ICMP 1
#define LWIP_SINGLE_NETIF 1
#define LWIP_STATS 0
#define LWIP_TCP_KEEPALIVE 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0

#define MEM_ALIGNMENT 4
#define MEM_SIZE (20 * 1024)
#define MEMP_NUM_PBUF 16
#define PBUF_POOL_SIZE 16
/* The server's 8 slots, and connections closing or in TIME_WAIT beside. */
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_PCB_LISTEN 1
#define TCP_MSS 1460
/* The receive window is what a request body may have in flight while the
 * agent writes the previous kilobyte to flash. */
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (4 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG 32

#define LWIP_RAND() hr_lwip_rand()
#ifndef __ASSEMBLER__
#include <stdint.h>
uint32_t hr_lwip_rand(void);
#endif

#endif
