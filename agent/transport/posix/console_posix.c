/* The serial console of the simulated device, on stdin/stdout or on a local
 * TCP port (what QEMU does with a UART: `-serial tcp:…,server`).
 *
 * A thread reads the input as raw bytes (binary-safe: uploads arrive framed
 * on it) and feeds the console, ticking it every 50 ms. Each reply line goes
 * out with one write() under a mutex; an application that prints from other
 * threads and wants its lines never cut by a reply holds the same mutex
 * (hr_posix_console_lock/unlock) around its own output. On end of input the
 * console drops any upload in progress.
 *
 * On TCP the line carries what a UART would: the replies and everything the
 * firmware prints. stdout and stderr are pipes read by a second thread,
 * which copies them to where they went before and, in whole lines (so a
 * reply never cuts one), to the client. One client at a time: a second one
 * is told why it is refused, and the first keeps the line. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hotreload/console.h"
#include "posix.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hr_console console;
static bool started;
static int reply_fd = STDOUT_FILENO; /* where replies go; -1: nobody listens */
static int listen_fd = -1;
static uint16_t tcp_port;

void hr_posix_console_lock(void)
{
    pthread_mutex_lock(&out_lock);
}

void hr_posix_console_unlock(void)
{
    pthread_mutex_unlock(&out_lock);
}

/* send() to a TCP client: one gone away must not raise SIGPIPE. */
static void write_all(int fd, const char *data, size_t len, bool sock)
{
    while (fd >= 0 && len > 0) {
        ssize_t n = sock ? send(fd, data, len, MSG_NOSIGNAL) : write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nobody listens: drop it, keep serving */
        data += n;
        len -= (size_t)n;
    }
}

static void out(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    pthread_mutex_lock(&out_lock);
    write_all(reply_fd, data, len, listen_fd >= 0);
    pthread_mutex_unlock(&out_lock);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A second client: say why, then let it read that before the close (a close
 * with its bytes unread would reset the connection and lose the line). */
static void refuse(void)
{
    int fd = accept(listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    static const char why[] =
        "error the console is in use by another client: close it, or push through the "
        "hotd console attached to it (hotd push --serial finds it)\n";
    send(fd, why, sizeof why - 1, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    char buf[256];
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 500) > 0 && read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
}

/* Feed the console from `in` until it ends, ticking it; on TCP, refuse
 * whoever else connects meanwhile. */
static void serve(int in)
{
    uint8_t buf[512];
    hr_console_tick(&console, now_ms());
    for (;;) {
        struct pollfd p[2] = {{.fd = in, .events = POLLIN}, {.fd = listen_fd, .events = POLLIN}};
        int r = poll(p, listen_fd >= 0 ? 2 : 1, 50);
        hr_console_tick(&console, now_ms());
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        if (listen_fd >= 0 && (p[1].revents & POLLIN))
            refuse();
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        hr_console_feed(&console, buf, (size_t)n);
    }
    hr_console_close(&console);
}

static void *stdin_reader(void *arg)
{
    (void)arg;
    serve(STDIN_FILENO);
    return NULL;
}

/* One client after the other, for as long as the firmware runs. */
static void *tcp_reader(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        pthread_mutex_lock(&out_lock);
        reply_fd = fd;
        pthread_mutex_unlock(&out_lock);
        serve(fd);
        pthread_mutex_lock(&out_lock);
        reply_fd = -1;
        pthread_mutex_unlock(&out_lock);
        close(fd);
    }
}

/* What the firmware prints to one stream (stdout or stderr), now a pipe:
 * at once to where it went before, and whole lines to the client. */
struct tee {
    int pipe, orig;
    char line[512];
    size_t len;
};

static void tee_read(struct tee *t)
{
    char buf[512];
    ssize_t n = read(t->pipe, buf, sizeof buf);
    if (n <= 0)
        return;
    write_all(t->orig, buf, (size_t)n, false);
    for (ssize_t i = 0; i < n; i++) {
        t->line[t->len++] = buf[i];
        if (buf[i] == '\n' || t->len == sizeof t->line) {
            pthread_mutex_lock(&out_lock);
            write_all(reply_fd, t->line, t->len, true);
            pthread_mutex_unlock(&out_lock);
            t->len = 0;
        }
    }
}

static struct tee tees[2];

static void *tee_thread(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd p[2] = {{tees[0].pipe, POLLIN, 0}, {tees[1].pipe, POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return NULL;
        for (int i = 0; i < 2; i++)
            if (p[i].revents & POLLIN)
                tee_read(&tees[i]);
    }
}

/* stdout and stderr through pipes the tee thread reads. */
static int start_tee(void)
{
    for (int i = 0; i < 2; i++) {
        int fds[2], std = i ? STDERR_FILENO : STDOUT_FILENO;
        fflush(i ? stderr : stdout);
        if (pipe(fds) != 0 || (tees[i].orig = dup(std)) < 0 || dup2(fds[1], std) < 0)
            return -1;
        close(fds[1]);
        tees[i].pipe = fds[0];
    }
    pthread_t t;
    if (pthread_create(&t, NULL, tee_thread, NULL) != 0)
        return -1;
    pthread_detach(t);
    return 0;
}

static int listen_local(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    tcp_port = ntohs(a.sin_port);
    return fd;
}

static int start(const hotreload_server_config_t *config, void *(*reader)(void *))
{
    struct hr_console_config cfg = HR_CONSOLE_CONFIG_DEFAULT();
    cfg.write = out;
    /* A pty or a socket buffers far more than 4 frames of 1 KiB. */
    cfg.frame = 1024;
    hr_console_config_from(&cfg, config);
    hr_console_init(&console, &cfg);
    pthread_t t;
    if (pthread_create(&t, NULL, reader, NULL) != 0)
        return -1;
    pthread_detach(t);
    started = true;
    return 0;
}

int hotreload_console_start_stdio(const hotreload_server_config_t *config)
{
    return started ? -1 : start(config, stdin_reader);
}

int hotreload_console_start_tcp(const hotreload_server_config_t *config, uint16_t port)
{
    if (started)
        return -1;
    if ((listen_fd = listen_local(port)) < 0) {
        fprintf(stderr, "console: cannot listen on 127.0.0.1:%u: %s (choose another port, "
                "or 0 for any free one)\n", port, strerror(errno));
        return -1;
    }
    reply_fd = -1;
    if (start_tee() != 0) {
        fprintf(stderr, "console: cannot copy the output to the line: %s\n", strerror(errno));
        return -1;
    }
    return start(config, tcp_reader);
}

uint16_t hr_posix_console_port(void)
{
    return listen_fd >= 0 ? tcp_port : 0;
}
