/* The ESP-IDF port: FreeRTOS locking and delays, esp_timer, esp_fill_random,
 * ESP_LOG, partitions (storage.c), PSA hashing (sha256_psa.c), and module
 * memory: on the linux target the host's (port/posix/host.c), on chips
 * RAM the CPU executes (exec_mem.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp_idf_port.h"
#include "esp_log.h"
#include "esp_random.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "hotreload/port.h"
#include "sdkconfig.h"
#if CONFIG_IDF_TARGET_LINUX
#include "host.h"
#else
#include "esp_app_desc.h"
#endif

static const char *TAG = "hotreload";

static uint64_t idf_now_ms(void *ctx)
{
    (void)ctx;
    return (uint64_t)esp_timer_get_time() / 1000u;
}

static void idf_sleep_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    TickType_t ticks = pdMS_TO_TICKS(ms);
    vTaskDelay(ticks ? ticks : 1); /* a tick is 10 ms at 100 Hz: never a busy spin */
}

/* Made before main (a constructor: no task can race its creation), from
 * static storage: it never fails. */
static StaticSemaphore_t lock_mem;
static SemaphoreHandle_t lock;

__attribute__((constructor)) static void lock_create(void)
{
    lock = xSemaphoreCreateRecursiveMutexStatic(&lock_mem);
}

static void idf_lock(void *ctx)
{
    (void)ctx;
    xSemaphoreTakeRecursive(lock, portMAX_DELAY);
}

static void idf_unlock(void *ctx)
{
    (void)ctx;
    xSemaphoreGiveRecursive(lock);
}

/* The hardware RNG, as port.h asks: truly random while Wi-Fi or Bluetooth
 * runs (the HTTP server needs the network) or bootloader_random_enable() is
 * on; the linux target reads the host's random source. */
static int idf_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    esp_fill_random(buf, len);
    return 0;
}

static int idf_storage_open(void *ctx, const char *name, uint32_t image_max,
                            struct hr_storage *out)
{
    (void)ctx, (void)image_max; /* partitions of a fixed size */
    return hr_idf_storage_open(name, out);
}

static void idf_log(void *ctx, const char *line)
{
    (void)ctx;
    size_t n = strlen(TAG);
    if (!strncmp(line, TAG, n) && !strncmp(line + n, ": ", 2))
        line += n + 2; /* ESP_LOG names the tag already */
    ESP_LOGI(TAG, "%s", line);
}

#if CONFIG_IDF_TARGET_LINUX
/* The app is a Linux process: module code runs as on the simulated device. */
#define MEM &hr_host_mem
#define GUARDED_CALL hr_host_guarded_call
#define FIRMWARE_ID hr_host_firmware_id
#define RESOLVE hr_host_resolve
#else
/* A chip cannot survive a fault in module code (a constructor that traps
 * resets it): the image is then only TRIED, and the next start falls back to
 * the confirmed one (README: what protects you). */
static int idf_plain_call(void *ctx, void (*fn)(void *), void *arg, char *why, size_t whysize)
{
    (void)ctx, (void)why, (void)whysize;
    fn(arg);
    return 0;
}

/* What hotd bind writes into a module for this firmware: the SHA-256 of the
 * app's ELF file, which the build stores in the app description. */
static size_t idf_firmware_id(void *ctx, const uint8_t **id)
{
    (void)ctx;
    *id = esp_app_get_description()->app_elf_sha256;
    return 32;
}

#define MEM &hr_idf_exec_mem
#define GUARDED_CALL idf_plain_call
#define FIRMWARE_ID idf_firmware_id
#define RESOLVE NULL /* modules are bound to the firmware's addresses (hotd bind --absolute) */
#endif

static const struct hr_platform platform = {
    .ctx = NULL,
    .mem = MEM,
    .now_ms = idf_now_ms,
    .sleep_ms = idf_sleep_ms,
    .lock = idf_lock,
    .unlock = idf_unlock,
    .guarded_call = GUARDED_CALL,
    .firmware_id = FIRMWARE_ID,
    .resolve = RESOLVE,
    .random = idf_random,
    .storage_open = idf_storage_open,
    .log = idf_log,
};

const struct hr_platform *hr_platform_get(void)
{
    return &platform;
}
