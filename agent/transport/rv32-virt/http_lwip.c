/* The agent's HTTP endpoints (agent/runtime/http.c, docs/http.md) on lwIP's
 * raw TCP API, without threads: lwIP's callbacks only queue connections
 * and received data; hotreload_server_poll, called from the application's
 * main loop at its safe point, serves the waiting connections one at a
 * time through the transport-agnostic hr_http_serve. Its reads and writes
 * keep the network going (hr_rv32_net_pump) while they wait, so the main
 * loop stands still while a request is served -- bounded by the same
 * timeouts as on the simulated device. */
#include <string.h>

#include "../../core/fmt.h"
#include "hotreload/http.h"
#include "hotreload/transport.h"
#include "rv32_virt.h"
#include "virt.h"
#include "lwip/ip4_addr.h"
#include "lwip/tcp.h"
#include "net.h"

#define WAITING_MAX 4    /* accepted, not yet served; more are answered 503 */
#define IO_TIMEOUT_MS 5000u /* a peer silent this long is dropped */
/* A peer trickling bytes (slow-loris) must average 1000 bytes/s past the
 * first 5 s, as on the simulated device (agent/port/posix/server.c). */
#define READ_GRACE_MS 5000u
#define KEY_MAX 64

struct lconn {
    struct tcp_pcb *pcb; /* NULL once lwIP dropped it (err callback) */
    struct pbuf *rx;     /* received, not yet read */
    int used, peer_closed;
    uint32_t seq; /* accept order */
    uint64_t accepted_ms, received;
};

static struct {
    int running;
    struct tcp_pcb *listener;
    uint32_t seq;
    hotreload_server_config_t cfg;
    char partition[64];
    uint8_t key[KEY_MAX];
    struct lconn conns[WAITING_MAX];
} srv;

/* Run the network until `deadline_ms` or until something arrives. */
static void wait_until(uint64_t deadline_ms)
{
    if (hr_rv32_net_pump())
        return;
    uint64_t now = hr_rv32_now_ms();
    if (now >= deadline_ms)
        return;
    /* lwIP's TCP timers tick every 250 ms: never sleep past one. */
    uint64_t until = deadline_ms - now > 100 ? now + 100 : deadline_ms;
    hr_rv32_idle_until(virt_mtime() + (until - now) * (VIRT_MTIME_HZ / 1000));
    hr_rv32_net_pump();
}

static void consume(struct lconn *c, u16_t n)
{
    c->rx = pbuf_free_header(c->rx, n);
    if (c->pcb)
        tcp_recved(c->pcb, n);
}

static int conn_read(void *ctx, void *buf, size_t len)
{
    struct lconn *c = ctx;
    uint64_t silent_end = hr_rv32_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        if (c->rx) {
            u16_t n = (u16_t)(len < c->rx->tot_len ? len : c->rx->tot_len);
            pbuf_copy_partial(c->rx, buf, n, 0);
            consume(c, n);
            c->received += n;
            return n;
        }
        if (!c->pcb)
            return -1;
        if (c->peer_closed)
            return 0;
        uint64_t end = c->accepted_ms + READ_GRACE_MS + c->received;
        if (silent_end < end)
            end = silent_end;
        if (hr_rv32_now_ms() >= end)
            return -1; /* answered 408, as a read timeout */
        wait_until(end);
    }
}

