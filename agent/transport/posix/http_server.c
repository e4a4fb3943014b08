/* The HTTP server of the simulated device: a listening socket, an accept
 * thread, one detached thread per connection, each handing its socket to
 * the transport-agnostic hr_http_serve. Which connections may be held, and
 * which one makes room for a newcomer: http_admit.c. A head must arrive
 * within 2 s of the accept. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "hotreload/http.h"
#include "http_admit.h"
#include "posix.h"
#include "hotreload/transport.h"

#define MAX_THREADS (2 * HR_POSIX_MAX_CONNECTIONS) /* with dropped ones still finishing */
#define IO_TIMEOUT_S 5        /* a peer silent this long is dropped */
/* Past its head a request trickling bytes is never silent for IO_TIMEOUT_S
 * (slow-loris): reading it ends READ_GRACE_MS after the accept plus 1 ms
 * per byte received, i.e. past the first 5 s it must average 1000 bytes/s. */
#define READ_GRACE_MS 5000u

/* The configuration, copied: the caller's strings and key need not outlive
 * start(). Shared by reference with the connection threads, which may
 * still be finishing a request after stop(). */
struct shared {
    atomic_int refs;
    hotreload_server_config_t cfg;
    char partition[64];
    uint8_t pubkey[65];  /* HR_AUTH_PUBKEY_LEN, when config->auth_pubkey */
    uint8_t key[];
};

