/* The agent's HTTP endpoints (agent/runtime/http.c, docs/http.md) on lwIP's
 * raw TCP API, without threads. lwIP's callbacks buffer each connection's
 * request head as it arrives; hotreload_server_poll, called from the
 * application's main loop at its safe point, serves only connections whose
 * head is complete (or whose peer closed), through the transport-agnostic
 * hr_http_serve, and only for a bounded time: a client that sends one byte
 * and waits costs the loop nothing but its slot, which it loses after
 * HEAD_DEADLINE_MS or to a newer connection when every slot is taken.
 * Once a head is complete the request is served to its end, the body read
 * as it arrives (an upload streams only after its credential is accepted),
 * bounded by the timeouts below. */
#include <string.h>

#include "../../core/fmt.h"
#include "hotreload/http.h"
#include "hotreload/transport.h"
#include "board.h"
#include "lwip/ip4_addr.h"
#include "lwip/tcp.h"

#define SLOTS 8                /* connections held; lwipopts.h has pcbs for them */
#define HEAD_DEADLINE_MS 2000u /* the whole request head must arrive in this */
#define POLL_BUDGET_MS 20u     /* a poll starts no new request past this */
#define LINGER_MS 1000u        /* after the answer, what the client still sends */
#define DROP_LOG_MS 10000u     /* connections dropped unserved: one log line per this */
#define IO_TIMEOUT_MS 5000u    /* a peer silent this long while served is dropped */
/* A body trickled (slow-loris) must average 1000 bytes/s past the first 5 s,
 * as on the simulated device (agent/port/posix/server.c). */
#define READ_GRACE_MS 5000u
#define KEY_MAX 64

enum slot_state { FREE, HEAD, READY, LINGER };

struct lconn {
    struct tcp_pcb *pcb; /* NULL once lwIP dropped it (err callback) */
    enum slot_state state;
    int peer_closed;
    uint8_t head[HR_HTTP_HEAD_MAX]; /* the head, and the body bytes that came with it */
    size_t head_len, head_pos;
    struct pbuf *rx; /* received after the head buffer filled, not yet read */
    uint32_t seq;    /* accept order */
    uint64_t accepted_ms, received, linger_end_ms;
};

static struct {
    int running;
    struct tcp_pcb *listener;
    uint32_t seq;
    hotreload_server_config_t cfg;
    char partition[64];
    uint8_t key[KEY_MAX];
    struct lconn conns[SLOTS];
} srv;

/* Run the network until `deadline_ms` or until something arrives. */
static void wait_until(uint64_t deadline_ms)
{
    if (hr_board_net_pump())
        return;
    uint64_t now = hr_board_now_ms();
    if (now >= deadline_ms)
        return;
    /* lwIP's TCP timers tick every 250 ms: never sleep past one. */
    uint64_t until = deadline_ms - now > 100 ? now + 100 : deadline_ms;
    hr_board_idle_until(until);
    hr_board_net_pump();
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
    uint64_t silent_end = hr_board_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        if (c->head_pos < c->head_len) {
            size_t n = c->head_len - c->head_pos;
            n = n < len ? n : len;
            memcpy(buf, c->head + c->head_pos, n);
            c->head_pos += n;
            return (int)n;
        }
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
        if (hr_board_now_ms() >= end)
            return -1; /* answered 408, as a read timeout */
        wait_until(end);
    }
}

static int conn_write(void *ctx, const void *buf, size_t len)
{
    struct lconn *c = ctx;
    const uint8_t *p = buf;
    uint64_t end = hr_board_now_ms() + IO_TIMEOUT_MS;
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
            end = hr_board_now_ms() + IO_TIMEOUT_MS;
            continue;
        }
        if (e != ERR_MEM)
            return -1;
        tcp_output(c->pcb);
        if (hr_board_now_ms() >= end)
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

/* An answer that never waits: what fits in the send buffer now (a short
 * error to a connection that was never served always does). */