static int conn_write(void *ctx, const void *buf, size_t len)
{
    struct lconn *c = ctx;
    const uint8_t *p = buf;
    uint64_t end = hr_rv32_now_ms() + IO_TIMEOUT_MS;
    while (len) {
        if (!c->pcb)
            return -1;
        u16_t room = tcp_sndbuf(c->pcb);
        u16_t n = (u16_t)(len < room ? len : room);
        err_t e = n && tcp_sndqueuelen(c->pcb) < TCP_SND_QUEUELEN - 1
                      ? tcp_write(c->pcb, p, n, TCP_WRITE_FLAG_COPY)
                      : ERR_MEM;
        if (e == ERR_OK) {
            p += n;
            len -= n;
            end = hr_rv32_now_ms() + IO_TIMEOUT_MS;
            continue;
        }
        if (e != ERR_MEM)
            return -1;
        tcp_output(c->pcb);
        if (hr_rv32_now_ms() >= end)
            return -1;
        wait_until(end);
    }
    if (!c->pcb)
        return -1;
    /* Not sent now (every transmit buffer busy) is not lost: the segments
     * stay queued and lwIP's timer sends them. */
    tcp_output(c->pcb);
    return 0;
}

static void release(struct lconn *c)
{
    if (c->pcb) {
        tcp_arg(c->pcb, NULL);
        tcp_recv(c->pcb, NULL);
        tcp_err(c->pcb, NULL);
        if (tcp_close(c->pcb) != ERR_OK)
            tcp_abort(c->pcb);
    }
    if (c->rx)
        pbuf_free(c->rx);
    memset(c, 0, sizeof *c);
}

/* lwIP resets a connection closed with unread input, which can destroy the
 * answer before the client reads it (a 413 sent before the body). So: send
 * our FIN after the answer, swallow what the client still sends for a
 * moment, then close. */
static void finish(struct lconn *c)
{
    if (c->pcb) {
        tcp_output(c->pcb);
        tcp_shutdown(c->pcb, 0, 1);
    }
    uint64_t end = hr_rv32_now_ms() + 1000;
    for (;;) {
        while (c->rx)
            consume(c, c->rx->tot_len);
        if (!c->pcb || c->peer_closed || hr_rv32_now_ms() >= end)
            break;
        wait_until(end);
    }
    release(c);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct lconn *c = arg;
    (void)pcb;
    (void)err;
    if (!p)
        c->peer_closed = 1;
    else if (c->rx)
        pbuf_cat(c->rx, p);
    else
        c->rx = p;
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    (void)err;
    ((struct lconn *)arg)->pcb = NULL; /* lwIP has freed it */
}

