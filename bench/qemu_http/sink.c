/* The plain-transfer baseline of qemu_http.py: the rv32 port's network
 * (virtio-net, lwIP with the port's options) and nothing above it but a TCP
 * sink on port 8080. A client sends a 4-byte little-endian length and that
 * many bytes; the sink answers "ok\n" once it has them all, then closes.
 * What an HTTP upload carries through the same path is compared with it. */
#include <stdint.h>

#include "lwip/tcp.h"
#include "net/net.h"
#include "hotreload_board.h"

/* One transfer at a time: the benchmark sends them one after another. */
static struct {
    uint8_t head[4];
    unsigned nhead;
    uint32_t want, got;
} xfer;

static void take(const uint8_t *b, uint16_t n)
{
    uint16_t i = 0;
    while (xfer.nhead < 4 && i < n)
        xfer.head[xfer.nhead++] = b[i++];
    if (xfer.nhead == 4 && !xfer.want)
        xfer.want = (uint32_t)xfer.head[0] | (uint32_t)xfer.head[1] << 8 |
                    (uint32_t)xfer.head[2] << 16 | (uint32_t)xfer.head[3] << 24;
    xfer.got += (uint32_t)(n - i);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (!p) {
        tcp_close(pcb);
        return ERR_OK;
    }
    for (struct pbuf *q = p; q; q = q->next)
        take(q->payload, q->len);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (xfer.nhead == 4 && xfer.got >= xfer.want) {
        tcp_write(pcb, "ok\n", 3, TCP_WRITE_FLAG_COPY);
        tcp_output(pcb);
        tcp_recv(pcb, NULL);
        tcp_close(pcb);
    }
    return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    xfer.nhead = 0;
    xfer.want = xfer.got = 0;
    tcp_recv(pcb, on_recv);
    return ERR_OK;
}

int main(void)
{
    char why[96];
    if (hr_board_net_start(why, sizeof why) != 0) {
        hr_board_printf("sink: no network: %s\n", why);
        return 1;
    }
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb || tcp_bind(pcb, IP_ANY_TYPE, 8080) != ERR_OK || !(pcb = tcp_listen(pcb))) {
        hr_board_puts("sink: cannot listen on port 8080\n");
        return 1;
    }
    tcp_accept(pcb, on_accept);
    hr_board_puts("sink up\n");
    for (;;) {
        hr_board_net_pump();
        hr_board_idle(10);
    }
}
