/* lwIP on the board's Ethernet device (eth.h): one interface with QEMU
 * user networking's static address, fed from the application's main loop
 * (NO_SYS). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../../../core/fmt.h"
#include "board.h"
#include "eth.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define PUMP_FRAMES_MAX 16

static struct netif nif;
static int started;
static uint8_t frame[HR_ETH_FRAME_MAX];

u32_t sys_now(void)
{
    return (u32_t)hr_board_now_ms();
}

/* TCP's initial sequence numbers: a generator seeded once from the board's
 * random source (not asked per connection: on rv32-virt each ask is a
 * device round trip) and stirred with the clock. */
uint32_t hr_lwip_rand(void)
{
    static uint32_t x;
    const char *why;
    if (!x && hr_board_random(&x, sizeof x, &why) != 0)
        x = 0x9e3779b9u;
    x ^= (uint32_t)hr_board_now_ms();
    x |= !x; /* xorshift never leaves 0 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

int atoi(const char *s)
{
    int v = 0;
    while (*s >= '0' && *s <= '9' && v < 100000000)
        v = v * 10 + (*s++ - '0');
    return v;
}

void hr_lwip_diag(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    hr_vfmt(line, sizeof line, fmt, ap);
    va_end(ap);
    hr_board_puts(line);
}

void hr_lwip_assert(const char *what, const char *file, int line)
{
    hr_board_printf("lwIP assertion failed: %s (%s:%d)\n", what, file, line);
    hr_board_exit(3);
}

static err_t linkoutput(struct netif *n, struct pbuf *p)
{
    (void)n;
    uint8_t *buf = hr_eth_tx_buffer();
    /* Every buffer still with the device: give it a moment, not forever. */
    for (uint64_t end = hr_board_now_ms() + 10; !buf && hr_board_now_ms() < end;)
        buf = hr_eth_tx_buffer();
    if (!buf)
        return ERR_MEM;
    if (p->tot_len > HR_ETH_FRAME_MAX)
        return ERR_VAL;
    pbuf_copy_partial(p, buf, p->tot_len, 0);
    hr_eth_send(p->tot_len);
    return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
    n->name[0] = 'v';
    n->name[1] = 'n';
    n->mtu = 1500;
    n->hwaddr_len = 6;
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    n->output = etharp_output;
    n->linkoutput = linkoutput;
    return ERR_OK;
}

int hr_board_net_start(char *why, size_t whysize)
{
    if (started)
        return 0;
    uint8_t mac[6];
    if (hr_eth_init(mac, why, whysize) != 0)
        return -1;
    lwip_init();
    ip4_addr_t addr, mask, gw;
    ip4addr_aton(HR_BOARD_NET_ADDR, &addr);
    ip4addr_aton(HR_BOARD_NET_MASK, &mask);
    ip4addr_aton(HR_BOARD_NET_GATEWAY, &gw);
    if (!netif_add(&nif, &addr, &mask, &gw, NULL, nif_init, netif_input)) {
        hr_fmt(why, whysize, "lwIP refused the network interface");
        return -1;
    }
    memcpy(nif.hwaddr, mac, 6);
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
    started = 1;
    return 0;
}

int hr_board_net_pump(void)
{
    if (!started)
        return 0;
    int frames = 0;
    size_t len;
    /* Bounded: under a flood of frames the application's loop must still get
     * its turn. What is left waits in the device's queue (and, once that is
     * full, in QEMU's, slowing the senders down) for the next pump. */
    while (frames < PUMP_FRAMES_MAX && (len = hr_eth_receive(frame, sizeof frame)) > 0) {
        frames++;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
        if (!p)
            continue; /* out of buffers: dropped, as a busy NIC would */
        pbuf_take(p, frame, (u16_t)len);
        if (nif.input(p, &nif) != ERR_OK)
            pbuf_free(p);
    }
    sys_check_timeouts();
    return frames;
}
