/* What the bare-metal boards share (the files here, the console and
 * HTTP transports in agent/transport/board/) and what each board supplies
 * to it. Private to the boards; a firmware sees hotreload_board.h. */
#ifndef HR_BOARD_INT_H
#define HR_BOARD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "hotreload_board.h"

/* Each board's linker script brackets these. */
extern char __heap_start[], __heap_end[];
extern char __stack_bottom[], __stack_top[];
extern char __build_id_start[], __build_id_end[];

/* QEMU user networking's guest address, netmask and gateway. */
#define HR_BOARD_NET_ADDR "10.0.2.15"
#define HR_BOARD_NET_MASK "255.255.255.0"
#define HR_BOARD_NET_GATEWAY "10.0.2.2"

/* --- supplied by each board --- */

/* The console's UART: blocking write, and a byte received (-1: none). */
void hr_board_uart_write(const char *data, size_t len);
int hr_board_uart_getc(void);
/* Sleep (wfi) until hr_board_now_ms() reaches `deadline_ms` or the UART or
 * the network received something. */
void hr_board_idle_until(uint64_t deadline_ms);
/* Random bytes for the nonce and mbedTLS: 0, or -1 with `why` naming what
 * is missing (no device: the QEMU option to add). */
int hr_board_random(void *out, size_t len, const char **why);
/* The loader's port: small allocations (hr_board_alloc/free), module
 * regions and making written code visible to instruction fetch. */
struct hr_port;
extern const struct hr_port hr_board_mem;
/* Module storage: `name`'s partition (hr_board_flash_open for a flash that
 * reads as memory), 0 or -1. */
struct hr_storage;
int hr_board_storage_open(const char *name, struct hr_storage *out);

/* The guard around module constructors: a fault under it resumes at the
 * save with 1 instead of ending the run. The board's start code saves and
 * resumes (like setjmp and longjmp: what a callee must preserve, and the
 * stack pointer and return address); its fault handler, when a guard is
 * active, writes `why`, makes `prev` the active guard again and returns
 * from the fault into hr_board_guard_resume with the first argument
 * register holding `regs`. */
struct hr_board_guard {
    uint32_t regs[14];
    char *why;
    size_t whysize;
    struct hr_board_guard *prev;
};
extern struct hr_board_guard *volatile hr_board_guard_active;
__attribute__((returns_twice)) int hr_board_guard_save(uint32_t regs[14]);
void hr_board_guard_resume(void);

/* --- shared (board.c, heap.c, net/netif.c) --- */

/* The network, on the board's Ethernet driver (net/eth.h): start the
 * device and lwIP once (0, or < 0 with `why` filled); hand received frames
 * to lwIP (at most 16: a poll's work is bounded) and run its timers,
 * returning how many came. */
int hr_board_net_start(char *why, size_t whysize);
int hr_board_net_pump(void);

/* The heap pool between __heap_start and __heap_end. */
void *hr_board_heap_alloc(size_t size, size_t align);
void hr_board_heap_free(void *p);

/* Set while the console or an HTTP request is served: a command waiting
 * for the application's safe point is then at it (board.c's sleep_ms). */
extern int hr_board_at_safe_point;

/* The loader's small allocations, from the heap (for hr_board_mem). */
void *hr_board_alloc(void *ctx, size_t size);
void hr_board_free(void *ctx, void *p);

/* `name`'s partition of a flash that reads as memory from `base`: `parts`
 * windows of HR_BOARD_PART_SIZE bytes, handed out in the order names are
 * first opened, read and mapped in place, written and erased by the
 * board's functions (which get the partition's address as their ctx and
 * check the range with hr_board_part_range). 0, or -1 when no partition is
 * left or the name has 32 bytes or more. */
#define HR_BOARD_PARTS_MAX 16
#define HR_BOARD_PART_SIZE 0x200000u
int hr_board_flash_open(const char *name, struct hr_storage *out, uintptr_t base,
                        unsigned parts, uint32_t erase_size,
                        int (*write)(void *, uint32_t, const void *, uint32_t),
                        int (*erase)(void *, uint32_t, uint32_t));
int hr_board_part_range(uint32_t off, uint32_t len);

#endif
