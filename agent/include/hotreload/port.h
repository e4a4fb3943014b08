/* The port interface: every platform fact the loader core needs.
 * The core never allocates, syncs caches or logs on its own; it asks the
 * port. A posix simulated device, bare-metal RISC-V and ESP-IDF each supply
 * one of these. */
#ifndef HOTRELOAD_PORT_H
#define HOTRELOAD_PORT_H

#include <stddef.h>
#include <stdint.h>

/* A target address. 64 bits wide so that the host can dry-run 64-bit
 * targets; on a 32-bit device only the low half is ever used. */
typedef uint64_t hr_addr_t;

/* Sections are grouped by kind; each kind is one region from the port, so a
 * port can put code in executable memory and the rest in plain RAM. */
enum hr_region_kind {
    HR_REGION_TEXT,   /* code, and literal pools that code reads by PC (Xtensa) */
    HR_REGION_RODATA, /* read-only data */
    HR_REGION_DATA,   /* writable data, and the loader-built GOT */
    HR_REGION_SDATA,  /* small data (.sdata, .sbss, .srodata) */
    HR_REGION_BSS,    /* zero-initialised data */
    HR_REGION_COUNT
};

/* One region. `write` is where the loader stores bytes (the data-bus view);
 * `addr` is the address the module's code uses for it. They differ for code
 * on chips that see the same RAM at another address on the instruction bus
 * (ESP32-C3/S3), and on the host, where a dry run writes into host buffers. */
struct hr_mem {
    uint8_t *write;
    hr_addr_t addr;
    size_t size;
};

struct hr_port {
    void *ctx;
    /* Loader bookkeeping (small). Return NULL when out of memory. */
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr);
    /* A region of `size` bytes aligned to `align` (a power of two) for
     * sections of `kind`. Return 0 on success. The contents may be garbage:
     * the loader writes every byte. */
    int (*region_alloc)(void *ctx, enum hr_region_kind kind, size_t size, size_t align,
                        struct hr_mem *out);
    void (*region_free)(void *ctx, enum hr_region_kind kind, const struct hr_mem *mem);
    /* Make bytes written through `mem->write` visible to instruction fetch at
     * `mem->addr` (cache write-back, fence.i, ...). May be NULL. */
    void (*sync_code)(void *ctx, const struct hr_mem *mem);
};

#endif
