/* Module storage in the board's 16 MiB PSRAM (0x21000000), treated as NOR
 * flash: 4 KiB sectors erase to 0xff, and a write only clears bits (each
 * byte is ANDed with what is there), so the runtime's storage rules are
 * exercised as on a device's flash. The boot script backs the PSRAM with a
 * file (-machine memory-backend= with a memory-backend-file), so stored
 * modules survive a restart; without one the PSRAM is there but forgotten
 * at exit. Partitions are 2 MiB windows (hr_board_flash_open). */
#include <stdint.h>
#include <string.h>

#include "an385.h"
#include "hotreload/port.h"

#define PARTS (AN385_PSRAM_SIZE / HR_BOARD_PART_SIZE)
#define SECTOR 0x1000u

static uint8_t *at(void *ctx, uint32_t off)
{
    return (uint8_t *)ctx + off;
}

/* -1 when a byte needed a bit set that only an erase sets, as flash
 * would leave it (the runtime erases before it writes). */
static int st_write(void *ctx, uint32_t off, const void *buf, uint32_t len)
{
    if (!hr_board_part_range(off, len))
        return -1;
    volatile uint8_t *p = at(ctx, off);
    const uint8_t *src = buf;
    int ok = 1;
    for (uint32_t i = 0; i < len; i++) {
        p[i] &= src[i];
        ok &= p[i] == src[i];
    }
    return ok ? 0 : -1;
}

static int st_erase(void *ctx, uint32_t off, uint32_t len)
{
    if (!hr_board_part_range(off, len) || (off | len) % SECTOR)
        return -1;
    memset(at(ctx, off), 0xff, len);
    return 0;
}

int hr_board_storage_open(const char *name, struct hr_storage *out)
{
    return hr_board_flash_open(name, out, AN385_PSRAM, PARTS, SECTOR, st_write, st_erase);
}
