/* Shared by the ports whose firmware is a Linux process (host.c): the
 * simulated device and ESP-IDF's linux target. */
#ifndef HR_HOST_H
#define HR_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "hotreload/port.h"

/* Module memory near the firmware's code; code made read-execute by sync. */
extern const struct hr_port hr_host_mem;
/* fn(arg) with SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP caught. */
int hr_host_guarded_call(void *ctx, void (*fn)(void *), void *arg, char *why, size_t whysize);
/* The main program's GNU build-id. */
size_t hr_host_firmware_id(void *ctx, const uint8_t **id);
/* A symbol the program exports (dlsym; link it with -rdynamic). */
int hr_host_resolve(void *ctx, const char *name, hr_addr_t *addr);

#endif
