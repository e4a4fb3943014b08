/* The simulator's services, through QEMU's semihosting (SIMCALL). */
#ifndef SIM_H
#define SIM_H
#include <stddef.h>

/* Print to the host's stdout, printf-style (the loader core's formatter:
 * %s %c %d %u %x with l/ll/z). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sim_write(const char *buf, size_t len);
/* End QEMU with this exit status. */
__attribute__((noreturn)) void sim_exit(int status);

#endif
