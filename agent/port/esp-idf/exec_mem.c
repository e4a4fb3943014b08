/* RAM the CPU executes, on ESP32-C3/S3: code goes to memory allocated with
 * MALLOC_CAP_EXEC, which the heap hands out at its instruction-bus address;
 * the loader writes it through the data-bus alias of the same SRAM (the
 * I/D split the loader models with hr_mem.write and hr_mem.addr). */
#include <stddef.h>
#include <stdint.h>

#include "esp_heap_caps.h"
#include "esp_idf_port.h"
#include "esp_memory_utils.h"
#include "sdkconfig.h"

#if CONFIG_ESP_SYSTEM_MEMPROT
#error "hotreload: memory protection forbids running code from RAM. Turn it off: \
CONFIG_ESP_SYSTEM_MEMPROT=n in sdkconfig.defaults (idf.py menuconfig: Component config > \
ESP System Settings > Memory protection)"
#endif

static void *em_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return heap_caps_malloc(size, MALLOC_CAP_8BIT);
}

static void em_free(void *ctx, void *p)
{
    (void)ctx;
    heap_caps_free(p);
}

static int em_region_alloc(void *ctx, enum hr_region_kind kind, size_t size, size_t align,
                           struct hr_mem *out)
{
    (void)ctx;
    if (align < 4)
        align = 4; /* the instruction bus reads words */
    if (kind != HR_REGION_TEXT) {
        void *p = heap_caps_aligned_alloc(align, size ? size : 1, MALLOC_CAP_8BIT);
        if (!p)
            return -1;
        *out = (struct hr_mem){p, (hr_addr_t)(uintptr_t)p, size};
        return 0;
    }
    /* Whole words: the instruction bus cannot fetch a partial one. */
    size_t len = (size + 3) & ~(size_t)3;
    void *code = heap_caps_aligned_alloc(align, len ? len : 4, MALLOC_CAP_EXEC);
    if (!code)
        return -1;
    void *data = esp_ptr_in_diram_iram(code) ? esp_ptr_diram_iram_to_dram(code) : code;
    *out = (struct hr_mem){data, (hr_addr_t)(uintptr_t)code, size};
    return 0;
}

static void em_region_free(void *ctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    (void)ctx, (void)kind;
    heap_caps_free((void *)(uintptr_t)mem->addr);
}

/* Bytes written on the data bus, then fetched on the instruction bus. */
static void em_sync_code(void *ctx, const struct hr_mem *mem)
{
    (void)ctx, (void)mem;
#if CONFIG_IDF_TARGET_ARCH_RISCV
    __asm__ volatile("fence rw, rw\n\tfence.i" ::: "memory");
#else
    __asm__ volatile("memw" ::: "memory");
#endif
}

const struct hr_port hr_idf_exec_mem = {
    NULL, em_alloc, em_free, em_region_alloc, em_region_free, em_sync_code, 0,
};
