/* loader_exec_x86_64's port (exec_port.c): module memory where real code can
 * run, split like the ESP32-C3's. The text region is a memfd mapped twice,
 * written through one view and executed from another at a different address;
 * data regions are plain read-write mappings. Regions come from a 64 MiB
 * arena reserved either near the firmware (within 2 GiB of it and below
 * 2 GiB, so -fno-pic code works) or far from it (more than 4 GiB away, so
 * only the loader's veneers and GOT can reach the firmware). */
#ifndef EXEC_PORT_H
#define EXEC_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotreload/loader.h"

#define GiB (1ull << 30)

struct xport {
    const char *name;
    uint8_t *base;
    size_t used;
    long allocs, frees, regions, region_frees;
};

/* Reserve the port's arena (false if that fails); make_port's regions come from it. */
bool near_port(struct xport *x);
bool far_port(struct xport *x);
struct hr_port make_port(struct xport *x);

#endif
