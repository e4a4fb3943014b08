/* Module storage on QEMU virt's first CFI flash (pflash unit 0, 32 MiB at
 * 0x20000000), so stored modules survive a restart when QEMU is given a file
 * for it: -drive if=pflash,unit=0,format=raw,file=F, F exactly 32 MiB.
 * Without one the flash is there but forgotten at exit.
 *
 * Given that drive, QEMU starts the CPU at the flash's first word instead of
 * at the -kernel entry: the first 256 KiB block is the boot block, holding
 * `lui t0, 0x80000; jr t0` (the bytes b7 02 00 80 67 80 02 00; the README and
 * scripts/qemu-rv32 make the file), and is never erased here. (Unit 1 would
 * not do: QEMU then takes it for supervisor firmware and loads no kernel.)
 *
 * Intel command set: program a write buffer's run of words, erase a 256 KiB
 * block, back to read-array mode after each, where the flash reads as memory (`map`).
 * QEMU's flash overwrites on a program; real flash only clears bits. The
 * driver ANDs each word with what is there, so the partition behaves like
 * real flash and the runtime's storage rules are exercised as on a device.
 *
 * Partitions are 2 MiB windows after the boot block (hr_board_flash_open). */
#include <stdint.h>
#include <string.h>

#include "hotreload/port.h"
#include "virt.h"

#define PARTS ((VIRT_FLASH_SIZE - VIRT_FLASH_SECTOR) / HR_BOARD_PART_SIZE)
/* A command in both 16-bit halves: the bank is two 16-bit chips side by side. */
#define CMD(c) ((uint32_t)(c) * 0x00010001u)
#define ST_READY 0x80u
#define ST_ERRORS 0x3au /* erase, program, voltage, lock */

static volatile uint32_t *word(uint32_t addr)
{
    return (volatile uint32_t *)(uintptr_t)addr;
}

static int finish(volatile uint32_t *w)
{
    uint32_t st;
    while (!((st = *w) & ST_READY))
        ;
    if (st & ST_ERRORS)
        *w = CMD(0x50); /* clear the status for the next command */
    *w = CMD(0xff);     /* read array: the flash reads as memory again */
    return st & ST_ERRORS ? -1 : 0;
}

/* Bytes per buffered program (Intel "write to buffer"): one command for a
 * whole run of words instead of one per word, within the flash's write
 * buffer. On QEMU each command switches the flash out of read-array mode,
 * which costs far more than the words themselves. */
#define WBUF 256u

/* Program the n aligned words at `a` (one write buffer) to v ANDed with
 * what they hold; when every word already holds it, nothing is sent. */
static int program(uint32_t a, const uint32_t *v, uint32_t n)
{
    volatile uint32_t *w = word(a);
    uint32_t now[WBUF / 4];
    int change = 0;
    for (uint32_t i = 0; i < n; i++) {
        now[i] = w[i] & v[i];
        change |= now[i] != w[i];
    }
    if (!change)
        return 0;
    *w = CMD(0xe8); /* write to buffer */
    while (!(*w & ST_READY))
        ;
    *w = CMD(n - 1); /* words, less one */
    for (uint32_t i = 0; i < n; i++)
        w[i] = now[i];
    *w = CMD(0xd0); /* confirm */
    if (finish(w) != 0)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (w[i] != now[i])
            return -1; /* e.g. a read-only drive */
    return 0;
}

static int fl_write(void *ctx, uint32_t off, const void *buf, uint32_t len)
{
    uint32_t base = (uint32_t)(uintptr_t)ctx;
    const uint8_t *src = buf;
    if (!hr_board_part_range(off, len))
        return -1;
    uint32_t p = base + off, end = base + off + len;
    while (p < end) {
        /* The words from p's to the end of its write buffer (or of the data). */
        uint32_t first = p & ~3u, stop = (p & ~(WBUF - 1)) + WBUF;
        stop = stop < end ? stop : end;
        uint32_t v[WBUF / 4], n = (stop - first + 3) / 4;
        for (uint32_t i = 0; i < n; i++)
            v[i] = 0xffffffffu; /* bytes not written keep their bits */
        for (; p < stop; p++, src++) {
            uint32_t k = (p - first) / 4, sh = 8 * (p & 3u);
            v[k] &= ~(0xffu << sh) | (uint32_t)*src << sh;
        }
        if (program(first, v, n) != 0)
            return -1;
    }
    return 0;
}

static int fl_erase(void *ctx, uint32_t off, uint32_t len)
{
    uint32_t base = (uint32_t)(uintptr_t)ctx;
    if (!hr_board_part_range(off, len) || (off | len) % VIRT_FLASH_SECTOR)
        return -1;
    for (uint32_t b = base + off; b < base + off + len; b += VIRT_FLASH_SECTOR) {
        volatile uint32_t *w = word(b);
        *w = CMD(0x20);
        *w = CMD(0xd0);
        if (finish(w) != 0 || *w != 0xffffffffu)
            return -1;
    }
    return 0;
}

int hr_board_storage_open(const char *name, struct hr_storage *out)
{
    return hr_board_flash_open(name, out, VIRT_FLASH0 + VIRT_FLASH_SECTOR, PARTS,
                               VIRT_FLASH_SECTOR, fl_write, fl_erase);
}
