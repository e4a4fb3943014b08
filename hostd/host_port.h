/* A port for running the loader core on the host: regions are host buffers,
 * their target addresses are chosen by the user (hotd relocate). */
#ifndef HOTD_HOST_PORT_H
#define HOTD_HOST_PORT_H

#include "hotreload/port.h"

struct host_port_ctx {
    /* Where each region starts on the target; 0 means "after the previous
     * data-side region" (rodata, data, sdata, bss follow each other). */
    hr_addr_t base[HR_REGION_COUNT];
    hr_addr_t data_next;
    hr_addr_t text_next;
};

void host_port_init(struct hr_port *port, struct host_port_ctx *ctx, hr_addr_t text,
                    hr_addr_t data);

#endif
