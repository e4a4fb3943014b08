/* The port interface: every platform fact the loader core needs.
 * The core never allocates, syncs caches or logs on its own; it asks the
 * port. A posix simulated device, bare-metal RISC-V and ESP-IDF each supply
 * one of these. */
#ifndef HOTRELOAD_PORT_H
#define HOTRELOAD_PORT_H

#include <stddef.h>
#include <stdint.h>

/* A target address, as wide as the machine's own pointers: one word on a
 * 32-bit device, so that relocating computes in single registers there; 64
 * bits on the host, which dry-runs 64-bit targets as well as 32-bit ones. */
#if UINTPTR_MAX > 0xffffffffu
typedef uint64_t hr_addr_t;
#else
typedef uint32_t hr_addr_t;
#endif

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
    /* The most bytes one module's regions may take together (the memory the
     * device gives modules), checked before anything is allocated: a small
     * module can declare a huge .bss. 0: no limit but region_alloc's. */
    size_t max_total;
};

/* Module storage: a flash-like partition. Writes only program erased bytes
 * (bits go from 1 to 0); erase works on `erase_size` blocks. */
struct hr_storage {
    void *ctx;
    uint32_t size;        /* bytes */
    uint32_t erase_size;  /* erase granularity, a power of two */
    int (*read)(void *ctx, uint32_t off, void *buf, uint32_t len);   /* 0 on success */
    int (*write)(void *ctx, uint32_t off, const void *buf, uint32_t len);
    int (*erase)(void *ctx, uint32_t off, uint32_t len);
    /* Optional (NULL): a read-only view of [off, off+len), as esp_partition_mmap
     * gives; the loader then reads the image in place instead of a RAM copy. */
    const void *(*map)(void *ctx, uint32_t off, uint32_t len);
    void (*unmap)(void *ctx, const void *view, uint32_t len);
};

/* The layout the runtime's storage (agent/runtime/storage.c) gives every
 * partition: two slots, each half of it rounded down to the erase size, each
 * a header block of max(erase_size, 256) bytes and then the image. Public so
 * that a port which resizes a partition moves the second slot with it. */
static inline uint32_t hr_storage_header_size(uint32_t erase_size)
{
    return erase_size > 256 ? erase_size : 256;
}

static inline uint32_t hr_storage_slot_size(uint32_t size, uint32_t erase_size)
{
    return (size / 2) & ~(erase_size - 1);
}

/* The smallest partition holding two images of `image_max` bytes. */
static inline uint64_t hr_storage_size_for(uint64_t image_max, uint32_t erase_size)
{
    uint64_t slot = hr_storage_header_size(erase_size) + image_max + erase_size - 1;
    return 2 * (slot & ~(uint64_t)(erase_size - 1));
}

/* Decompression of uploads sent compressed (docs/serial.md): raw deflate
 * (RFC 1951) whose back-references reach at most HR_INFLATE_WINDOW bytes,
 * so that a device needs only that much window. The simulated device uses
 * zlib; a chip has an inflater in ROM (ESP32: miniz's tinfl). */
#define HR_INFLATE_WINDOW_BITS 12
#define HR_INFLATE_WINDOW (1u << HR_INFLATE_WINDOW_BITS)

struct hr_inflater {
    /* A new stream's state, or NULL when out of memory. */
    void *(*begin)(void);
    /* Decompress from in[0, *inlen) into out[0, *outlen); on return both
     * hold the bytes consumed and produced. 1: the stream ended (nothing
     * after it is consumed); 0: more may come; -1: not a valid stream, with
     * the reason in `why`. */
    int (*run)(void *state, const uint8_t *in, size_t *inlen, uint8_t *out, size_t *outlen,
               char *why, size_t whysize);
    void (*end)(void *state);
};

/* The platform around the runtime: one per port, a singleton. */
struct hr_platform {
    void *ctx;
    const struct hr_port *mem;           /* memory for modules (loader port) */
    uint64_t (*now_ms)(void *ctx);
    void (*sleep_ms)(void *ctx, uint32_t ms);
    /* One recursive lock around the runtime's state (server threads vs the
     * application's thread). No-ops on single-threaded ports. */
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    /* Run fn(arg); return 0, or non-zero when it trapped (fault, illegal
     * instruction, ...) with a description in `why`. */
    int (*guarded_call)(void *ctx, void (*fn)(void *), void *arg, char *why, size_t whysize);
    /* The running firmware's build-id. Returns its length (0: unknown). */
    size_t (*firmware_id)(void *ctx, const uint8_t **id);
    /* Optional: the firmware's own symbols, for modules that import by name
     * (e.g. dlsym on the simulated device). Modules pre-linked against the
     * firmware's addresses need none. Return 0 if found. */
    int (*resolve)(void *ctx, const char *name, hr_addr_t *addr);
    /* Cryptographically unpredictable bytes: the per-boot nonce that keeps a
     * request signed in an earlier boot from being replayed. 0, or non-zero
     * (after logging why) when there is no such source: the runtime then
     * accepts no signed request and HTTP servers refuse to start. A chip
     * port must read the hardware TRNG (ESP-IDF: esp_fill_random, with the
     * RF subsystem or the bootloader's entropy source enabled; others: the
     * chip's TRNG peripheral), never a clock, counter or RAM contents, which
     * an attacker who knows when the device booted can guess. The simulated
     * device uses getrandom, the rv32 QEMU port a virtio-rng device. */
    int (*random)(void *ctx, void *buf, size_t len);
    /* Open the storage named `name` (a partition label, a file). `image_max`
     * is the module's max_module_size: a port that can size its partitions
     * (the simulated device's files) makes room for two images of it
     * (hr_storage_size_for), growing a smaller one without losing its images;
     * a fixed partition ignores it, and the runtime logs that it holds less. */
    int (*storage_open)(void *ctx, const char *name, uint32_t image_max,
                        struct hr_storage *out);
    /* One line of log (no trailing newline). */
    void (*log)(void *ctx, const char *line);
    /* Optional (NULL): compressed uploads are then refused, and hosts are
     * not offered them. */
    const struct hr_inflater *inflate;
};

/* Each port provides its platform. */
const struct hr_platform *hr_platform_get(void);

#endif
