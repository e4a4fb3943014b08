/* The posix port (the simulated device): what it adds beyond the portable
 * API in hotreload.h. */
#ifndef HR_POSIX_H
#define HR_POSIX_H

#include <stdint.h>

#include "hotreload.h"
#include "hotreload/port.h"

/* A file standing for the partition `name`, with room for two images of
 * `image_max` bytes (0: the default limit; see storage_file.c). */
int hr_posix_storage_open(const char *name, uint32_t image_max, struct hr_storage *out);
/* Close a storage opened above (tests; the device keeps it open). */
void hr_posix_storage_close(struct hr_storage *dev);

/* The serial console on stdin/stdout (see console_posix.c and
 * docs/serial.md): a thread reads stdin and answers on stdout. Uploads use
 * the server config's key, opt-out, size limit and reload timeout (NULL:
 * the defaults, and uploads need a key the device then lacks). 0 on success. */
int hotreload_console_start_stdio(const hotreload_server_config_t *config);
/* The same console on 127.0.0.1:`port` (0: a free port, see
 * hr_posix_console_port), one client at a time, as QEMU serves a UART:
 * the line carries the replies and everything the firmware prints on stdout
 * and stderr (which still go where they went). Either this or the above. */
int hotreload_console_start_tcp(const hotreload_server_config_t *config, uint16_t port);
/* The TCP port of the console; 0 when it is not on TCP. */
uint16_t hr_posix_console_port(void);
/* Hold these around application output that must not be cut by a console
 * reply (whole lines written with one write() need not). */
void hr_posix_console_lock(void);
void hr_posix_console_unlock(void);

/* The TCP port the HTTP server listens on (the one the kernel chose when
 * the config asked for port 0); 0 when the server is not running. */
uint16_t hr_posix_server_port(void);

#endif
