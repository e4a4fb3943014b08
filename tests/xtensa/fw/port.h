/* The test firmware's loader port: fixed pools from the linker script,
 * and the firmware's symbol table for modules that import by name. */
#ifndef FW_PORT_H
#define FW_PORT_H
#include <stddef.h>
#include <stdint.h>

#include "hotreload/loader.h"

extern const struct hr_port fw_port;

/* What the pools hold now (allocations not yet given back), and the most
 * bytes each has held at once. */
struct fw_usage {
    uint32_t blocks;   /* bookkeeping allocations */
    uint32_t regions;  /* code and data regions */
    uint32_t peak_heap, peak_text, peak_data;
};
struct fw_usage fw_usage(void);
/* Let `n` more region allocations succeed, then refuse one (a device out
 * of memory halfway through a load). */
void fw_fail_region_after(int n);

/* Import resolver: the firmware functions modules may call, by name. */
int fw_resolve(void *ctx, const char *name, hr_addr_t *addr);
/* A resolver that finds nothing: for modules bound ahead (hotd bind
 * --absolute), which must not ask. Counts the questions in *ctx. */
int fw_resolve_none(void *ctx, const char *name, hr_addr_t *addr);

#endif
