/* The serial console of the simulated device: stdin in, stdout out.
 *
 * A thread reads stdin as raw bytes (binary-safe: uploads arrive framed on
 * it) and feeds the console, ticking it every 50 ms. Each reply line goes out
 * with one write() under a mutex; an application that prints from other
 * threads and wants its lines never cut by a reply holds the same mutex
 * (hr_posix_console_lock/unlock) around its own output. On end of input the
 * console drops any upload in progress and the thread ends. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hotreload/console.h"
#include "posix.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hr_console console;
static bool started;

void hr_posix_console_lock(void)
{
    pthread_mutex_lock(&out_lock);
}

void hr_posix_console_unlock(void)
{
    pthread_mutex_unlock(&out_lock);
}

static void out(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    pthread_mutex_lock(&out_lock);
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nobody listens: drop the reply, keep serving */
        data += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&out_lock);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *reader(void *arg)
{
    (void)arg;
    uint8_t buf[512];
    hr_console_tick(&console, now_ms());
    for (;;) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int r = poll(&pfd, 1, 50);
        hr_console_tick(&console, now_ms());
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        hr_console_feed(&console, buf, (size_t)n);
    }
    hr_console_close(&console);
    return NULL;
}

int hotreload_console_start_stdio(const hotreload_server_config_t *config)
{
    if (started)
        return -1;
    struct hr_console_config cfg = HR_CONSOLE_CONFIG_DEFAULT();
    cfg.write = out;
    hr_console_config_from(&cfg, config);
    hr_console_init(&console, &cfg);
    pthread_t t;
    if (pthread_create(&t, NULL, reader, NULL) != 0)
        return -1;
    pthread_detach(t);
    started = true;
    return 0;
}
