/* The esp32c3 compile check must be able to fail: c3_check_test.py checks
 * this file as it checks the component's and expects two errors, one per
 * kind of mistake a port makes against headers it cannot run:
 *  - esp_partition_read given a partition's label where it takes the
 *    partition: only -Werror makes this an error (incompatible pointer type);
 *  - heap_caps_malloc without its capabilities: an error in any case.
 * With -DHR_PROBE_RIGHT the same calls are written correctly and the file
 * passes, so the failure comes from the calls, not from the check's set-up. */
#include <stddef.h>
#include <stdint.h>

#include "esp_heap_caps.h"
#include "esp_partition.h"

void *hr_probe(const esp_partition_t *part, const char *label);

void *hr_probe(const esp_partition_t *part, const char *label)
{
    uint8_t buf[16];
#ifdef HR_PROBE_RIGHT
    (void)label;
    if (esp_partition_read(part, 0, buf, sizeof buf) != ESP_OK)
        return NULL;
    return heap_caps_malloc(buf[0], MALLOC_CAP_8BIT);
#else
    (void)part;
    if (esp_partition_read(label, 0, buf, sizeof buf) != ESP_OK)
        return NULL;
    return heap_caps_malloc(buf[0]);
#endif
}
