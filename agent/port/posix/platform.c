/* The simulated device's platform: the firmware is a Linux process. Module
 * memory, the trap guard, the build-id and symbol lookup are host.c's. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "host.h"
#include "inflate_zlib.h"
#include "hotreload/port.h"
#include "posix.h"

static uint64_t px_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void px_sleep_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static pthread_mutex_t lock;
static pthread_once_t lock_once = PTHREAD_ONCE_INIT;

static void lock_init(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&lock, &a);
}

static void px_lock(void *ctx)
{
    (void)ctx;
    pthread_once(&lock_once, lock_init);
    pthread_mutex_lock(&lock);
}

static void px_unlock(void *ctx)
{
    (void)ctx;
    pthread_mutex_unlock(&lock);
}

static int px_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

static int px_storage_open(void *ctx, const char *name, uint32_t image_max,
                           struct hr_storage *out)
{
    (void)ctx;
    return hr_posix_storage_open(name, image_max, out);
}

static void px_log(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

static const struct hr_platform platform = {
    .ctx = NULL,
    .mem = &hr_host_mem,
    .now_ms = px_now_ms,
    .sleep_ms = px_sleep_ms,
    .lock = px_lock,
    .unlock = px_unlock,
    .guarded_call = hr_host_guarded_call,
    .firmware_id = hr_host_firmware_id,
    .resolve = hr_host_resolve,
    .random = px_random,
    .storage_open = px_storage_open,
    .log = px_log,
    .inflate = &hr_zlib_inflater,
};

const struct hr_platform *hr_platform_get(void)
{
    return &platform;
}