static int write_now(void *ctx, const void *buf, size_t len)
{
    struct tcp_pcb *pcb = ctx;
    if (!pcb || len > tcp_sndbuf(pcb) ||
        tcp_write(pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY) != ERR_OK)
        return -1;
    tcp_output(pcb);
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
    c->pcb = NULL;
    c->rx = NULL;
    c->state = FREE;
}

/* lwIP resets a connection closed with unread input, which can destroy the
 * answer before the client reads it (a 413 sent before the body). So: send
 * our FIN after the answer and swallow what the client still sends until
 * it closes or LINGER_MS pass (on_recv, expire): the loop does not wait. */
static void linger(struct lconn *c)
{
    if (c->pcb) {
        tcp_output(c->pcb);
        tcp_shutdown(c->pcb, 0, 1);
    }
    while (c->rx)
        consume(c, c->rx->tot_len);
    c->state = LINGER;
    c->linger_end_ms = hr_board_now_ms() + LINGER_MS;
}

/* Answer a connection that was never served, without waiting, and log it:
 * the first, then at most one line per DROP_LOG_MS with the count since,
 * so a flood of connections is not turned into a flood of UART output
 * (each byte a device access, the costliest thing this port does). */
static void drop(struct lconn *c, int status, const char *why)
{
    static uint32_t unlogged;
    static uint64_t logged_ms;
    struct hr_http_conn hc = {c->pcb, NULL, write_now};
    hr_http_reject(&hc, status, why);
    uint64_t now = hr_board_now_ms();
    if (logged_ms && now - logged_ms < DROP_LOG_MS) {
        unlogged++;
        return;
    }
    if (unlogged)
        hr_rt_log("hotreload: http ? ? -> %d: %s (and %u more dropped since the last such "
                  "line)", status, why, (unsigned)unlogged);
    else
        hr_rt_log("hotreload: http ? ? -> %d: %s", status, why);
    unlogged = 0;
    logged_ms = now ? now : 1;
}

/* Whether the head ends in the bytes just added (the blank line after the
 * headers); searched from a little before them for a CRLFCRLF split
 * between two segments. */
static int head_complete(const struct lconn *c, size_t added)
{
    size_t from = c->head_len - added;
    from = from > 3 ? from - 3 : 0;
    for (size_t i = from; i + 4 <= c->head_len; i++)
        if (!memcmp(c->head + i, "\r\n\r\n", 4))
            return 1;
    return 0;
}

/* Still reading the head: copy into the head buffer (the window reopens at
 * once, the pbuf goes back to lwIP's pool); ready for the poll once the
 * head is complete or the buffer is full (the parser then answers 431). */
static void take_head(struct lconn *c, struct tcp_pcb *pcb, struct pbuf *p)
{
    size_t room = sizeof c->head - c->head_len;
    u16_t n = (u16_t)(p->tot_len < room ? p->tot_len : room);
    pbuf_copy_partial(p, c->head + c->head_len, n, 0);
    c->head_len += n;
    c->received += n; /* counts for the slow-body rule (conn_read) */
    tcp_recved(pcb, n);
    p = pbuf_free_header(p, n);
    if (p)
        c->rx = p; /* past the head buffer: read as the body */
    if (head_complete(c, n) || c->head_len == sizeof c->head)
        c->state = READY;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct lconn *c = arg;
    (void)err;
    if (!p) {
        c->peer_closed = 1;
        if (c->state == HEAD)
            c->state = READY; /* served: the parser says what is missing */
    } else if (c->state == LINGER) {
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
    } else if (c->state == HEAD && !c->rx) {
        take_head(c, pcb, p);
    } else if (c->rx) {
        pbuf_cat(c->rx, p);
    } else {
        c->rx = p;
    }
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct lconn *c = arg;
    (void)err;
    c->pcb = NULL; /* lwIP has freed it */
    if (c->state == HEAD)
        c->state = READY; /* served: the read fails and the log says so */
}