static struct {
    pthread_mutex_t mu;
    bool running;
    atomic_bool stopping;
    int fd;
    uint16_t port;
    pthread_t thread;
    struct shared *sh;
    atomic_int threads;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static void shared_put(struct shared *sh)
{
    if (atomic_fetch_sub(&sh->refs, 1) == 1) {
        memset(sh->key, 0, sh->cfg.auth_key_len);
        free(sh);
    }
}

/* The head ends at the first CRLFCRLF (the parser takes no bare LF): seen
 * here only to know when the head deadline stops applying. */
static void watch_head(struct conn *c, const uint8_t *p, size_t n)
{
    static const char end[] = "\r\n\r\n";
    for (size_t i = 0; i < n && c->head_end < 4; i++)
        c->head_end = p[i] == (uint8_t)end[c->head_end] ? c->head_end + 1 : p[i] == '\r';
    if (c->head_end == 4)
        admit_state(c, HR_CONN_SERVING);
}

static int sock_read(void *ctx, void *buf, size_t len)
{
    struct conn *c = ctx;
    for (;;) {
        bool head = c->head_end < 4;
        uint64_t now = hr_rt_now_ms(), end = c->accepted_ms + (head ? HR_POSIX_HEAD_DEADLINE_MS
                                                             : READ_GRACE_MS + c->received);
        if (now >= end || atomic_load(&c->dropped))
            return -1; /* answered 408, as a read timeout */
        uint64_t left = end - now < IO_TIMEOUT_S * 1000u ? end - now : IO_TIMEOUT_S * 1000u;
        struct timeval tv = {(time_t)(left / 1000u), (suseconds_t)(left % 1000u * 1000u)};
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = recv(c->fd, buf, len, 0);
        if (atomic_load(&c->dropped))
            return -1;
        if (n >= 0) {
            c->received += (uint64_t)n;
            if (head)
                watch_head(c, buf, (size_t)n);
            return (int)n;
        }
        if (errno != EINTR)
            return -1; /* EAGAIN here is SO_RCVTIMEO expiring */
    }
}

static int sock_write(void *ctx, const void *buf, size_t len)
{
    struct conn *c = ctx;
    int fd = c->fd;
    const char *p = buf;
    if (atomic_load(&c->dropped) && !c->last_word)
        return -1; /* a dropped connection gets its own answer (connection()) */
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL); /* a gone peer is no SIGPIPE */
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void set_timeouts(int fd, int seconds)
{
    struct timeval tv = {seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Closing a socket with unread input makes the kernel send a reset, which
 * can destroy the answer before the client reads it (a 413 sent before the
 * body). So: end our side, swallow what the client still sends for a
 * moment (unless the connection was dropped for a newcomer), then close. */
static void drain(struct conn *c)
{
    char sink[4096];
    shutdown(c->fd, SHUT_WR);
    set_timeouts(c->fd, 1);
    uint64_t t0 = hr_rt_now_ms();
    size_t total = 0;
    while (total < (4u << 20) && hr_rt_now_ms() - t0 < 2000u && !atomic_load(&c->dropped)) {
        ssize_t n = recv(c->fd, sink, sizeof sink, 0);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
}

/* Out of the table, then the socket closed: see `table`. */
static void conn_end(struct conn *c)
{
    admit_leave(c);
    close(c->fd);
    shared_put(c->sh);
    free(c);
    atomic_fetch_sub(&srv.threads, 1);
}

static void *connection(void *arg)
{
    struct conn *c = arg;
    struct hr_http_conn hc = {c, sock_read, sock_write};
    char summary[400];
    int one = 1;
    set_timeouts(c->fd, IO_TIMEOUT_S);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int status = hr_http_serve(&hc, &c->sh->cfg, summary, sizeof summary);
    /* Dropped while reading its head (no answer went out): say so. */
    c->last_word = status == 0 && atomic_load(&c->dropped);
    admit_state(c, HR_CONN_DRAINING);
    if (c->last_word) {
        hr_http_reject(&hc, 503, "dropped before the request head was complete: the device's "
                       "connections were all taken and a newer one needed this place; send "
                       "the whole head at once");
    }
    /* Polling the status is routine; dropped connections are counted (a
     * client reconnecting at once would fill the log); the rest is logged. */
    if (!c->last_word && (status != 200 || strncmp(summary, "GET /status ", 12)))
        hr_rt_log("hotreload: http %s", summary);
    drain(c);
    conn_end(c);
    return NULL;
}

static void reject(int fd, const char *why)
{
    struct conn c = {.fd = fd, .accepted_ms = hr_rt_now_ms()};
    struct hr_http_conn hc = {&c, sock_read, sock_write};
    set_timeouts(fd, 1);
    hr_http_reject(&hc, 503, why);
    shutdown(fd, SHUT_WR);
    char sink[4096];
    while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
    close(fd);
}

/* Admit the connection and start its thread, or answer 503 saying why. */
static void serve_connection(int fd, struct shared *sh)
{
    char why[160] = "the device cannot start a connection thread (out of memory); try again";
    bool room = atomic_load(&srv.threads) < MAX_THREADS;
    struct conn *c = room ? admit_new(fd, sh) : NULL;
    if (!room)
        snprintf(why, sizeof why, "too many connections still closing; try again in a moment");
    bool in = c && admit(c, why, sizeof why);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (in) {
        atomic_fetch_add(&sh->refs, 1);
        atomic_fetch_add(&srv.threads, 1);
        in = pthread_create(&t, &attr, connection, c) == 0;
        if (!in) {
            c->fd = -1;
            conn_end(c); /* leaves the table, releases sh and the thread count */
            c = NULL;
        }
    }
    pthread_attr_destroy(&attr);
    if (!in) {
        free(c);
        reject(fd, why);
    }
}

static void *accept_loop(void *arg)
{
    struct shared *sh = arg;
    for (;;) {
        int fd = accept4(srv.fd, NULL, NULL, SOCK_CLOEXEC);
        if (atomic_load(&srv.stopping)) {
            if (fd >= 0)
                close(fd);
            break;
        }
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                struct timespec ts = {0, 50 * 1000000L};
                nanosleep(&ts, NULL);
            }
            continue;
        }
        serve_connection(fd, sh);
    }
    return NULL;
}

static int listen_on(const char *addr, uint16_t port, char *why, size_t whysize)
{
    struct addrinfo hints, *res = NULL;
    char service[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    int gai = getaddrinfo(addr, service, &hints, &res);
    if (gai != 0) {
        snprintf(why, whysize, "bad bind address '%s': %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(why, whysize, "cannot listen on %s:%u: %s", addr, (unsigned)port, strerror(err));
    return fd;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

hotreload_err_t hotreload_server_start(const hotreload_server_config_t *config)
{
    char why[160];
    hotreload_err_t e = hr_http_check_config(config);
    if (e != HOTRELOAD_OK)
        return e;
    const char *addr = config->bind_address ? config->bind_address : "127.0.0.1";
    pthread_mutex_lock(&srv.mu);
    if (srv.running) {
        pthread_mutex_unlock(&srv.mu);
        return hr_rt_fail(HOTRELOAD_ERR_STATE, "HTTP server: already running on port %u", srv.port);
    }
    size_t keylen = config->auth_disabled ? 0 : config->auth_key_len;
    struct shared *sh = calloc(1, sizeof *sh + keylen);
    if (!sh) {
        pthread_mutex_unlock(&srv.mu);
        return hr_rt_fail(HOTRELOAD_ERR_NOMEM, "HTTP server: out of memory");
    }
    atomic_init(&sh->refs, 1);
    sh->cfg = *config;
    sh->cfg.bind_address = NULL; /* not needed past this point */
    snprintf(sh->partition, sizeof sh->partition, "%s",
           config->partition ? config->partition : "hotreload");
    sh->cfg.partition = sh->partition;
    if (keylen)
        memcpy(sh->key, config->auth_key, keylen);
    sh->cfg.auth_key = keylen ? sh->key : NULL;
    sh->cfg.auth_key_len = keylen;
    if (config->auth_pubkey && !config->auth_disabled)
        memcpy(sh->pubkey, config->auth_pubkey, sizeof sh->pubkey);
    sh->cfg.auth_pubkey = config->auth_pubkey && !config->auth_disabled ? sh->pubkey : NULL;
    int fd = listen_on(addr, config->port, why, sizeof why);
    if (fd < 0) {
        shared_put(sh);
        pthread_mutex_unlock(&srv.mu);
        return hr_rt_fail(HOTRELOAD_ERR_STATE, "HTTP server: %s", why);
    }
    srv.fd = fd;
    srv.port = bound_port(fd);
    srv.sh = sh;
    atomic_store(&srv.stopping, false);
    if (pthread_create(&srv.thread, NULL, accept_loop, sh) != 0) {
        close(fd);
        srv.fd = -1;
        srv.sh = NULL;
        shared_put(sh);
        pthread_mutex_unlock(&srv.mu);
        return hr_rt_fail(HOTRELOAD_ERR_NOMEM, "HTTP server: cannot start the accept thread");
    }
    srv.running = true;
    pthread_mutex_unlock(&srv.mu);
    hr_rt_log("hotreload: HTTP server listening on %s:%u", addr, srv.port);
    if (config->auth_disabled)
        hr_rt_log("hotreload: WARNING: request authentication is DISABLED: anyone who can "
                  "reach %s:%u can replace the code this device runs", addr, srv.port);
    return HOTRELOAD_OK;
}

hotreload_err_t hotreload_server_stop(void)
{
    pthread_mutex_lock(&srv.mu);
    if (!srv.running) {
        pthread_mutex_unlock(&srv.mu);
        return HOTRELOAD_ERR_STATE;
    }
    atomic_store(&srv.stopping, true);
    shutdown(srv.fd, SHUT_RDWR); /* wakes the blocked accept() */
    pthread_join(srv.thread, NULL);
    close(srv.fd);
    srv.fd = -1;
    srv.port = 0;
    /* Connections still running keep their reference to the config. */
    shared_put(srv.sh);
    srv.sh = NULL;
    srv.running = false;
    pthread_mutex_unlock(&srv.mu);
    return HOTRELOAD_OK;
}

uint16_t hr_posix_server_port(void)
{
    pthread_mutex_lock(&srv.mu);
    uint16_t port = srv.port;
    pthread_mutex_unlock(&srv.mu);
    return port;
}