/* Without a free slot, answer at once from what fits in the send buffer. */
static int reject_write(void *ctx, const void *buf, size_t len)
{
    struct tcp_pcb *pcb = ctx;
    if (len > tcp_sndbuf(pcb) || tcp_write(pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY) != ERR_OK)
        return -1;
    return 0;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    struct lconn *c = NULL;
    for (int i = 0; i < WAITING_MAX && !c; i++)
        if (!srv.conns[i].used)
            c = &srv.conns[i];
    if (!c) {
        struct hr_http_conn hc = {pcb, NULL, reject_write};
        hr_http_reject(&hc, 503, "too many connections (4 waiting); try again");
        tcp_output(pcb);
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    *c = (struct lconn){.pcb = pcb, .used = 1, .seq = srv.seq++,
                        .accepted_ms = hr_rv32_now_ms()};
    tcp_arg(pcb, c);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
    tcp_nagle_disable(pcb);
    return ERR_OK;
}

static struct lconn *oldest(void)
{
    struct lconn *o = NULL;
    for (int i = 0; i < WAITING_MAX; i++) {
        struct lconn *c = &srv.conns[i];
        if (c->used && (!o || (int32_t)(c->seq - o->seq) < 0))
            o = c;
    }
    return o;
}

void hotreload_server_poll(void)
{
    if (!srv.running)
        return;
    hr_rv32_net_pump();
    struct lconn *c;
    while ((c = oldest()) != NULL) {
        struct hr_http_conn hc = {c, conn_read, conn_write};
        char summary[200];
        hr_rv32_at_safe_point = 1; /* a reload waiting for the safe point is served here */
        int status = hr_http_serve(&hc, &srv.cfg, summary, sizeof summary);
        hr_rv32_at_safe_point = 0;
        if (status != 200 || strncmp(summary, "GET /status ", 12) != 0)
            hr_rt_log("hotreload: http %s", summary);
        finish(c);
    }
}

hotreload_err_t hotreload_server_start(const hotreload_server_config_t *config)
{
    char why[160];
    hotreload_err_t e = hr_http_check_config(config);
    if (e != HOTRELOAD_OK)
        return e;
    if (!config->auth_disabled && config->auth_key_len > KEY_MAX)
        return hr_rt_fail(HOTRELOAD_ERR_ARG, "HTTP server: authentication key of %u bytes "
                          "(at most %u)", (unsigned)config->auth_key_len, KEY_MAX);
    if (srv.running)
        return hr_rt_fail(HOTRELOAD_ERR_STATE, "HTTP server: already running on port %u",
                          (unsigned)srv.cfg.port);
    /* The device's own loopback is unreachable from the network: this port
     * listens on the device's address, and QEMU's hostfwd decides who on
     * the host can reach it (scripts/qemu-rv32 forwards from 127.0.0.1). */
    const char *addr = config->bind_address ? config->bind_address : "127.0.0.1";
    ip4_addr_t ip;
    if (!ip4addr_aton(addr, &ip))
        return hr_rt_fail(HOTRELOAD_ERR_ARG, "HTTP server: bad bind address '%s' (IPv4 only)",
                          addr);
    if (ip4_addr_isloopback(&ip))
        return hr_rt_fail(HOTRELOAD_ERR_ARG, "HTTP server: bind address %s is this device's "
                          "loopback, which the network cannot reach; bind 0.0.0.0 or %s",
                          addr, HR_RV32_NET_ADDR);
    if (hr_rv32_net_start(why, sizeof why) != 0)
        return hr_rt_fail(HOTRELOAD_ERR_STATE, "HTTP server: %s", why);
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb)
        return hr_rt_fail(HOTRELOAD_ERR_NOMEM, "HTTP server: lwIP is out of TCP connections");
    if (tcp_bind(pcb, &ip, config->port) != ERR_OK) {
        tcp_abort(pcb);
        return hr_rt_fail(HOTRELOAD_ERR_STATE, "HTTP server: cannot listen on %s:%u", addr,
                          (unsigned)config->port);
    }
    struct tcp_pcb *l = tcp_listen(pcb);
    if (!l) {
        tcp_abort(pcb);
        return hr_rt_fail(HOTRELOAD_ERR_NOMEM, "HTTP server: lwIP cannot listen");
    }
    tcp_accept(l, on_accept);
    srv.listener = l;
    srv.cfg = *config;
    srv.cfg.bind_address = NULL;
    hr_fmt(srv.partition, sizeof srv.partition, "%s",
           config->partition ? config->partition : "hotreload");
    srv.cfg.partition = srv.partition;
    size_t keylen = config->auth_disabled ? 0 : config->auth_key_len;
    if (keylen)
        memcpy(srv.key, config->auth_key, keylen);
    srv.cfg.auth_key = keylen ? srv.key : NULL;
    srv.cfg.auth_key_len = keylen;
    srv.running = 1;
    hr_rt_log("hotreload: HTTP server listening on %s:%u (device address %s)", addr,
              (unsigned)config->port, HR_RV32_NET_ADDR);
    if (config->auth_disabled)
        hr_rt_log("hotreload: WARNING: request authentication is DISABLED: anyone who can "
                  "reach port %u can replace the code this device runs", (unsigned)config->port);
    return HOTRELOAD_OK;
}

hotreload_err_t hotreload_server_stop(void)
{
    if (!srv.running)
        return HOTRELOAD_ERR_STATE;
    tcp_close(srv.listener);
    for (int i = 0; i < WAITING_MAX; i++)
        if (srv.conns[i].used)
            release(&srv.conns[i]);
    memset(srv.key, 0, sizeof srv.key);
    srv.listener = NULL;
    srv.running = 0;
    return HOTRELOAD_OK;
}