/* A slot for a new connection: a free one, else one lingering after its
 * answer, else the oldest one still reading its head (an idle or trickling
 * client must not keep a real one out). NULL when every slot holds a
 * complete request. */
static struct lconn *slot_for_new(void)
{
    struct lconn *lingering = NULL, *oldest = NULL;
    for (int i = 0; i < SLOTS; i++) {
        struct lconn *c = &srv.conns[i];
        if (c->state == FREE)
            return c;
        if (c->state == LINGER)
            lingering = c;
        if (c->state == HEAD && (!oldest || (int32_t)(c->seq - oldest->seq) < 0))
            oldest = c;
    }
    if (lingering) {
        release(lingering);
        return lingering;
    }
    if (oldest) {
        drop(oldest, 408, "request head not complete; its slot went to a newer connection "
                          "(send the whole head at once)");
        release(oldest);
    }
    return oldest;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    struct lconn *c = slot_for_new();
    if (!c) {
        struct hr_http_conn hc = {pcb, NULL, write_now};
        hr_http_reject(&hc, 503, "too many requests waiting (8); try again");
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    c->pcb = pcb;
    c->state = HEAD;
    c->peer_closed = 0;
    c->head_len = c->head_pos = 0;
    c->rx = NULL;
    c->received = 0;
    c->seq = srv.seq++;
    c->accepted_ms = hr_board_now_ms();
    tcp_arg(pcb, c);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
    tcp_nagle_disable(pcb);
    return ERR_OK;
}

/* Heads past their deadline are answered 408; lingering connections whose
 * client closed, or whose linger ran out, are let go. Never waits. */
static void expire(uint64_t now)
{
    for (int i = 0; i < SLOTS; i++) {
        struct lconn *c = &srv.conns[i];
        if (c->state == HEAD && now - c->accepted_ms >= HEAD_DEADLINE_MS) {
            drop(c, 408, "request head not complete within 2 s (send the whole head at once)");
            linger(c);
        } else if (c->state == LINGER && (!c->pcb || c->peer_closed || now >= c->linger_end_ms)) {
            release(c);
        }
    }
}

/* The oldest connection ready to be served that was accepted before
 * `before` (connections arriving during a poll wait for the next). */
static struct lconn *next_ready(uint32_t before)
{
    struct lconn *o = NULL;
    for (int i = 0; i < SLOTS; i++) {
        struct lconn *c = &srv.conns[i];
        if (c->state == READY && (int32_t)(c->seq - before) < 0 &&
            (!o || (int32_t)(c->seq - o->seq) < 0))
            o = c;
    }
    return o;
}

static void serve(struct lconn *c)
{
    struct hr_http_conn hc = {c, conn_read, conn_write};
    char summary[200];
    hr_board_at_safe_point = 1; /* a reload waiting for the safe point is served here */
    int status = hr_http_serve(&hc, &srv.cfg, summary, sizeof summary);
    hr_board_at_safe_point = 0;
    if (status != 200 || strncmp(summary, "GET /status ", 12) != 0)
        hr_rt_log("hotreload: http %s", summary);
    linger(c);
}

void hotreload_server_poll(void)
{
    if (!srv.running)
        return;
    hr_board_net_pump();
    uint64_t start = hr_board_now_ms();
    uint32_t before = srv.seq;
    expire(start);
    struct lconn *c;
    while ((c = next_ready(before)) != NULL) {
        serve(c);
        if (hr_board_now_ms() - start >= POLL_BUDGET_MS)
            break; /* the rest next time: the application's loop comes first */
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
                          addr, HR_BOARD_NET_ADDR);
    if (hr_board_net_start(why, sizeof why) != 0)
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
              (unsigned)config->port, HR_BOARD_NET_ADDR);
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
    for (int i = 0; i < SLOTS; i++)
        release(&srv.conns[i]);
    memset(srv.key, 0, sizeof srv.key);
    srv.listener = NULL;
    srv.running = 0;
    return HOTRELOAD_OK;
}
